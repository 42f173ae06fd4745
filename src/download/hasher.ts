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
import type { FileHandle } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { Hashes, hashPrefix } from './checksums.js';
import { ThreadHasher } from './hash-thread.js';

/** Files up to this size are hashed on the main thread (a thread hop costs more than it saves). */
export const INLINE_HASH_MAX = 4 << 20;

/**
 * Where files above INLINE_HASH_MAX are hashed: on the hashing thread while other transfers
 * run beside this one ('busy', the default), always ('always'), or never. On 2 cores, one
 * download alone hashes inline: the thread made it ~8 % faster but cost 12 MB of peak RSS (a
 * second V8 isolate: 89 vs 77 MB, over the 80 MB budget) and 0.27 CPU s per GiB, while `fetch`
 * of 200 packages at -j 8 was ~12 % faster with it (bench/, 2026-11-30). With one core there
 * is nothing to gain.
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
  /** Hash the first `length` bytes of the open file, before anything else (the kept prefix of a resumed download). */
  prefix(handle: FileHandle, length: number): Promise<void>;
  digest(): Promise<Digest>;
  /** Forget the state; resolves once nothing reads the file for this hasher any more. */
  drop(): Promise<void>;
}

/** The main-thread hasher: the same `Hashes` the rest of download() uses. */
class InlineHasher implements Hasher {
  readonly #withMd5: boolean;
  #hashes: Hashes;

  constructor(withMd5: boolean) {
    this.#withMd5 = withMd5;
    this.#hashes = new Hashes(withMd5);
  }

  writing(buffers: readonly Uint8Array[]): void {
    for (const buffer of buffers) this.#hashes.update(buffer);
  }

  written(): void {}

  async prefix(handle: FileHandle, length: number): Promise<void> {
    // Always the first bytes of a fresh hasher: the prefix's hashes are this hasher's state.
    this.#hashes = await hashPrefix(handle, length, this.#withMd5);
  }

  async digest(): Promise<Digest> {
    return { ...this.#hashes.digest(), bytes: this.#hashes.bytes };
  }

  async drop(): Promise<void> {}
}

/** A hasher for a file of `expectedBytes` (undefined: unknown, hashed inline). */
export function createHasher(withMd5: boolean, expectedBytes: number | undefined): Hasher {
  const wanted = hashPolicy.thread === 'always' || (hashPolicy.thread === 'busy' && transfers > 1);
  const onThread = wanted && expectedBytes !== undefined && expectedBytes > INLINE_HASH_MAX;
  return onThread ? new ThreadHasher(withMd5) : new InlineHasher(withMd5);
}
