/**
 * Extraction while the package downloads: download()'s `onChunk` feeds the archive bytes
 * into the same decoders and TarWriter as the file path, into a temp folder inside the
 * cache. Nothing here is trusted until the download has verified the tarball: only then
 * does `complete()` (called under the package lock) hand over the staged folder, and only
 * when the streamed bytes were exactly the verified file, 0 to its end, once.
 *
 * The queue between the download and the decoders is bounded: when extraction falls
 * behind, the bytes past the bound are not kept, and once the tarball is verified the
 * rest is read from it, from where the queue stopped ("spilled"). Any other trouble (a
 * restart from 0, a resume, a layout the zip streamer does not read, a refused entry)
 * fails the streamed extraction only: the temp folder is dropped and the caller extracts
 * the verified tarball as before, with the same rules and the same typed errors.
 *
 * The decoding and writing run in an extraction worker (extract-pool.ts): this side only
 * checks positions, hashes md5 when asked, and copies the chunks (valid only during the
 * call) into batches of STREAM_BATCH_BYTES that are transferred, not copied again.
 */
import { createHash, type Hash } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { PackageSpec } from '../types.js';
import { stemOf } from './cache-state.js';
import { startStreamInWorker, type StreamHandle } from './extract-pool.js';
import type { Written } from './extract-protocol.js';

/** Bytes held between the download and a worker that falls behind; past this, the rest comes from the file. */
export const STREAM_QUEUE_BYTES = 4 * 1024 * 1024;
/** Chunks are gathered into buffers of this size before they go to the worker (few messages, few wake-ups). */
export const STREAM_BATCH_BYTES = 256 * 1024;

export interface StreamExtractOptions {
  pkgsDir: string;
  pkg: PackageSpec;
  /** Compute the tarball's md5 from the streamed bytes (when the download does not). */
  md5?: boolean;
  nativeTools?: boolean;
  declaredSlackBytes?: number;
  signal?: AbortSignal;
  queueBytes?: number;
  /** Called once when the streamed extraction is handed over or dropped (frees the caller's stream slot). */
  onSettled?: () => void;
}

/** A package folder written into a temp folder, waiting for its record and rename. */
export interface Staged {
  outer: string;
  root: string;
  written: Written;
}

export class StreamedExtraction {
  readonly #opts: StreamExtractOptions;
  readonly #md5: Hash | undefined;
  readonly #queueBytes: number;
  readonly #ready: Promise<void>;
  #job: StreamHandle | undefined;
  #outer: string | undefined;
  #root: string | undefined;
  /** Batches filled before the worker job existed. */
  #early: Array<{ batch: Buffer; length: number; received: number }> = [];
  #batch: Buffer | undefined;
  #fill = 0;
  /** Bytes copied but not yet taken by the worker's decoders. */
  #queued = 0;
  /** The next file offset the bytes must continue from. */
  #next = 0;
  /** Offset where the queue stopped taking bytes (the rest is read from the verified file). */
  #spilledAt: number | undefined;
  #broken: string | undefined;
  #md5Hex: string | undefined;
  /** Why the streamed path gave up, when it did (the caller then extracts from the file). */
  failure: unknown;

  constructor(opts: StreamExtractOptions) {
    this.#opts = opts;
    this.#queueBytes = opts.queueBytes ?? STREAM_QUEUE_BYTES;
    this.#md5 = opts.md5 ? createHash('md5') : undefined;
    this.#ready = this.#start();
    this.#ready.catch((err: unknown) => this.#fail(err));
    opts.signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** download()'s onChunk: never throws, never blocks. */
  readonly onChunk = (chunk: Uint8Array, position: number): void => {
    if (this.#broken) return;
    if (position !== this.#next) return this.#break(position === 0 ? 'the download restarted from byte 0' : `bytes from ${position}, expected ${this.#next}`);
    this.#next += chunk.byteLength;
    this.#md5?.update(chunk);
    if (this.#spilledAt !== undefined) return;
    if (this.#queued + chunk.byteLength > this.#queueBytes) {
      this.#spilledAt = position;
      this.#flush();
      return;
    }
    this.#queued += chunk.byteLength;
    if (this.#batch && this.#fill + chunk.byteLength > this.#batch.length) this.#flush();
    this.#batch ??= Buffer.allocUnsafeSlow(Math.max(STREAM_BATCH_BYTES, chunk.byteLength));
    this.#batch.set(chunk, this.#fill);
    this.#fill += chunk.byteLength;
    if (this.#fill >= STREAM_BATCH_BYTES) this.#flush();
  };

  /** md5 of the streamed bytes, when they were the whole file (valid once complete() accepted them). */
  md5(): string | undefined {
    if (!this.#md5 || this.#broken) return undefined;
    this.#md5Hex ??= this.#md5.digest('hex');
    return this.#md5Hex;
  }

  /**
   * Under the package lock, after download() verified the tarball of `size` bytes at
   * `tarball`: the staged folder, or undefined when the caller must extract from the file.
   */
  async complete(tarball: string, size: number): Promise<Staged | undefined> {
    try {
      return await this.#complete(tarball, size);
    } finally {
      this.#settle();
    }
  }

  async #complete(tarball: string, size: number): Promise<Staged | undefined> {
    if (!this.#broken && this.#next !== size) this.#break(`streamed ${this.#next} of ${size} bytes`);
    this.#flush();
    await this.#ready.catch(() => undefined);
    if (this.#broken || !this.#job) {
      await this.discard();
      return undefined;
    }
    this.#job.end(size, this.#spilledAt === undefined ? undefined : { tarball, from: this.#spilledAt });
    try {
      const written = await this.#job.result;
      this.#opts.signal?.removeEventListener('abort', this.#onAbort);
      return { outer: this.#outer!, root: this.#root!, written };
    } catch (err) {
      this.#fail(err);
      await this.discard();
      return undefined;
    }
  }

  /** Drop everything streamed (the download failed, was reused, or the caller extracts from the file). Idempotent. */
  async discard(): Promise<void> {
    this.#opts.signal?.removeEventListener('abort', this.#onAbort);
    this.#broken ??= 'discarded';
    this.#batch = undefined;
    this.#early = [];
    await this.#ready.catch(() => undefined);
    this.#job?.cancel('streamed extraction discarded');
    // The worker answers only once it stopped writing: the folder is removed after that.
    await this.#job?.result.catch(() => undefined);
    if (this.#outer) await rm(this.#outer, { recursive: true, force: true }).catch(() => undefined);
    this.#settle();
  }

  /** Whether bytes were read back from the file because the queue was full (for reports). */
  get spilled(): boolean {
    return this.#spilledAt !== undefined;
  }

  #settle(): void {
    const done = this.#opts.onSettled;
    this.#opts.onSettled = undefined;
    done?.();
  }

  /** The batch so far, to the worker (or kept until the worker job exists). */
  #flush(): void {
    const batch = this.#batch;
    if (!batch || this.#fill === 0) return;
    const entry = { batch, length: this.#fill, received: this.#next };
    this.#batch = undefined;
    this.#fill = 0;
    if (this.#job) this.#job.send(entry.batch, entry.length, entry.received);
    else this.#early.push(entry);
  }

  readonly #onAbort = (): void => this.#break('aborted');

  #break(reason: string): void {
    this.#broken ??= reason;
    this.failure ??= new Error(reason);
    this.#job?.cancel(reason);
  }

  #fail(err: unknown): void {
    this.failure ??= err;
    this.#broken ??= err instanceof Error ? err.message : String(err);
    this.#job?.cancel(this.#broken);
  }

  async #start(): Promise<void> {
    const { pkgsDir, pkg } = this.#opts;
    const stem = stemOf(pkg.fileName);
    this.#outer = await mkdtemp(join(pkgsDir, `.${stem}.extract-`));
    this.#root = join(this.#outer, stem);
    await mkdir(this.#root);
    if (this.#broken) return;
    const spec = {
      fileName: pkg.fileName, root: this.#root, archiveBytes: pkg.size ?? 0,
      nativeTools: this.#opts.nativeTools, declaredSlackBytes: this.#opts.declaredSlackBytes,
    };
    this.#job = startStreamInWorker(spec, (bytes) => { this.#queued -= bytes; });
    for (const e of this.#early) this.#job.send(e.batch, e.length, e.received);
    this.#early = [];
  }
}
