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
 *
 * The slabs at the seams between responses (the end of one body, the next response's head
 * and body start) and slabs holding several small bodies are freed by a second rule, per
 * socket, in socket byte offsets: a watermark below which every byte is known finished. It
 * moves over a body once its consumer has finished it all (`ended`), and over the gap
 * between two bodies only when that gap holds the head of the next response and nothing
 * else: at most 64 KiB, with exactly one status-line token (`HTTP/`, `RTSP/`, `ICE/`,
 * case-insensitive; llhttp starts every response with one). So a response that no one
 * finished (a `text()`, a 304, a reader that keeps views) always sits in such a gap with its
 * own status line, and the watermark stops before it. A full slab wholly below the watermark
 * holds nothing anyone still reads: the parser is past it (a later body chunk was delivered),
 * and every body byte in it was finished by its own consumer. In `fetch` this frees nearly
 * every slab (bench/fetch: 556 → ~50 slabs allocated for 1.5 GiB at -j 8), so the GC no
 * longer has hundreds of MiB of dead slabs to find and unmap.
 */
import type { Socket } from 'node:net';

const SLAB_BYTES = 1 << 20;
/** Less room than this left in a slab: start a new one (a read is offered at least this much). */
const MIN_READ = 64 << 10;
/** Freed slabs kept for reuse, process-wide (more are left to the GC); tests raise it, so a freed slab is always reused. */
export const slabPool = { max: 16 };
/** Full slabs a socket remembers as candidates for reuse (older ones are forgotten). */
const SEALED_MAX = 64;
/** Bodies a socket tracks for its watermark at most (see `track`). */
const SPANS_MAX = 64;

interface Slab {
  readonly buffer: Buffer;
  readonly owner: SocketSlabs;
  /** Position of this slab in its socket's sequence of slabs (a reused slab gets a new one). */
  readonly seq: number;
  /** Socket offset of the slab's first byte (bytes the socket read before it). */
  readonly base: number;
}

/** One opted-in body on a socket, in socket offsets: its first byte, and how far it is finished. */
interface BodySpan {
  first: number;
  doneUpTo: number;
  ended: boolean;
}

/** A gap between bodies is read to check it only up to this size (a response head is far smaller). */
const GAP_MAX = 64 << 10;
const STATUS_TOKEN = /HTTP\/|RTSP\/|ICE\//gi;

/** The slab behind each slab's memory: how a body chunk is traced back to its slab. */
const slabOf = new WeakMap<ArrayBufferLike, Slab>();
const pool: Buffer[] = [];
let reusedCount = 0;

let freedCount = 0;

/** Tests only: how many slabs have been reused so far (0 means recycling never happened). */
export function slabsReusedForTest(): number {
  return reusedCount;
}

/** Tests only: how many slabs consumers have freed so far (whether the pool kept them or not). */
export function slabsFreedForTest(): number {
  return freedCount;
}

interface Sealed {
  seq: number;
  /** Socket offset just past the slab's last byte. */
  end: number;
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
  /** Every byte before this socket offset is finished (see the module comment). */
  #watermark = 0;
  /** The body the watermark is in (its start passed, its end not yet); none: the watermark is at a seam. */
  #inside: BodySpan | undefined;
  /** Opted-in bodies not yet passed by the watermark, by first byte (the one it is in first). */
  #spans: BodySpan[] = [];
  /** The last gap found not to be one head alone (checked again only when it changes). */
  #refused = '';

  constructor() {
    this.#current = this.#newSlab(0);
  }

  #newSlab(base: number): Slab {
    const reused = pool.pop();
    if (reused) reusedCount++;
    const slab: Slab = { buffer: reused ?? Buffer.allocUnsafeSlow(SLAB_BYTES), owner: this, seq: ++this.#seq, base };
    slabOf.set(slab.buffer.buffer, slab);
    return slab;
  }

  /** The buffer for the socket's next read: the current slab's free tail. */
  next(): Uint8Array {
    if (SLAB_BYTES - this.#used < MIN_READ) {
      const end = this.#current.base + this.#used;
      this.#sealed.push({ seq: this.#current.seq, end, slab: new WeakRef(this.#current) });
      if (this.#sealed.length > SEALED_MAX) this.#sealed.shift();
      this.#current = this.#newSlab(end);
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
    this.#release((entry) => entry.seq > after && entry.seq < before);
  }

  /**
   * A body's first finished chunk starts at socket offset `first`: its span, tracked until the
   * watermark passes it. Behind a body that never ends (a failed one), spans would pile up for
   * the socket's life: past SPANS_MAX a span is not tracked (the watermark can never pass it).
   */
  track(first: number): BodySpan {
    const span: BodySpan = { first, doneUpTo: first, ended: false };
    if (this.#spans.length >= SPANS_MAX) return span;
    let at = this.#spans.length;
    while (at > 0 && this.#spans[at - 1]!.first > first) at--;
    this.#spans.splice(at, 0, span);
    return span;
  }

  /** A tracked body moved (finished more bytes, or ended): move the watermark as far as proven, and free what it passed. */
  advance(): void {
    const before = this.#watermark;
    for (;;) {
      const inside = this.#inside;
      if (inside) {
        this.#watermark = inside.doneUpTo;
        if (!inside.ended) break;
        this.#inside = undefined;
        this.#spans.shift();
        continue;
      }
      // At a seam (the socket's start or the end of a body): the next body, past one head at most.
      const span = this.#spans[0];
      if (!span || span.first < this.#watermark) break;
      if (span.first > this.#watermark && !this.#oneHead(this.#watermark, span.first)) break;
      this.#inside = span;
    }
    if (this.#watermark > before) this.#release((entry) => entry.end <= this.#watermark);
  }

  /**
   * The bytes [from, to) hold one response head and nothing else: at most GAP_MAX bytes, all
   * still here (slabs the GC took cannot be checked), with exactly one status-line token.
   */
  #oneHead(from: number, to: number): boolean {
    const key = `${from}-${to}`;
    if (to - from > GAP_MAX || key === this.#refused) return false;
    const pieces: Buffer[] = [];
    let covered = from;
    const slabs = [...this.#sealed.map((e) => ({ slab: e.slab.deref(), end: e.end })), { slab: this.#current, end: this.#current.base + this.#used }];
    for (const { slab, end } of slabs) {
      if (end <= covered || covered >= to) continue;
      if (!slab || slab.base > covered) break;
      const stop = Math.min(end, to);
      pieces.push(slab.buffer.subarray(covered - slab.base, stop - slab.base));
      covered = stop;
    }
    const ok = covered === to && (Buffer.concat(pieces).toString('latin1').match(STATUS_TOKEN)?.length ?? 0) === 1;
    if (!ok) this.#refused = key;
    return ok;
  }

  /** Sealed slabs chosen by `free` go back to the pool (as many as it keeps); the rest stay sealed. */
  #release(free: (entry: Sealed) => boolean): void {
    const kept: Sealed[] = [];
    for (const entry of this.#sealed) {
      if (!free(entry)) {
        kept.push(entry);
        continue;
      }
      const slab = entry.slab.deref();
      if (!slab) continue;
      slabOf.delete(slab.buffer.buffer);
      freedCount++;
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
  #span: BodySpan | undefined;
  /** A chunk could not be placed on the socket (a copy, another socket): the watermark never passes this body. */
  #lost = false;

  private constructor() {}

  static for(body: object): SlabReturns | undefined {
    return returnable.has(body) ? new SlabReturns() : undefined;
  }

  finished(chunk: Uint8Array): void {
    const slab = slabOf.get(chunk.buffer);
    if (!slab || this.#lost) {
      // Not a slab (a copy Node made when it joined chunks): nothing to free, and the body's
      // span on the socket is no longer known.
      this.#lose();
      return;
    }
    const start = slab.base + chunk.byteOffset;
    if (!this.#owner) {
      this.#owner = slab.owner;
      this.#first = slab.seq;
      this.#span = slab.owner.track(start);
    }
    // One body comes over one socket; anything else is not ours to judge.
    if (slab.owner !== this.#owner) return this.#lose();
    const span = this.#span!;
    if (start < span.doneUpTo) return this.#lose();
    span.doneUpTo = start + chunk.byteLength;
    if (slab.seq > this.#first + 1) slab.owner.free(this.#first, slab.seq);
    slab.owner.advance();
  }

  /**
   * The consumer finished the whole body: every chunk was given to `finished`, in order, and
   * the body stream ended. Only then: the gap check cannot tell body bytes still in flight from
   * the framing between two bodies, so an early `ended` would free them.
   */
  ended(): void {
    if (!this.#span || this.#lost) return;
    this.#span.ended = true;
    this.#owner!.advance();
  }

  #lose(): void {
    this.#lost = true;
    // The span stays where it is, never ended: the watermark stops at it.
  }
}
