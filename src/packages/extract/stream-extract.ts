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
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PackageSpec } from '../types.js';
import { bzip2Decompressor, chain, corrupt, formatOf, metered, wrapErrors, type ArchiveContext } from './archive.js';
import { ByteBudget, declaredSize } from './budget.js';
import { stemOf } from './cache-state.js';
import { TarWriter } from './tar-writer.js';
import { streamZip } from './zip-stream.js';
import { zstdDecompressor } from './zstd.js';

/** Bytes held between the download and a decoder that falls behind; past this, the rest comes from the file. */
export const STREAM_QUEUE_BYTES = 4 * 1024 * 1024;

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
  writer: TarWriter;
}

export class StreamedExtraction {
  readonly #opts: StreamExtractOptions;
  readonly #source = new PassThrough({ highWaterMark: 1 << 20 });
  readonly #budget: ByteBudget;
  readonly #md5: Hash | undefined;
  readonly #queueBytes: number;
  readonly #staged: Promise<Staged>;
  #outer: string | undefined;
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
    this.#budget = new ByteBudget(opts.pkg.size ?? 0, opts.declaredSlackBytes);
    // A destroyed source's error is for the decoders (and stays in `errored` for a late reader).
    this.#source.on('error', () => undefined);
    this.#staged = this.#run();
    this.#staged.catch((err: unknown) => this.#fail(err));
    opts.signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** download()'s onChunk: never throws, never blocks. */
  readonly onChunk = (chunk: Uint8Array, position: number): void => {
    if (this.#broken) return;
    if (position !== this.#next) return this.#break(position === 0 ? 'the download restarted from byte 0' : `bytes from ${position}, expected ${this.#next}`);
    this.#next += chunk.byteLength;
    this.#md5?.update(chunk);
    if (this.#opts.pkg.size === undefined) this.#budget.allowArchiveBytes(this.#next);
    if (this.#spilledAt !== undefined || this.#source.destroyed) return;
    if (this.#source.writableLength + this.#source.readableLength + chunk.byteLength > this.#queueBytes) {
      this.#spilledAt = position;
      return;
    }
    this.#source.write(Buffer.from(chunk));
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
    if (this.#broken) {
      await this.discard();
      return undefined;
    }
    if (this.#spilledAt === undefined) this.#source.end();
    else pipeline(createReadStream(tarball, { start: this.#spilledAt, highWaterMark: 1 << 20 }), this.#source).catch((err: unknown) => this.#fail(err));
    try {
      const staged = await this.#staged;
      this.#opts.signal?.removeEventListener('abort', this.#onAbort);
      return staged;
    } catch (err) {
      this.#fail(err);
      await this.discard();
      return undefined;
    }
  }

  /** Drop everything streamed (the download failed, was reused, or the caller extracts from the file). Idempotent. */
  async discard(): Promise<void> {
    this.#opts.signal?.removeEventListener('abort', this.#onAbort);
    if (!this.#source.destroyed) this.#source.destroy(new Error('streamed extraction discarded'));
    await this.#staged.catch(() => undefined);
    if (this.#outer) await rm(this.#outer, { recursive: true, force: true }).catch(() => undefined);
    this.#settle();
  }

  #settle(): void {
    const done = this.#opts.onSettled;
    this.#opts.onSettled = undefined;
    done?.();
  }

  /** Whether bytes were read back from the file because the queue was full (for reports). */
  get spilled(): boolean {
    return this.#spilledAt !== undefined;
  }

  readonly #onAbort = (): void => this.#break('aborted');

  #break(reason: string): void {
    this.#broken ??= reason;
    this.failure ??= new Error(reason);
    // With an error, so every decoder and reader downstream stops (a bare destroy would leave them waiting).
    if (!this.#source.destroyed) this.#source.destroy(new Error(reason));
  }

  #fail(err: unknown): void {
    this.failure ??= err;
    this.#broken ??= err instanceof Error ? err.message : String(err);
    if (!this.#source.destroyed) this.#source.destroy(err instanceof Error ? err : new Error(String(err)));
  }

  async #run(): Promise<Staged> {
    const { pkgsDir, pkg } = this.#opts;
    const stem = stemOf(pkg.fileName);
    const outer = await mkdtemp(join(pkgsDir, `.${stem}.extract-`));
    this.#outer = outer;
    const root = join(outer, stem);
    await mkdir(root);
    const ctx: ArchiveContext = { packageName: pkg.fileName, budget: this.#budget, nativeTools: this.#opts.nativeTools };
    const writer = new TarWriter(root, {
      packageName: pkg.fileName, budget: this.#budget,
      capture: { 'info/paths.json': (text) => { const d = declaredSize(text); if (d !== undefined) this.#budget.declare(d); } },
    });
    if (formatOf(pkg.fileName) === 'tar.bz2') {
      const bunzip = await bzip2Decompressor(ctx);
      // chain() only hears errors from now on: one from before must not leave the decoder waiting.
      if (this.#source.errored) {
        bunzip.on('error', () => undefined);
        (bunzip as unknown as Readable).destroy();
        throw this.#source.errored;
      }
      await writer.extract(wrapErrors(ctx, chain(this.#source, bunzip, metered(ctx, pkg.fileName)), pkg.fileName, 'bzip2'));
    } else {
      await streamZip(this.#source, {
        wanted: new Set([`info-${stem}.tar.zst`, `pkg-${stem}.tar.zst`]),
        corrupt: (message, entry) => corrupt(ctx, message, entry),
        member: async (name, data: Readable) => {
          const tar = chain(data, await zstdDecompressor({ nativeTools: this.#opts.nativeTools }), metered(ctx, name));
          await writer.extract(wrapErrors(ctx, tar, name, 'zstd'));
        },
      });
    }
    if (!this.#budget.withinDeclared()) {
      throw corrupt(ctx, `the package writes more than info/paths.json declares (${this.#budget.declared} bytes)`, 'info/paths.json');
    }
    return { outer, root, writer };
  }
}
