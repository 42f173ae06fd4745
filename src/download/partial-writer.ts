/**
 * A Writable that appends to an open `.partial` at explicit positions and hashes the
 * bytes. Hashing runs while the write is in flight (CPU on the main thread, I/O on the
 * thread pool). `confirmed` only moves after a write succeeded, so after a failure the
 * file is cut back to `confirmed` and the caller rehashes that prefix from disk: the
 * in-memory hash state is never trusted after an error.
 */
import { Writable } from 'node:stream';
import type { FileHandle } from 'node:fs/promises';
import type { Hashes } from './checksums.js';

export class TooLongError extends Error {
  constructor(readonly limit: number, readonly reached: number) {
    super(`body exceeds the expected ${limit} bytes`);
  }
}

export class PartialWriter extends Writable {
  #handle: FileHandle;
  #hashes: Hashes;
  #limit: number | undefined;
  #onWritten: (confirmed: number) => void;
  #onChunk: ((chunk: Uint8Array, position: number) => void) | undefined;
  confirmed: number;

  constructor(handle: FileHandle, hashes: Hashes, start: number, limit: number | undefined, onWritten: (confirmed: number) => void,
    onChunk?: (chunk: Uint8Array, position: number) => void) {
    super({ highWaterMark: 1 << 20 });
    this.#handle = handle;
    this.#hashes = hashes;
    this.confirmed = start;
    this.#limit = limit;
    this.#onWritten = onWritten;
    this.#onChunk = onChunk;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.#writeAll([chunk]).then(() => cb(), cb);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    this.#writeAll(chunks.map((c) => c.chunk)).then(() => cb(), cb);
  }

  async #writeAll(buffers: Buffer[]): Promise<void> {
    const total = buffers.reduce((n, b) => n + b.byteLength, 0);
    if (this.#limit !== undefined && this.confirmed + total > this.#limit) {
      throw new TooLongError(this.#limit, this.confirmed + total);
    }
    let position = this.confirmed;
    if (this.#onChunk) {
      let at = position;
      for (const buffer of buffers) {
        this.#onChunk(buffer, at);
        at += buffer.byteLength;
      }
    }
    const inFlight = this.#handle.writev(buffers, position);
    for (const buffer of buffers) this.#hashes.update(buffer);
    let written = (await inFlight).bytesWritten;
    let pending = buffers;
    for (;;) {
      position += written;
      pending = dropWritten(pending, written);
      if (!pending.length) break;
      written = (await this.#handle.writev(pending, position)).bytesWritten;
    }
    this.confirmed = position;
    this.#onWritten(position);
  }
}

function dropWritten(buffers: Buffer[], written: number): Buffer[] {
  const rest: Buffer[] = [];
  let skip = written;
  for (const buffer of buffers) {
    if (skip >= buffer.byteLength) {
      skip -= buffer.byteLength;
      continue;
    }
    rest.push(skip ? buffer.subarray(skip) : buffer);
    skip = 0;
  }
  return rest;
}
