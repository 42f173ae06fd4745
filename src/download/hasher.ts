/**
 * The running sha256 (and md5) of the file being downloaded. Where the hashing runs is
 * chosen once per file from the bytes expected:
 * - up to INLINE_HASH_MAX (or unknown): on the main thread, from the very buffers being
 *   written, while their write is in flight on the thread pool;
 * - larger: on the hashing thread (hash-thread.ts), which reads each range back from the
 *   file right after it was written (page cache), so receiving, writing and hashing use
 *   both cores and no buffer crosses threads.
 * Either way the same bytes are hashed in file order and the digest is compared exactly
 * as before; the thread's failures surface at `digest()` as CG_WORKER_FAILED.
 */
import { createHash, type Hash } from 'node:crypto';
import { read } from 'node:fs';
import { availableParallelism } from 'node:os';
import { promisify } from 'node:util';
import { ThreadHasher } from './hash-thread.js';

/** Files up to this size are hashed on the main thread (a thread hop costs more than it saves). */
export const INLINE_HASH_MAX = 4 << 20;

/**
 * Where files above INLINE_HASH_MAX are hashed: on the hashing thread while other transfers
 * run beside this one ('busy', the default), always ('always'), or never. On 2 cores, one
 * download alone keeps its main thread free enough to hash inline (the thread measured no
 * faster and cost ~0.6 CPU s per GiB more), while `fetch` of 200 packages at -j 8 was ~12 %
 * faster with the thread (bench/, 2026-11-30). With one core there is nothing to gain.
 */
export const hashPolicy: { thread: 'busy' | 'always' | 'never' } = { thread: availableParallelism() > 1 ? 'busy' : 'never' };

let transfers = 0;

/** download() brackets each transfer, so a hasher knows whether others run beside it. */
export function transferStarted(): () => void {
  transfers++;
  let ended = false;
  return () => {
    if (!ended) transfers--;
    ended = true;
  };
}

export interface Digest {
  sha256: string;
  md5?: string;
  bytes: number;
}

export interface Hasher {
  /** The bytes of `buffers` are being written (inline hashing happens now, overlapping the write). */
  writing(buffers: readonly Uint8Array[]): void;
  /** Bytes [position, position + length) of `fd` are on disk (the thread reads them back). */
  written(fd: number, position: number, length: number): void;
  /** Hash the first `length` bytes of an open file (the kept prefix of a resumed download). */
  prefix(fd: number, length: number): Promise<void>;
  digest(): Promise<Digest>;
  /** Forget the state; resolves once nothing reads the file for this hasher any more. */
  drop(): Promise<void>;
}

const readAsync = promisify(read);

class InlineHasher implements Hasher {
  readonly #sha256: Hash = createHash('sha256');
  readonly #md5: Hash | undefined;
  #bytes = 0;

  constructor(withMd5: boolean) {
    this.#md5 = withMd5 ? createHash('md5') : undefined;
  }

  writing(buffers: readonly Uint8Array[]): void {
    for (const buffer of buffers) {
      this.#sha256.update(buffer);
      this.#md5?.update(buffer);
      this.#bytes += buffer.byteLength;
    }
  }

  written(): void {}

  async prefix(fd: number, length: number): Promise<void> {
    const buffer = Buffer.allocUnsafe(Math.min(1 << 20, Math.max(length, 1)));
    for (let position = 0; position < length;) {
      const { bytesRead } = await readAsync(fd, buffer, 0, Math.min(buffer.length, length - position), position);
      if (bytesRead === 0) break;
      this.writing([buffer.subarray(0, bytesRead)]);
      position += bytesRead;
    }
  }

  async digest(): Promise<Digest> {
    const sha256 = this.#sha256.digest('hex');
    return this.#md5 ? { sha256, md5: this.#md5.digest('hex'), bytes: this.#bytes } : { sha256, bytes: this.#bytes };
  }

  async drop(): Promise<void> {}
}

/** A hasher for a file of `expectedBytes` (undefined: unknown, hashed inline). */
export function createHasher(withMd5: boolean, expectedBytes: number | undefined): Hasher {
  const wanted = hashPolicy.thread === 'always' || (hashPolicy.thread === 'busy' && transfers > 1);
  const onThread = wanted && expectedBytes !== undefined && expectedBytes > INLINE_HASH_MAX;
  return onThread ? new ThreadHasher(withMd5) : new InlineHasher(withMd5);
}
