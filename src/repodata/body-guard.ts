/**
 * The checks a repodata.json body passes on its way into the temp file, as it streams: the
 * decoded-size and compression-ratio limits, and the shape validator (see json-shape.ts), here
 * in this thread (small bodies) or in a worker (shape-sink.ts). Nothing is held back: each chunk
 * is checked and passed on, so memory stays at one chunk.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { CacheError } from '../errors/classes.js';
import { maskUrl } from '../redact/safe-url.js';
import { invalidRepodata } from './errors.js';
import { JsonShapeError, type JsonShapeSummary } from './json-shape.js';
import { createShapeValidator, type ShapeValidator } from './json-shape-wasm.js';
import type { RepodataLimits } from './limits.js';
import { DecodedTooLargeError } from './zst.js';

/** An index over a limit: typed, naming the limit to raise. */
export function tooLarge(what: string, url: string, detail: string, limitName: keyof RepodataLimits, cause?: unknown): CacheError {
  return new CacheError(`${what} from ${maskUrl(url)} is too large: ${detail}`, {
    code: 'CG_REPODATA_TOO_LARGE', url, cause,
    hint: `Nothing of it was cached. If the channel is trusted, raise limits.${limitName} (see DEFAULT_REPODATA_LIMITS).`,
  });
}

/** Map a decoder's budget error to the limit it came from. */
export function budgetError(err: unknown, what: string, url: string, limitName: keyof RepodataLimits): unknown {
  if (err instanceof DecodedTooLargeError) return tooLarge(what, url, `it ${err.message}`, limitName, err);
  return err;
}

/** The decoded-size and ratio limits of one repodata.json body, counted as it streams. */
export class DecodedSizeCheck {
  #decoded = 0;

  /** `wireBytes`: bytes received so far (for the ratio); omit when the body is not compressed. */
  constructor(readonly url: string, readonly limits: RepodataLimits, readonly wireBytes?: () => number) {}

  /** Count `bytes` more decoded bytes; throws CG_REPODATA_TOO_LARGE past a limit. */
  add(bytes: number): void {
    this.#decoded += bytes;
    const { maxIndexBytes, maxRatio, ratioFloorBytes } = this.limits;
    if (this.#decoded > maxIndexBytes) {
      throw tooLarge('repodata.json', this.url, `over ${maxIndexBytes} bytes decoded`, 'maxIndexBytes');
    }
    const wire = this.wireBytes?.();
    if (wire !== undefined && this.#decoded > ratioFloorBytes && this.#decoded > maxRatio * Math.max(wire, 1)) {
      throw tooLarge('repodata.json', this.url, `${this.#decoded} bytes decoded from ${wire} received, over the ${maxRatio}:1 ratio`, 'maxRatio');
    }
  }
}

/** Limits and validation in this thread, each chunk passed on to the file (bodies too small for a worker). */
export class RepodataBodyGuard extends Transform {
  readonly #validator: ShapeValidator;
  readonly #size: DecodedSizeCheck;
  summary: JsonShapeSummary | undefined;

  /** `wireBytes`: bytes received so far (for the ratio); omit when the body is not compressed. */
  constructor(readonly url: string, readonly limits: RepodataLimits, wireBytes?: () => number) {
    super({ readableHighWaterMark: 1 << 20, writableHighWaterMark: 1 << 20 });
    this.#validator = createShapeValidator(limits.maxDepth);
    this.#size = new DecodedSizeCheck(url, limits, wireBytes);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      this.#size.add(chunk.length);
      this.#validator.push(chunk);
      done(null, chunk);
    } catch (err) {
      done(this.#typed(err));
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      this.summary = this.#validator.end();
      done();
    } catch (err) {
      done(this.#typed(err));
    }
  }

  #typed(err: unknown): Error {
    if (err instanceof JsonShapeError) return invalidRepodata('repodata.json', this.url, err.message, err);
    return err instanceof Error ? err : new Error(String(err));
  }
}
