/**
 * An extraction worker thread (started by extract-pool.ts): runs any number of jobs at once
 * (extract-jobs.ts), each writing only into the folder it was given, and answers each job
 * exactly once. Stream bytes arrive as transferred buffers and are acknowledged once the
 * job's decoders took them.
 */
import { parentPort } from 'node:worker_threads';
import { extractFile, StreamJob } from './extract-jobs.js';
import { toWire, type ToParent, type ToWorker, type Written } from './extract-protocol.js';

const port = parentPort!;
const streams = new Map<number, StreamJob>();
const cancels = new Map<number, AbortController>();

function settle(id: number, work: Promise<Written>): void {
  work.then(
    (written) => port.postMessage({ type: 'done', id, written } satisfies ToParent),
    (err: unknown) => port.postMessage({ type: 'error', id, error: toWire(err) } satisfies ToParent),
  ).finally(() => {
    streams.delete(id);
    cancels.delete(id);
  });
}

port.on('message', (m: ToWorker) => {
  switch (m.type) {
    case 'file': {
      const abort = new AbortController();
      cancels.set(m.id, abort);
      settle(m.id, extractFile(m.spec, m.tarball, abort.signal));
      return;
    }
    case 'stream': {
      const job = new StreamJob(m.spec);
      streams.set(m.id, job);
      settle(m.id, job.result);
      return;
    }
    case 'chunk': {
      const job = streams.get(m.id);
      const ack = (): void => port.postMessage({ type: 'ack', id: m.id, bytes: m.length } satisfies ToParent);
      if (!job || job.push(Buffer.from(m.buffer, 0, m.length), m.received)) ack();
      else job.onDrain(once(ack));
      return;
    }
    case 'end':
      streams.get(m.id)?.end(m.size, m.rest);
      return;
    case 'cancel':
      streams.get(m.id)?.cancel(new Error(m.reason));
      cancels.get(m.id)?.abort(new Error(m.reason));
  }
});

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (!done) fn();
    done = true;
  };
}
