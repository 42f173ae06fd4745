/**
 * A zstd frame-header guard: walks frame and block headers of a compressed stream (skipping
 * block contents) and refuses a frame whose window exceeds the cap before a decoder sees it,
 * since decoders allocate the declared window up front (fzstd: up to ~2 GB for 12 bytes).
 */

/** zstd's default decompression limit (ZSTD_WINDOWLOG_LIMIT_DEFAULT = 27) without --long. */
export const MAX_WINDOW_BYTES = 2 ** 27;

const ZSTD_MAGIC = 0xfd2fb528;

type Phase = 'magic' | 'descriptor' | 'header' | 'skippable-size' | 'block' | 'skip';

export interface FrameProblem {
  message: string;
  windowBytes?: number;
}

/**
 * Push compressed chunks in order; `push` returns a problem as soon as one is certain
 * (an oversized window, a bad magic, a reserved bit or block type), else undefined.
 * An incomplete stream is not its concern: the decoder reports that at the end.
 */
export class ZstdFrameGuard {
  readonly #maxWindow: number;
  #phase: Phase = 'magic';
  /** Bytes of the header being collected. */
  #pending: number[] = [];
  /** How many header bytes the current phase needs. */
  #need = 4;
  /** Bytes of block content (or skippable frame, or checksum) still to pass over. */
  #skip = 0;
  /** After the skip: a new frame (true) or the next block header (false). */
  #skipEndsFrame = false;
  #checksum = false;

  constructor(maxWindow: number = MAX_WINDOW_BYTES) {
    this.#maxWindow = maxWindow;
  }

  push(chunk: Uint8Array): FrameProblem | undefined {
    let i = 0;
    while (i < chunk.length) {
      if (this.#phase === 'skip') {
        const n = Math.min(this.#skip, chunk.length - i);
        this.#skip -= n;
        i += n;
        if (this.#skip === 0) this.#afterSkip();
        continue;
      }
      while (i < chunk.length && this.#pending.length < this.#need) this.#pending.push(chunk[i++]!);
      if (this.#pending.length < this.#need) return undefined;
      const problem = this.#header(this.#pending);
      if (problem) return problem;
    }
    return undefined;
  }

  #expect(phase: Phase, need: number): void {
    this.#phase = phase;
    this.#need = need;
    this.#pending = [];
  }

  #skipThen(bytes: number, endsFrame: boolean): void {
    this.#skipEndsFrame = endsFrame;
    this.#skip = bytes;
    this.#pending = [];
    this.#phase = 'skip';
    if (bytes === 0) this.#afterSkip();
  }

  #afterSkip(): void {
    if (this.#skipEndsFrame) this.#expect('magic', 4);
    else this.#expect('block', 3);
  }

  #header(b: number[]): FrameProblem | undefined {
    switch (this.#phase) {
      case 'magic': {
        const magic = le(b, 0, 4);
        if (magic === ZSTD_MAGIC) this.#expect('descriptor', 1);
        else if (magic >>> 4 === 0x184d2a5) this.#expect('skippable-size', 4);
        else return { message: 'not a zstd frame (bad magic number)' };
        return undefined;
      }
      case 'skippable-size':
        this.#skipThen(le(b, 0, 4), true);
        return undefined;
      case 'descriptor': {
        const d = b[0]!;
        if (d & 0x08) return { message: 'reserved bit set in the frame header' };
        const singleSegment = (d >> 5) & 1;
        const fcsFlag = d >> 6;
        const dictBytes = [0, 1, 2, 4][d & 3]!;
        const fcsBytes = fcsFlag === 0 ? singleSegment : 1 << fcsFlag;
        this.#checksum = ((d >> 2) & 1) === 1;
        this.#phase = 'header';
        this.#need = 1 + (singleSegment ? 0 : 1) + dictBytes + fcsBytes;
        return undefined;
      }
      case 'header':
        return this.#frameHeader(b);
      case 'block': {
        const h = le(b, 0, 3);
        const last = (h & 1) === 1;
        const type = (h >> 1) & 3;
        const size = h >>> 3;
        if (type === 3) return { message: 'reserved block type' };
        // An RLE block carries one byte on the wire, whatever its size.
        const wire = type === 1 ? 1 : size;
        if (last) this.#skipThen(wire + (this.#checksum ? 4 : 0), true);
        else this.#skipThen(wire, false);
        return undefined;
      }
      default:
        return undefined;
    }
  }

  #frameHeader(b: number[]): FrameProblem | undefined {
    const d = b[0]!;
    const singleSegment = (d >> 5) & 1;
    const fcsFlag = d >> 6;
    const dictBytes = [0, 1, 2, 4][d & 3]!;
    let window: number;
    if (singleSegment) {
      // The window is the whole content: its declared size.
      const at = 1 + dictBytes;
      const fcsBytes = fcsFlag === 0 ? 1 : 1 << fcsFlag;
      window = le(b, at, fcsBytes) + (fcsBytes === 2 ? 256 : 0);
    } else {
      const wd = b[1]!;
      const base = 2 ** (10 + (wd >> 3));
      window = base + (base / 8) * (wd & 7);
    }
    if (window > this.#maxWindow) {
      return {
        message: `the frame declares a ${formatBytes(window)} window, over the ${formatBytes(this.#maxWindow)} limit (zstd's default without --long)`,
        windowBytes: window,
      };
    }
    this.#expect('block', 3);
    return undefined;
  }
}

/** Little-endian unsigned integer of `n` bytes (exact up to 2^53, enough to compare with a cap). */
function le(b: number[], at: number, n: number): number {
  let v = 0;
  for (let k = n - 1; k >= 0; k--) v = v * 256 + b[at + k]!;
  return v;
}

function formatBytes(n: number): string {
  if (n >= 2 ** 20) return `${Math.round((n / 2 ** 20) * 10) / 10} MiB`;
  return `${n} bytes`;
}
