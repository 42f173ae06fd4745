/**
 * Plain-http sockets read into 1 MiB slabs (Node's `onread`) instead of a fresh 64 KiB buffer
 * per read: a read takes whatever the kernel has (often several hundred KiB), so a large body
 * arrives in ~7× fewer chunks, each a view of a slab. The socket still pushes into its own
 * readable side, so backpressure and EOF are Node's own. One slab state per socket: Node asks
 * for the next read's buffer right after a read (a slab shared by sockets corrupted bodies).
 *
 * Slabs are reused when a consumer proves nothing can read them any more; otherwise a full
 * slab is left to the views that still use it (and to the GC). Who may hold a view of a slab:
 * - the socket's readable buffer (views pushed by `callback`, bytes undici unshifts back when
 *   its parser pauses), and the socket's handle (the current slab's free tail);
 * - undici's parser while it runs (`execute` copies into its wasm memory, then slices status,
 *   headers and body chunks out of the socket chunk; headers become strings before the
 *   message goes on);
 * - the body stream's buffer (body chunks), and whoever reads the body: `text()` and the
 *   repodata path keep chunks and never say when they are done.
 * All of these take the socket's bytes in order (first in, first out). So when the consumer of
 * one response's body has *finished* with a chunk that lies in slab k (written to disk, say),
 * every byte the socket read before that chunk has been parsed and every body chunk before it
 * has been finished by that same consumer. The slabs strictly between the first slab this
 * consumer saw and slab k hold nothing but that response's bytes, all finished: they are
 * free. The slab of the first chunk (headers, maybe the end of an earlier response whose
 * reader we do not know) and the current slab (the socket reads into it) are never freed
 * this way. Only a `SlabReturns`, used by a consumer that opted in for one body it reads
 * alone and in order, ever frees a slab; everything else only forgets slabs (always safe).
 */
import type { Socket } from 'node:net';

const SLAB_BYTES = 1 << 20;
/** Less room than this left in a slab: start a new one (a read is offered at least this much). */
const MIN_READ = 64 << 10;
/** Freed slabs kept for reuse, process-wide (more are left to the GC); tests raise it, so a freed slab is always reused. */
export const slabPool = { max: 8 };
/** Full slabs a socket remembers as candidates for reuse (older ones are forgotten). */
const SEALED_MAX = 64;

interface Slab {
  readonly buffer: Buffer;
  readonly owner: SocketSlabs;
  /** Position of this slab in its socket's sequence of slabs (a reused slab gets a new one). */
  readonly seq: number;
}

/** The slab behind each slab's memory: how a body chunk is traced back to its slab. */
const slabOf = new WeakMap<ArrayBufferLike, Slab>();
const pool: Buffer[] = [];
let reusedCount = 0;

/** Tests only: how many slabs have been reused so far (0 means recycling never happened). */
export function slabsReusedForTest(): number {
  return reusedCount;
}

interface Sealed {
  seq: number;
  slab: WeakRef<Slab>;
}

class SocketSlabs {
  #seq = 0;
  #current: Slab;
  #used = 0;
  /**
   * Full slabs, oldest first, that a consumer may free; held weakly, so a slab that no consumer
   * frees (a small body's, or one read by `text()`) is the GC's as soon as its views are.
   */
  #sealed: Sealed[] = [];

  constructor() {
    this.#current = this.#newSlab();
  }

  #newSlab(): Slab {
    const reused = pool.pop();
    if (reused) reusedCount++;
    const slab: Slab = { buffer: reused ?? Buffer.allocUnsafeSlow(SLAB_BYTES), owner: this, seq: ++this.#seq };
    slabOf.set(slab.buffer.buffer, slab);
    return slab;
  }

  /** The buffer for the socket's next read: the current slab's free tail. */
  next(): Uint8Array {
    if (SLAB_BYTES - this.#used < MIN_READ) {
      this.#sealed.push({ seq: this.#current.seq, slab: new WeakRef(this.#current) });
      if (this.#sealed.length > SEALED_MAX) this.#sealed.shift();
      this.#current = this.#newSlab();
      this.#used = 0;
    }
    return this.#current.buffer.subarray(this.#used);
  }

  /** `nread` bytes were read into the buffer `next()` gave: the view handed on. */
  take(nread: number, buf: Uint8Array): Buffer {
    this.#used += nread;
    return Buffer.from(buf.buffer, buf.byteOffset, nread);
  }

  /** Slabs with after < seq < before are free: back to the pool (full slabs only, never the current one). */
  free(after: number, before: number): void {
    const kept: Sealed[] = [];
    for (const entry of this.#sealed) {
      if (entry.seq <= after || entry.seq >= before) {
        kept.push(entry);
        continue;
      }
      const slab = entry.slab.deref();
      if (!slab) continue;
      slabOf.delete(slab.buffer.buffer);
      if (pool.length < slabPool.max) pool.push(slab.buffer);
    }
    this.#sealed = kept;
  }
}

/** Node's `onread` option for one socket (net.connect). */
export function slabReads(): { buffer: () => Uint8Array; callback: (this: Socket, nread: number, buf: Uint8Array) => boolean } {
  const slabs = new SocketSlabs();
  return {
    buffer: () => slabs.next(),
    callback(this: Socket, nread: number, buf: Uint8Array): boolean {
      // false pauses the socket until its reader drains it, as for a normal read.
      return this.push(slabs.take(nread, buf));
    },
  };
}

/** Bodies whose chunks reach their reader unshared, in order (marked by the adapter that made them). */
const returnable = new WeakSet<object>();

/** The http adapter marks a body it hands on as undici produced it (no decoder, no tee). */
export function markSlabBody(body: object): void {
  returnable.add(body);
}

/**
 * The opt-in of one consumer of one body: `finished(chunk)` says the consumer is done with
 * `chunk` and every chunk of the body before it (call it in body order, after the bytes were
 * written). Only a body marked by its adapter can opt in; `undefined` otherwise.
 */
export class SlabReturns {
  #owner: SocketSlabs | undefined;
  #first = 0;

  private constructor() {}

  static for(body: object): SlabReturns | undefined {
    return returnable.has(body) ? new SlabReturns() : undefined;
  }

  finished(chunk: Uint8Array): void {
    const slab = slabOf.get(chunk.buffer);
    if (!slab) return; // not a slab (a copy Node made when it joined chunks): nothing to free
    if (!this.#owner) {
      this.#owner = slab.owner;
      this.#first = slab.seq;
      return;
    }
    // One body comes over one socket; anything else is not ours to judge.
    if (slab.owner !== this.#owner || slab.seq <= this.#first + 1) return;
    slab.owner.free(this.#first, slab.seq);
  }
}
