// Parses and lowers many files, in worker threads when there are enough of them to pay for starting workers
// (each worker loads tree-sitter itself: ~40 ms), in-process otherwise.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { FileIR } from './ir.js';
import type { LowerInput } from './lower.js';
import type { WorkerReply } from './worker.js';

export interface LowerOutcome {
  irs: FileIR[];
  failures: Array<{ path: string; message: string }>;
}

/** Below this many bytes of Go to parse, one thread is faster than starting workers. */
const WORKER_MIN_BYTES = 1_500_000;
const BATCH_BYTES = 400_000;
/**
 * tree-sitter's Node binding does not give a tree's native memory back when the tree is collected (measured:
 * ~100 KB per parsed file, ~400 KB once its nodes were walked). A worker is therefore replaced after it has
 * parsed this much source, which bounds the resident memory of a cold run on any tree size.
 */
const WORKER_RECYCLE_BYTES = 1_500_000;

export function defaultWorkers(): number {
  return Math.max(0, Math.min(availableParallelism(), 4));
}

export async function lowerAll(inputs: LowerInput[], workers: number): Promise<LowerOutcome> {
  const bytes = inputs.reduce((n, i) => n + i.source.length, 0);
  const workerUrl = new URL('./worker.js', import.meta.url);
  // Under a TypeScript runner (tests) the worker file does not exist as JavaScript: stay in-process.
  const canThread = workers > 0 && bytes >= WORKER_MIN_BYTES && !import.meta.url.endsWith('.ts');
  if (!canThread) return lowerInProcess(inputs);
  const batches: LowerInput[][] = [];
  let cur: LowerInput[] = [];
  let curBytes = 0;
  // Largest first, so the last batches are small and the workers finish together.
  for (const i of [...inputs].sort((a, b) => b.source.length - a.source.length)) {
    cur.push(i);
    curBytes += i.source.length;
    if (curBytes >= BATCH_BYTES) {
      batches.push(cur);
      cur = [];
      curBytes = 0;
    }
  }
  if (cur.length) batches.push(cur);
  const n = Math.min(workers, batches.length);
  const out: LowerOutcome = { irs: [], failures: [] };
  let next = 0;
  await Promise.all(Array.from({ length: n }, () => runWorkerLane(workerUrl, batches, () => next++, out)));
  return out;
}

/** One lane of the pool: takes batches until none are left, replacing its worker every WORKER_RECYCLE_BYTES. */
async function runWorkerLane(workerUrl: URL, batches: LowerInput[][], take: () => number, out: LowerOutcome): Promise<void> {
  let w: Worker | null = null;
  let pending: { resolve: (r: WorkerReply) => void; reject: (e: unknown) => void } | null = null;
  let done = 0;
  let alive = true;
  const start = (): Worker => {
    const worker = new Worker(workerUrl);
    worker.on('message', (r: WorkerReply) => pending?.resolve(r));
    worker.on('error', (e) => pending?.reject(e));
    return worker;
  };
  try {
    for (let i = take(); i < batches.length; i = take()) {
      const batch = batches[i]!;
      let reply: WorkerReply | null = null;
      if (alive) {
        if (w && done >= WORKER_RECYCLE_BYTES) {
          await w.terminate();
          w = null;
          done = 0;
        }
        w ??= start();
        try {
          const worker = w;
          reply = await new Promise<WorkerReply>((resolve, reject) => {
            pending = { resolve, reject };
            worker.postMessage(batch);
          });
          done += batch.reduce((n, b) => n + b.source.length, 0);
        } catch {
          alive = false; // a crashed worker: finish this lane's share in-process, file by file
        }
      }
      if (reply) {
        for (const r of reply) {
          if (r.ok) out.irs.push(r.ir);
          else out.failures.push({ path: r.path, message: r.message });
        }
      } else {
        const local = await lowerInProcess(batch);
        out.irs.push(...local.irs);
        out.failures.push(...local.failures);
      }
    }
  } finally {
    if (w) await w.terminate();
  }
}

async function lowerInProcess(inputs: LowerInput[]): Promise<LowerOutcome> {
  const { lowerGoFile } = await import('./lower.js');
  const out: LowerOutcome = { irs: [], failures: [] };
  for (const i of inputs) {
    try {
      out.irs.push(lowerGoFile(i));
    } catch (e) {
      out.failures.push({ path: i.path, message: (e as Error).message });
    }
  }
  return out;
}
