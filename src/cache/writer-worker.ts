// Worker-thread entry of EntryWriter (writer.ts): writes each [file, data] it is sent, atomically, in order;
// answers 'done' once it has written everything sent before it.
import { parentPort } from 'node:worker_threads';
import { writeFileAtomic } from '../files.js';

parentPort?.on('message', (m: [string, string] | 'done') => {
  if (m === 'done') parentPort!.postMessage('done');
  else writeFileAtomic(m[0], m[1]);
});
