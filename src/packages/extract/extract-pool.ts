/**
 * The extraction worker threads: one per core (at most 4), started when the first package is
 * extracted and reused for the next ones, each taking any number of jobs (the least busy
 * gets the next one). All the per-byte work of extraction (decoding, tar parsing, file
 * writes) runs there, so extractions use every core and the main thread stays free for the
 * downloads. Workers are unref'd while idle: they never keep the process alive.
 *
 * A worker that fails to start, throws or exits fails every job it had with CG_WORKER_FAILED,
 * and only once the thread has stopped (its writes are synchronous, so none lands after the
 * caller removed the temp folder); the next job gets a fresh worker. Never a hang.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { siblingModule, startModuleWorker } from '../../util/module-worker.js';
import { CondaError } from '../../errors/classes.js';
import { fromWire, type JobSpec, type ToParent, type ToWorker, type Written } from './extract-protocol.js';

/** Workers at most: one per core, 1 to 4. */
export function extractWorkerCount(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

let workerOverride: URL | undefined;

/** Tests: run this module as the worker instead of extract-worker (e.g. one that crashes); undefined restores it. */
export function setExtractWorkerForTesting(url: URL | undefined): void {
  workerOverride = url;
  pool.length = 0;
}

/** extract-worker beside this module (`.js` from dist/, `.ts` from source), or the test's stand-in. */
function startThread(): Worker {
  return startModuleWorker(workerOverride ?? siblingModule(import.meta.url, 'extract-worker'), { name: 'conda-gateway-extract' });
}

function workerFailed(fileName: string, detail: string, cause?: unknown): CondaError {
  return new CondaError(`Extracting ${fileName} failed: the extraction worker thread ${detail}`, {
    code: 'CG_WORKER_FAILED', cause, details: { package: fileName },
  });
}

interface Pending {
  fileName: string;
  resolve: (w: Written) => void;
  reject: (err: Error) => void;
  onAck?: (bytes: number) => void;
}

class ExtractThread {
  readonly #worker = startThread();
  readonly #jobs = new Map<number, Pending>();
  #failure: { detail: string; cause?: unknown } | undefined;
  dead = false;

  constructor() {
    this.#worker.unref();
    this.#worker.on('message', (m: ToParent) => this.#message(m));
    this.#worker.on('error', (err) => {
      this.#failure ??= { detail: `failed: ${err.message}`, cause: err };
    });
    // Jobs fail only once the thread has stopped: nothing of theirs is written after that.
    this.#worker.on('exit', (code) => {
      this.dead = true;
      const failure = this.#failure ?? { detail: `stopped (exit code ${code})` };
      for (const job of this.#jobs.values()) job.reject(workerFailed(job.fileName, failure.detail, failure.cause));
      this.#jobs.clear();
    });
  }

  get busy(): number {
    return this.#jobs.size;
  }

  run(id: number, job: Pending, message: ToWorker): Promise<Written> {
    const result = new Promise<Written>((resolve, reject) => {
      this.#jobs.set(id, { ...job, resolve, reject });
    });
    // Awaited later (a stream's result only once the download is done): never an unhandled rejection meanwhile.
    result.catch(() => undefined);
    if (this.#jobs.size === 1) this.#worker.ref();
    this.post(message);
    return result;
  }

  post(message: ToWorker, transfer: ArrayBuffer[] = []): void {
    if (!this.dead) this.#worker.postMessage(message, transfer);
  }

  #message(m: ToParent): void {
    const job = this.#jobs.get(m.id);
    if (!job) return;
    if (m.type === 'ack') return job.onAck?.(m.bytes);
    this.#jobs.delete(m.id);
    if (this.#jobs.size === 0) this.#worker.unref();
    if (m.type === 'done') job.resolve(m.written);
    else job.reject(fromWire(m.error));
  }
}

const pool: ExtractThread[] = [];
let nextId = 0;

/** The least busy live worker; a new one while all are busy and the pool is not full. */
function pick(): ExtractThread {
  for (let i = pool.length - 1; i >= 0; i--) if (pool[i]!.dead) pool.splice(i, 1);
  const idle = pool.reduce<ExtractThread | undefined>((best, w) => (!best || w.busy < best.busy ? w : best), undefined);
  if (idle && (idle.busy === 0 || pool.length >= extractWorkerCount())) return idle;
  const fresh = new ExtractThread();
  pool.push(fresh);
  return fresh;
}

/** Extract a verified tarball into `spec.root` in a worker; the signal cancels it (the promise still waits for the worker). */
export function extractFileInWorker(spec: JobSpec, tarball: string, signal?: AbortSignal): Promise<Written> {
  const thread = pick();
  const id = ++nextId;
  const result = thread.run(id, { fileName: spec.fileName, resolve: () => undefined, reject: () => undefined }, { type: 'file', id, spec, tarball });
  if (signal) {
    const onAbort = (): void => thread.post({ type: 'cancel', id, reason: 'aborted' });
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    void result.finally(() => signal.removeEventListener('abort', onAbort)).catch(() => undefined);
  }
  return result;
}

/** A streamed job in a worker: archive bytes go in by `send` (transferred), in file order. */
export interface StreamHandle {
  readonly result: Promise<Written>;
  /** `batch`: a buffer of its own (allocUnsafeSlow), given away; its first `length` bytes are the data. */
  send(batch: Buffer, length: number, received: number): void;
  end(size: number, rest?: { tarball: string; from: number }): void;
  cancel(reason: string): void;
}

export function startStreamInWorker(spec: JobSpec, onAck: (bytes: number) => void): StreamHandle {
  const thread = pick();
  const id = ++nextId;
  const result = thread.run(id, { fileName: spec.fileName, resolve: () => undefined, reject: () => undefined, onAck }, { type: 'stream', id, spec });
  return {
    result,
    send: (batch, length, received) => {
      const buffer = batch.buffer as ArrayBuffer;
      thread.post({ type: 'chunk', id, buffer, length, received }, [buffer]);
    },
    end: (size, rest) => thread.post({ type: 'end', id, size, ...(rest ? { rest } : {}) }),
    cancel: (reason) => thread.post({ type: 'cancel', id, reason }),
  };
}
