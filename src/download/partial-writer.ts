/**
 * A Writable that appends to an open `.partial` at explicit positions. The socket's chunks
 * are written as they are (one `writev` per batch, no copy) and handed to the hasher: inline
 * hashing runs while the write is in flight (CPU on the main thread, I/O on the thread pool);
 * the hashing thread reads each range back once it is written. `confirmed` only moves after
 * a write succeeded, so after a failure the file is cut back to `confirmed` and the caller
 * rehashes that prefix from disk: the hash state is never trusted after an error.
 *
 * Every WRITEBACK_STEP bytes an `fdatasync` starts in the background, so the disk writes
 * overlap the transfer and the final sync before the rename only has the tail left.
 */
import { Writable } from 'node:stream';
import type { FileHandle } from 'node:fs/promises';
import type { Hasher } from './hasher.js';
import { dropWritten } from '../util/written.js';
import type { SlabReturns } from '../util/slab-reads.js';

export class TooLongError extends Error {
  constructor(readonly limit: number, readonly reached: number) {
    super(`body exceeds the expected ${limit} bytes`);
  }
}

const WRITEBACK_STEP = 16 << 20;

export interface PartialWriterOptions {
  start: number;
  /** More bytes than this is a TooLongError (the expected or announced size). */
  limit: number | undefined;
  onWritten: (confirmed: number) => void;
  /** Sees each chunk at its file position before it is written (not yet verified). */
  onChunk?: ((chunk: Uint8Array, position: number) => void) | undefined;
  /**
   * Told when each chunk is written, in order, so the socket's slabs can be reused: only when
   * nothing but this writer sees the chunks (the inline hasher is done with them by then).
   */
  returns?: SlabReturns | undefined;
}

export class PartialWriter extends Writable {
  readonly #handle: FileHandle;
  readonly #hasher: Hasher;
  readonly #opts: PartialWriterOptions;
  #syncedUpTo: number;
  #writeback: Promise<void> = Promise.resolve();
  #inFlight: Promise<void> = Promise.resolve();
  confirmed: number;

  constructor(handle: FileHandle, hasher: Hasher, opts: PartialWriterOptions) {
    super({ highWaterMark: 1 << 20 });
    this.#handle = handle;
    this.#hasher = hasher;
    this.#opts = opts;
    this.confirmed = opts.start;
    this.#syncedUpTo = opts.start;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.#track(this.#writeAll([chunk])).then(() => cb(), cb);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    this.#track(this.#writeAll(chunks.map((c) => c.chunk))).then(() => cb(), cb);
  }

  /**
   * Resolves once no write is in flight. A failed pipeline destroys the writer without waiting
   * for its pending `writev`: await this before cutting the file back to `confirmed`, or the
   * write could land after the cut.
   */
  settled(): Promise<void> {
    return this.#inFlight.then(() => undefined, () => undefined);
  }

  #track(write: Promise<void>): Promise<void> {
    this.#inFlight = write;
    return write;
  }

  override _final(cb: (err?: Error | null) => void): void {
    // Every chunk of the body has been written and reported: the body is finished.
    this.#opts.returns?.ended();
    this.#writeback.then(() => cb(), cb);
  }

  async #writeAll(buffers: Buffer[]): Promise<void> {
    const total = buffers.reduce((n, b) => n + b.byteLength, 0);
    const limit = this.#opts.limit;
    if (limit !== undefined && this.confirmed + total > limit) throw new TooLongError(limit, this.confirmed + total);
    let position = this.confirmed;
    if (this.#opts.onChunk) {
      let at = position;
      for (const buffer of buffers) {
        this.#opts.onChunk(buffer, at);
        at += buffer.byteLength;
      }
    }
    const inFlight = this.#handle.writev(buffers, position);
    this.#hasher.writing(buffers);
    let written = (await inFlight).bytesWritten;
    let pending = buffers;
    for (;;) {
      this.#hasher.written(this.#handle.fd, position, written);
      position += written;
      pending = dropWritten(pending, written);
      if (!pending.length) break;
      written = (await this.#handle.writev(pending, position)).bytesWritten;
    }
    this.confirmed = position;
    if (this.#opts.returns) for (const buffer of buffers) this.#opts.returns.finished(buffer);
    this.#startWriteback();
    this.#opts.onWritten(position);
  }

  /** One background fdatasync at a time; its failure is the final sync's to report. */
  #startWriteback(): void {
    if (this.confirmed - this.#syncedUpTo < WRITEBACK_STEP) return;
    this.#syncedUpTo = this.confirmed;
    this.#writeback = this.#writeback.then(() => this.#handle.datasync()).catch(() => undefined);
  }
}
