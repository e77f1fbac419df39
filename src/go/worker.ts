// Worker-thread entry: parses and lowers batches of Go files, returning plain IR (structured-cloned).
import { parentPort } from 'node:worker_threads';
import { lowerGoFile, type LowerInput } from './lower.js';
import type { FileIR } from './ir.js';

export type WorkerReply = Array<{ ok: true; ir: FileIR } | { ok: false; path: string; message: string }>;

parentPort?.on('message', (batch: LowerInput[]) => {
  const out: WorkerReply = batch.map((input) => {
    try {
      return { ok: true, ir: lowerGoFile(input) };
    } catch (e) {
      return { ok: false, path: input.path, message: (e as Error).message };
    }
  });
  parentPort!.postMessage(out);
});
