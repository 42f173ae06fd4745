/**
 * The process's hashing thread (see hash-worker.ts): one, beside the main thread (receive)
 * and the thread pool (writes), which fills 2 cores. Each file's sha256/md5 state lives there
 * and updates stay in order. The thread is unref'd while idle (it never keeps the process
 * alive); a thread that dies rejects everything it was asked with CG_WORKER_FAILED, never
 * leaving a caller waiting, and the next file gets a fresh thread.
 */
import type { FileHandle } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { CondaError } from '../errors/classes.js';
import { HASH_WORKER_SOURCE } from './hash-worker.js';
import type { Digest, Hasher } from './hasher.js';

interface Reply {
  seq: number;
  value?: unknown;
  error?: { message: string; code?: string };
}

function workerFailed(reason: string, cause?: unknown): CondaError {
  return new CondaError(`The hashing worker thread failed: ${reason}`, { code: 'CG_WORKER_FAILED', cause });
}

class HashThread {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (reply: Reply) => void; reject: (err: Error) => void }>();
  #seq = 0;
  #dead: CondaError | undefined;

  constructor() {
    this.#worker = new Worker(HASH_WORKER_SOURCE, { eval: true, execArgv: [], name: 'conda-gateway-hash' });
    this.#worker.unref();
    this.#worker.on('message', (reply: Reply) => this.#answer(reply));
    const die = (err: CondaError): void => {
      if (this.#dead) return;
      this.#dead = err;
      for (const pending of this.#pending.values()) pending.reject(err);
      this.#pending.clear();
    };
    this.#worker.on('error', (err) => die(workerFailed(err.message, err)));
    this.#worker.on('exit', (code) => die(workerFailed(`it exited with code ${code}`)));
  }

  get alive(): boolean {
    return !this.#dead;
  }

  /** Send one request; the reply comes back whole, or the thread's death rejects. */
  send(message: Record<string, unknown>): Promise<Reply> {
    if (this.#dead) return Promise.reject(this.#dead);
    const seq = ++this.#seq;
    // Referenced only while someone waits for an answer.
    if (this.#pending.size === 0) this.#worker.ref();
    return new Promise<Reply>((resolve, reject) => {
      this.#pending.set(seq, { resolve, reject });
      this.#worker.postMessage({ ...message, seq });
    });
  }

  async call<T>(message: Record<string, unknown>): Promise<T> {
    return valueOf<T>(await this.send(message));
  }

  #answer(reply: Reply): void {
    const pending = this.#pending.get(reply.seq);
    if (!pending) return;
    this.#pending.delete(reply.seq);
    if (this.#pending.size === 0) this.#worker.unref();
    pending.resolve(reply);
  }

  /** Tests only: make the thread die as a crash would. */
  crash(): void {
    this.#worker.postMessage({ op: 'crash', seq: 0 });
  }
}

function valueOf<T>(reply: Reply): T {
  if (reply.error) throw workerFailed(reply.error.message, Object.assign(new Error(reply.error.message), { code: reply.error.code }));
  return reply.value as T;
}

const RANGE_STEP = 1 << 20;
let current: HashThread | undefined;
let nextJobId = 0;

/** The live hashing thread, started (again) when needed. */
function hashThread(): HashThread {
  if (!current?.alive) current = new HashThread();
  return current;
}

let jobsOpened = 0;

/** Tests only: how many files have been hashed on a hashing thread so far. */
export function hashThreadJobsForTest(): number {
  return jobsOpened;
}

/** Tests only: make every hashing thread die as a crash would. */
export function crashHashThreadsForTest(): void {
  current?.crash();
}

/**
 * One file's running hashes on the hashing thread. Ranges are posted without waiting (the
 * thread answers in order, so the digest comes after every range before it); the first
 * failure is kept and thrown by `digest()`.
 */
export class ThreadHasher implements Hasher {
  readonly #thread: HashThread;
  readonly #id = ++nextJobId;
  #failure: unknown;
  #open = true;
  #range: { fd: number; position: number; length: number } | undefined;

  constructor(withMd5: boolean) {
    this.#thread = hashThread();
    jobsOpened++;
    this.#post({ op: 'open', id: this.#id, md5: withMd5 });
  }

  writing(): void {}

  written(fd: number, position: number, length: number): void {
    // Contiguous ranges are sent in steps of at least 1 MiB (fewer messages each way).
    if (this.#range && this.#range.fd === fd && this.#range.position + this.#range.length === position) {
      this.#range.length += length;
    } else {
      this.#flush();
      this.#range = { fd, position, length };
    }
    if (this.#range.length >= RANGE_STEP) this.#flush();
  }

  #flush(): void {
    const range = this.#range;
    this.#range = undefined;
    if (range && range.length > 0) this.#post({ op: 'range', id: this.#id, ...range });
  }

  async prefix(handle: FileHandle, length: number): Promise<void> {
    if (length > 0) await this.#thread.call({ op: 'range', id: this.#id, fd: handle.fd, position: 0, length });
  }

  async digest(): Promise<Digest> {
    this.#flush();
    this.#open = false;
    const digest = await this.#thread.call<Digest>({ op: 'digest', id: this.#id });
    if (this.#failure) throw this.#failure;
    return digest.md5 === undefined ? { sha256: digest.sha256, bytes: digest.bytes } : digest;
  }

  async drop(): Promise<void> {
    this.#range = undefined;
    if (!this.#open) return;
    this.#open = false;
    // Answered after every range posted before it: once it resolves, nothing reads the fd for us.
    await this.#thread.call({ op: 'drop', id: this.#id }).catch(() => undefined);
  }

  #post(message: Record<string, unknown>): void {
    this.#thread.call(message).catch((err: unknown) => {
      this.#failure ??= err;
    });
  }
}
