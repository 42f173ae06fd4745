/**
 * The end of a large cold fetch: decoded chunks go, in 1 MiB buffers (transferred, not copied
 * again), to a worker thread that validates them and writes them into the temp file
 * (shape-worker.ts). This thread only receives and decodes, the other core validates and
 * writes. The size limits are checked here, before a chunk is handed over. At most 16 MiB is in
 * flight (backpressure to the decoder, resumed below 4 MiB, and acknowledgements come in
 * batches: few thread wake-ups, which cost most on a busy machine). A worker that fails to
 * start, throws or exits early is a CG_WORKER_FAILED error (the code of the download hashing
 * thread's failures too), never a hang; the stream ends only after the thread has stopped,
 * since it writes to a file descriptor the caller then closes.
 */
import { Writable } from 'node:stream';
import type { Worker } from 'node:worker_threads';
import { siblingModule, startModuleWorker } from '../util/module-worker.js';
import { GatewayError } from '../errors/gateway-error.js';
import { maskUrl } from '../redact/safe-url.js';
import { DecodedSizeCheck } from './body-guard.js';
import { invalidRepodata } from './errors.js';
import type { JsonShapeSummary } from './json-shape.js';
import type { RepodataLimits } from './limits.js';
import type { ToParent, ToWorker } from './shape-protocol.js';

const BUFFER_BYTES = 1 << 20;
const MAX_IN_FLIGHT = 16 * BUFFER_BYTES;
/** A write that waited resumes only below this: one long run of decoding per wait, not one per chunk. */
const RESUME_BELOW = 4 * BUFFER_BYTES;

let workerOverride: URL | undefined;
/**
 * A worker with work outstanding (chunks not acknowledged, or the end not answered) that sends
 * nothing for this long is taken as hung: CG_WORKER_FAILED, and it is terminated. A chunk takes
 * about a millisecond; the margin is for a disk that stalls writes.
 */
const DEFAULT_WATCHDOG_MS = 60_000;
let watchdogMs = DEFAULT_WATCHDOG_MS;

/**
 * Tests: run this module as the worker instead of shape-worker (e.g. one that crashes or hangs),
 * with another watchdog time; undefined restores both.
 */
export function setShapeWorkerForTesting(url: URL | undefined, options: { watchdogMs?: number } = {}): void {
  workerOverride = url;
  watchdogMs = url ? (options.watchdogMs ?? DEFAULT_WATCHDOG_MS) : DEFAULT_WATCHDOG_MS;
}

/** shape-worker beside this module (`.js` from dist/, `.ts` from source), or the test's stand-in. */
function workerTarget(): string {
  return (workerOverride ?? siblingModule(import.meta.url, 'shape-worker')).href;
}

function startWorker(target: string): Worker {
  return startModuleWorker(new URL(target), { name: 'conda-gateway-repodata-shape', resourceLimits: { maxOldGenerationSizeMb: 256 } });
}

/** A worker started ahead of need (prestartShapeWorker), not yet given a body. */
interface Spare {
  worker: Worker;
  target: string;
  drop: () => void;
  timer: NodeJS.Timeout;
}
let spare: Spare | undefined;
/** An unused spare is stopped after this long. */
const SPARE_IDLE_MS = 30_000;

/**
 * Start the thread of a large cold fetch before its response arrives, so its start-up (~30-80 ms:
 * a thread, its modules, the validator's compilation) overlaps the request instead of delaying
 * the first chunks. At most one spare at a time, so a guess that turns out wrong (a small body)
 * costs one thread start; it keeps no process alive and stops when unused for 30 s.
 */
export function prestartShapeWorker(): void {
  if (spare) return;
  const target = workerTarget();
  const worker = startWorker(target);
  worker.unref();
  const drop = (): void => {
    if (spare?.worker !== worker) return;
    clearTimeout(spare.timer);
    spare = undefined;
  };
  worker.on('error', drop);
  worker.once('exit', drop);
  const timer = setTimeout(() => {
    drop();
    void worker.terminate();
  }, SPARE_IDLE_MS);
  timer.unref();
  spare = { worker, target, drop, timer };
}

/** The spare when it runs the wanted module (and is still alive: its events would have dropped it), else a new worker. */
function takeWorker(): Worker {
  const target = workerTarget();
  const s = spare;
  spare = undefined;
  if (s) {
    clearTimeout(s.timer);
    s.worker.off('error', s.drop);
    s.worker.off('exit', s.drop);
    if (s.target === target) {
      s.worker.ref();
      return s.worker;
    }
    void s.worker.terminate();
  }
  return startWorker(target);
}

function workerFailed(url: string, detail: string, cause?: unknown): GatewayError {
  return new GatewayError(`Validating repodata.json from ${maskUrl(url)} failed: the worker thread ${detail}`, {
    code: 'CG_WORKER_FAILED', url, cause,
    hint: 'Nothing was cached. Run the command again; if it persists, report it with the output of --verbose.',
  });
}

export class ShapeWorkerSink extends Writable {
  /** Set when the body was complete and valid. */
  summary: JsonShapeSummary | undefined;
  /** Resolves once the worker thread has stopped (after success or failure). */
  readonly stopped: Promise<void>;
  readonly #worker: Worker;
  readonly #size: DecodedSizeCheck;
  #buffer: Buffer | undefined;
  #fill = 0;
  readonly #spare: ArrayBuffer[] = [];
  /** Buffers handed to the decoder by takeBuffer(), not yet come back in a write. */
  readonly #lent = new Set<ArrayBuffer>();
  #inFlight = 0;
  /** A write or the final flush waiting for the worker. */
  #waiting: ((err?: Error) => void) | undefined;
  #final = false;
  /** Armed while the worker owes an answer (see DEFAULT_WATCHDOG_MS). */
  #watchdog: NodeJS.Timeout | undefined;
  #settled = false;
  #failure: Error | undefined;

  constructor(readonly url: string, fd: number, limits: RepodataLimits, wireBytes?: () => number) {
    super({ highWaterMark: BUFFER_BYTES });
    this.#size = new DecodedSizeCheck(url, limits, wireBytes);
    this.#worker = takeWorker();
    this.stopped = new Promise((resolve) => this.#worker.once('exit', () => resolve()));
    this.#worker.on('message', (m: ToParent) => this.#message(m));
    this.#worker.on('error', (err) => this.#fail(workerFailed(url, `failed: ${err.message}`, err)));
    this.#worker.on('exit', (code) => this.#fail(workerFailed(url, `stopped early (exit code ${code})`)));
    this.#post({ type: 'open', fd, maxDepth: limits.maxDepth });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    if (this.#failure) return done(this.#failure);
    try {
      this.#size.add(chunk.length);
    } catch (err) {
      return done(err as Error);
    }
    const own = chunk.byteOffset === 0 && this.#lent.delete(chunk.buffer as ArrayBuffer);
    if (own) {
      // A buffer the decoder filled for us: handed over as it is.
      if (this.#fill > 0) this.#send();
      this.#buffer = chunk;
      this.#fill = chunk.length;
      this.#send();
    }
    for (let at = own ? chunk.length : 0; at < chunk.length;) {
      const buffer = (this.#buffer ??= this.#take());
      const n = chunk.copy(buffer, this.#fill, at);
      this.#fill += n;
      at += n;
      if (this.#fill === buffer.length) this.#send();
    }
    if (this.#inFlight <= MAX_IN_FLIGHT) return done();
    this.#waiting = done;
  }

  override _final(done: (err?: Error | null) => void): void {
    if (this.#failure) return done(this.#failure);
    if (this.#fill > 0) this.#send();
    this.#final = true;
    this.#waiting = done;
    this.#post({ type: 'end' });
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.#settled = true;
    clearTimeout(this.#watchdog);
    void this.#worker.terminate().then(() => done(err), () => done(err));
  }

  /** A 1 MiB buffer for the decoder to decode into and write back here (recycled after the worker is done with it). */
  readonly takeBuffer = (): Buffer => {
    const buffer = this.#take();
    this.#lent.add(buffer.buffer as ArrayBuffer);
    return buffer;
  };

  #take(): Buffer {
    const spare = this.#spare.pop();
    return spare ? Buffer.from(spare) : Buffer.allocUnsafeSlow(BUFFER_BYTES);
  }

  #send(): void {
    const buffer = this.#buffer!.buffer as ArrayBuffer;
    this.#inFlight += this.#fill;
    this.#post({ type: 'chunk', buffer, length: this.#fill }, [buffer]);
    this.#buffer = undefined;
    this.#fill = 0;
  }

  #post(message: ToWorker, transfer: ArrayBuffer[] = []): void {
    this.#worker.postMessage(message, transfer);
    if (message.type !== 'open') this.#armWatchdog();
  }

  /** (Re)start the watchdog while an answer is owed, else stop it. */
  #armWatchdog(): void {
    clearTimeout(this.#watchdog);
    this.#watchdog = undefined;
    if (this.#settled || (this.#inFlight === 0 && !this.#final)) return;
    const ms = watchdogMs;
    this.#watchdog = setTimeout(() => {
      this.#fail(workerFailed(this.url, `stopped responding (no answer in ${ms} ms)`));
      void this.#worker.terminate();
    }, ms);
    this.#watchdog.unref();
  }

  #message(m: ToParent): void {
    if (this.#settled) return;
    if (m.type === 'ack') {
      this.#inFlight -= m.length;
      for (const buffer of m.buffers) if (this.#spare.length < 24) this.#spare.push(buffer);
      this.#armWatchdog();
      if (!this.#final && this.#inFlight <= RESUME_BELOW) this.#release();
    } else if (m.type === 'done') {
      this.#settled = true;
      clearTimeout(this.#watchdog);
      this.summary = { records: m.records, keys: m.keys };
      this.#release();
    } else if (m.kind === 'shape') {
      this.#fail(invalidRepodata('repodata.json', this.url, m.message));
    } else {
      this.#fail(Object.assign(new Error(m.message), { code: m.code, errno: m.errno, syscall: m.syscall }));
    }
  }

  #release(err?: Error): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.(err);
  }

  /** The first failure ends the stream: the write or flush waiting gets it, else the stream is destroyed with it. */
  #fail(err: Error): void {
    if (this.#settled) return;
    this.#settled = true;
    clearTimeout(this.#watchdog);
    this.#failure = err;
    if (this.#waiting) this.#release(err);
    else this.destroy(err);
  }
}
