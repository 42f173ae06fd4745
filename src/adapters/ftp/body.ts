/**
 * The bridge between basic-ftp and a Response body. basic-ftp ends its destination even
 * when a transfer fails, so it writes into `sink` and the body (`out`) ends only when we
 * say the transfer completed in full; a cut transfer errors the body instead, with a
 * retryable code, so download() resumes it.
 */
import { Readable, Writable } from 'node:stream';

const CHUNK = 256 * 1024;

/** An error download() treats as a cut connection (resumable). */
export function cutError(message: string, cause?: unknown): Error {
  return Object.assign(new Error(message, cause === undefined ? undefined : { cause }), { code: 'ECONNRESET' });
}

export class FtpBody {
  readonly out: Readable;
  readonly sink: Writable;
  /** Resolves when the first byte arrives. */
  readonly started: Promise<void>;
  received = 0;
  /** True once `limit` bytes were passed on and the rest of the transfer was refused on purpose. */
  limitReached = false;
  #pending: ((err?: Error | null) => void) | undefined;
  #markStarted!: () => void;

  #settled = false;

  /**
   * `limit`: pass on at most this many bytes (a bounded Range), then stop the transfer.
   * `onCancel`: the reader gave up before the end; stop the transfer now rather than at the next chunk.
   */
  constructor(limit?: number, onCancel?: () => void) {
    this.started = new Promise((resolve) => {
      this.#markStarted = resolve;
    });
    this.out = new Readable({
      highWaterMark: CHUNK,
      read: () => this.#resume(),
      destroy: (err, cb) => {
        this.#resume(err ?? new Error('FTP body cancelled'));
        if (!this.#settled) {
          this.#settled = true;
          onCancel?.();
        }
        cb(err);
      },
    });
    this.sink = new Writable({
      highWaterMark: CHUNK,
      write: (chunk: Buffer, _enc, cb) => {
        this.#markStarted();
        if (this.out.destroyed || this.limitReached) {
          cb(new Error('FTP body cancelled'));
          return;
        }
        let piece = chunk;
        if (limit !== undefined && this.received + piece.length >= limit) {
          piece = piece.subarray(0, limit - this.received);
          this.limitReached = true;
        }
        this.received += piece.length;
        const more = piece.length === 0 || this.out.push(piece);
        if (this.limitReached) {
          this.#settled = true;
          this.out.push(null);
          // Refusing the rest makes basic-ftp drop the data connection.
          cb(new Error('range complete'));
        } else if (more) cb();
        else this.#pending = cb;
      },
    });
  }

  #resume(err?: Error): void {
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.(err ?? null);
  }

  /** The transfer completed: end the body, unless fewer bytes came than announced. */
  finish(expected: number | undefined, describe: string): void {
    this.#settled = true;
    if (this.limitReached || this.out.destroyed) return;
    if (expected !== undefined && this.received < expected) {
      this.fail(cutError(`FTP transfer of ${describe} ended after ${this.received} of ${expected} bytes`));
      return;
    }
    this.out.push(null);
  }

  fail(err: Error): void {
    this.#settled = true;
    if (!this.out.destroyed && !this.limitReached) this.out.destroy(err);
  }
}
