// Writes cache entries on a worker thread while the analysis goes on. A first run on temporal writes ~1,300
// entries (~40 MB); written on the main thread, the file-system calls held the analysis up by 0.4-1.0 s on this
// VM (an async writer helps nothing: the analysis never yields to the event loop until it is done). The first
// SYNC_WRITES entries of a run are written in place (a pre-commit run writes a handful; a worker costs ~30 ms to
// start). Writes of the same file land in the order they were asked for. A write that fails only costs speed.
import { Worker } from 'node:worker_threads';
import { writeFileAtomic } from '../files.js';

const SYNC_WRITES = 64;

export class EntryWriter {
  private count = 0;
  private worker: Worker | null = null;
  private broken = false;
  /** Stopped (stop): nothing more is written. */
  private stopped = false;
  // '../cache/': the same file from src/cache/ and from the bundle in src/cli/ (scripts/bundle.mjs).
  private readonly workerUrl = new URL('../cache/writer-worker.js', import.meta.url);

  add(file: string, data: string): void {
    if (this.stopped) return;
    this.count++;
    // Under a TypeScript runner (tests) the worker file does not exist as JavaScript: write in place.
    if (this.count <= SYNC_WRITES || this.broken || import.meta.url.endsWith('.ts')) {
      writeFileAtomic(file, data);
      return;
    }
    if (!this.worker) {
      // No node flags of the parent (--input-type, --cpu-prof...): the writer needs none, and some break a worker.
      this.worker = new Worker(this.workerUrl, { execArgv: [] });
      // Never what keeps the process alive: a run that fails before done() must still exit (entries it did not
      // write cost the next run only speed; each one that was written is whole).
      this.worker.unref();
      this.worker.on('error', () => {
        // Entries it had not written yet are missing from the cache: the next run recomputes them.
        this.broken = true;
        this.worker = null;
      });
    }
    this.worker.postMessage([file, data]);
  }

  /** Stops writing: entries not written yet are not (the worker is ended; an entry is written whole or not at all). */
  async stop(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    this.stopped = true;
    if (w) await w.terminate();
  }

  /** Resolves once every entry asked for has been written (or has failed). */
  async done(): Promise<void> {
    const w = this.worker;
    if (!w) return;
    this.worker = null;
    w.ref(); // waiting for its answer must keep the process alive
    await new Promise<void>((resolve) => {
      w.once('message', () => resolve());
      w.once('error', () => resolve());
      w.once('exit', () => resolve());
      w.postMessage('done');
    });
    await w.terminate();
  }
}
