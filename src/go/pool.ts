// Parses and lowers many files: in worker threads when there are enough bytes to pay for them, in-process
// otherwise. One pool serves every widening round of the parse stage, so workers start once and their compiled
// parser code stays warm (a fresh worker runs the parser cold: about half speed on its first megabytes).
import { Worker } from 'node:worker_threads';
import type { FileIR } from './ir.js';
import type { LowerInput } from './lower.js';
import type { LowerResult, WorkerReply } from './worker.js';

export interface LowerOutcome {
  irs: FileIR[];
  failures: Array<{ path: string; message: string }>;
}

/** Below this many bytes of Go to parse, one thread is faster than starting workers. */
const WORKER_MIN_BYTES = 1_500_000;
const BATCH_BYTES = 250_000;
/**
 * tree-sitter's Node binding does not give a tree's native memory back when the tree is collected (measured:
 * ~100 KB per parsed file, ~400 KB once its nodes were walked). A worker is therefore replaced after it has
 * given this much source to tree-sitter (only files with syntax errors go there), which bounds the resident
 * memory of a cold run on any tree size. Files the hand-written parser reads cost no native memory, and replacing
 * a worker throws its compiled parser code away, so they do not count.
 */
const WORKER_RECYCLE_BYTES = 1_500_000;

/**
 * In-process by default. With the hand-written parser, a worker's output costs as much to hand over (JSON.parse on
 * the main thread) as a third of lowering it in place, and fresh workers run the parser cold: on 2 cores, lowering
 * temporal's 20 MB took 2.3-2.6 s in-process and 2.5-4.8 s on two workers (bench/RESULTS.md). Threads still help
 * with many cores and very large trees (`--workers N`).
 */
export function defaultWorkers(): number {
  return 0;
}

interface Lane {
  worker: Worker | null;
  treeSitterBytes: number;
  /** A crashed worker: this lane finishes in-process. */
  broken: boolean;
}

export class LowerPool {
  private readonly lanes: Lane[] = [];
  // '../go/': the same file from src/go/ and from the bundle in src/cli/ (scripts/bundle.mjs).
  private readonly workerUrl = new URL('../go/worker.js', import.meta.url);

  constructor(private readonly workers: number) {}

  async lower(inputs: LowerInput[]): Promise<LowerOutcome> {
    const bytes = inputs.reduce((n, i) => n + i.source.length, 0);
    // Under a TypeScript runner (tests) the worker file does not exist as JavaScript: stay in-process.
    const canThread = this.workers > 0 && (bytes >= WORKER_MIN_BYTES || this.lanes.length > 0) && !import.meta.url.endsWith('.ts');
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
    while (this.lanes.length < Math.min(this.workers, batches.length)) this.lanes.push({ worker: null, treeSitterBytes: 0, broken: false });
    const out: LowerOutcome = { irs: [], failures: [] };
    let next = 0;
    await Promise.all(this.lanes.map((lane) => this.runLane(lane, batches, () => next++, out)));
    return out;
  }

  async close(): Promise<void> {
    await Promise.all(this.lanes.map((l) => l.worker?.terminate()));
    this.lanes.length = 0;
  }

  /** One lane: takes batches until none are left, replacing its worker past WORKER_RECYCLE_BYTES of tree-sitter input. */
  private async runLane(lane: Lane, batches: LowerInput[][], take: () => number, out: LowerOutcome): Promise<void> {
    for (let i = take(); i < batches.length; i = take()) {
      const batch = batches[i]!;
      let reply: WorkerReply | null = null;
      if (!lane.broken) {
        if (lane.worker && lane.treeSitterBytes >= WORKER_RECYCLE_BYTES) {
          await lane.worker.terminate();
          lane.worker = null;
        }
        if (!lane.worker) {
          lane.worker = new Worker(this.workerUrl);
          lane.worker.unref();
          lane.treeSitterBytes = 0;
        }
        try {
          reply = await ask(lane.worker, batch);
          lane.treeSitterBytes = reply.treeSitterBytes;
        } catch {
          lane.broken = true; // a crashed worker: finish this lane's share in-process, file by file
          lane.worker = null;
        }
      }
      if (reply) {
        for (const r of JSON.parse(reply.results) as LowerResult[]) {
          if (r.ok) out.irs.push(r.ir);
          else out.failures.push({ path: r.path, message: r.message });
        }
      } else {
        const local = await lowerInProcess(batch);
        out.irs.push(...local.irs);
        out.failures.push(...local.failures);
      }
    }
  }
}

function ask(worker: Worker, batch: LowerInput[]): Promise<WorkerReply> {
  return new Promise<WorkerReply>((resolve, reject) => {
    const onMessage = (r: WorkerReply): void => {
      worker.off('error', onError);
      resolve(r);
    };
    const onError = (e: unknown): void => {
      worker.off('message', onMessage);
      reject(e);
    };
    worker.once('message', onMessage);
    worker.once('error', onError);
    worker.postMessage(batch);
  });
}

/**
 * Files lowered in-process between two turns of the event loop: work started beside the lowering (the Postgres
 * parser's WASM compilation, whose steps run on the main thread's task queue) goes on meanwhile.
 */
const YIELD_EVERY_FILES = 32;

async function lowerInProcess(inputs: LowerInput[]): Promise<LowerOutcome> {
  const { lowerGoFile } = await import('./lower.js');
  const out: LowerOutcome = { irs: [], failures: [] };
  for (const [n, i] of inputs.entries()) {
    if (n > 0 && n % YIELD_EVERY_FILES === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    try {
      out.irs.push(lowerGoFile(i));
    } catch (e) {
      out.failures.push({ path: i.path, message: (e as Error).message });
    }
  }
  return out;
}
