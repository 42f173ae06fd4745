/**
 * zstd decoding: a streaming Transform and a one-shot decode, both with a budget of decoded
 * bytes checked as output is produced (a 33 KiB bomb never becomes gigabytes in memory).
 * Backends, fastest available first: Node's own zlib zstd (Node >= 22.15), the native
 * `zstd-napi` (an optional dependency, compiled at install), fzstd (pure JS, always there).
 * Frame headers pass a window-size guard before any decoder sees them.
 */
import { Transform, type TransformCallback } from 'node:stream';
import * as zlib from 'node:zlib';
import { CacheError } from '../errors/classes.js';
import { ZstdFrameGuard, type FrameProblem } from './zst-frames.js';

/** The bytes are not a valid (complete) zstd stream, or need more memory than zstd allows by default. */
export class ZstdDecodeError extends CacheError {
  constructor(message: string, options: { cause?: unknown; windowBytes?: number } = {}) {
    super(message, {
      code: 'CG_REPODATA_INVALID', cause: options.cause,
      details: options.windowBytes === undefined ? undefined : { windowBytes: options.windowBytes },
    });
  }
}

/** Decoding produced more than the budget allowed; nothing past the budget was kept. */
export class DecodedTooLargeError extends CacheError {
  readonly limit: number;

  constructor(limit: number, message = `decodes to more than ${limit} bytes`) {
    super(message, { code: 'CG_REPODATA_TOO_LARGE', details: { limitBytes: limit } });
    this.limit = limit;
  }
}

export type ZstdBackend = 'node:zlib' | 'zstd-napi' | 'fzstd';

export interface DecodeBudget {
  /** Most decoded bytes allowed. @default unlimited */
  maxBytes?: number;
  /** Most decoded bytes per compressed byte (of `wireBytes`, else of the decoder's input), once past `ratioFloorBytes`. */
  maxRatio?: number;
  ratioFloorBytes?: number;
  /** Compressed bytes received so far, when counted upstream. */
  wireBytes?: () => number;
}

function refuse(problem: FrameProblem | undefined): void {
  if (problem) throw new ZstdDecodeError(`invalid zstd data: ${problem.message}`, { windowBytes: problem.windowBytes });
}

interface NativeZstd {
  createZstdDecompress?: (options?: { maxOutputLength?: number }) => Transform;
}

const native = zlib as unknown as NativeZstd;

type Fzstd = typeof import('fzstd');
let fzstdModule: Promise<Fzstd> | undefined;
function loadFzstd(): Promise<Fzstd> {
  fzstdModule ??= import('fzstd').then((m) => ((m as { default?: Fzstd }).default ?? m) as Fzstd);
  return fzstdModule;
}

/** The part of zstd-napi's low-level binding we use: ZSTD_decompressStream on a DCtx. */
interface NapiBinding {
  DCtx: new () => { decompressStream(dst: Uint8Array, src: Uint8Array): [number, number, number] };
  dStreamOutSize(): number;
}
let napiModule: Promise<NapiBinding | undefined> | undefined;
function loadNapi(): Promise<NapiBinding | undefined> {
  napiModule ??= import('zstd-napi/binding.js' as string)
    .then((m) => ((m as { default?: NapiBinding }).default ?? m) as NapiBinding)
    .then((b) => (typeof b.DCtx === 'function' ? b : undefined), () => undefined);
  return napiModule;
}

/** Which decoder this process uses. */
export async function zstdBackend(): Promise<ZstdBackend> {
  if (typeof native.createZstdDecompress === 'function') return 'node:zlib';
  return (await loadNapi()) ? 'zstd-napi' : 'fzstd';
}

function asDecodeError(err: unknown): CacheError {
  if (err instanceof ZstdDecodeError || err instanceof DecodedTooLargeError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new ZstdDecodeError(`invalid zstd data: ${message}`, { cause: err });
}

/**
 * The common frame: the window guard on input, the budget on output, "empty body" and
 * "truncated" at the end. Subclasses decode with `decode(chunk, emit)` and `finish()`.
 */
abstract class GuardedZstd extends Transform {
  readonly #guard = new ZstdFrameGuard();
  readonly #budget: DecodeBudget;
  readonly #maxBytes: number;
  #sawInput = false;
  #consumed = 0;
  #produced = 0;

  constructor(budget: DecodeBudget) {
    super({ readableHighWaterMark: 1 << 20 });
    this.#budget = budget;
    this.#maxBytes = budget.maxBytes ?? Infinity;
  }

  protected abstract decode(chunk: Buffer): void;
  /** Throws when the stream ended inside a frame. */
  protected abstract finish(): void;

  protected emit_(out: Buffer): void {
    this.count_(out.length);
    this.push(out);
  }

  /** `bytes` more were decoded: throws past the budget. */
  protected count_(bytes: number): void {
    this.#produced += bytes;
    if (this.#produced > this.#maxBytes) throw new DecodedTooLargeError(this.#maxBytes);
    const { maxRatio, ratioFloorBytes = 0, wireBytes } = this.#budget;
    if (maxRatio !== undefined && this.#produced > ratioFloorBytes) {
      const input = Math.max(wireBytes?.() ?? this.#consumed, 1);
      if (this.#produced > maxRatio * input) throw new DecodedTooLargeError(this.#maxBytes, `${this.#produced} bytes decoded from ${input}, over the ${maxRatio}:1 ratio`);
    }
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      if (chunk.length > 0) this.#sawInput = true;
      this.#consumed += chunk.length;
      refuse(this.#guard.push(chunk));
      this.decode(chunk);
      done();
    } catch (err) {
      done(asDecodeError(err));
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      if (!this.#sawInput) throw new ZstdDecodeError('invalid zstd data: empty body');
      this.finish();
      done();
    } catch (err) {
      done(asDecodeError(err));
    }
  }
}

/**
 * zstd-napi's ZSTD_decompressStream, straight into output buffers that are passed on only when
 * full (or at the end), so downstream sees few large chunks; the budget is checked after every
 * call. Buffers come from `outputBuffers` when given (recycled by the consumer), else are new.
 */
class NapiTransform extends GuardedZstd {
  readonly #dctx: InstanceType<NapiBinding['DCtx']>;
  readonly #newBuffer: () => Buffer;
  #out: Buffer | undefined;
  #fill = 0;
  #inFrame = false;

  constructor(binding: NapiBinding, budget: DecodeBudget, outputBuffers?: () => Buffer) {
    super(budget);
    this.#dctx = new binding.DCtx();
    const size = binding.dStreamOutSize();
    this.#newBuffer = outputBuffers ?? (() => Buffer.allocUnsafe(size));
  }

  protected decode(chunk: Buffer): void {
    let src: Buffer = chunk;
    for (;;) {
      const out = (this.#out ??= this.#newBuffer());
      const room = out.length - this.#fill;
      const [ret, produced, consumed] = this.#dctx.decompressStream(out.subarray(this.#fill), src);
      this.count_(produced);
      this.#fill += produced;
      if (this.#fill === out.length) this.#flush();
      src = src.subarray(consumed);
      if (src.length === 0 && (produced < room || ret === 0)) {
        this.#inFrame = ret !== 0;
        return;
      }
    }
  }

  #flush(): void {
    if (this.#fill > 0) this.push(this.#fill === this.#out!.length ? this.#out : this.#out!.subarray(0, this.#fill));
    this.#out = undefined;
    this.#fill = 0;
  }

  protected finish(): void {
    if (this.#inFrame) throw new ZstdDecodeError('invalid zstd data: the stream ends inside a frame (truncated)');
    this.#flush();
  }
}

/** fzstd's push API; it hands over one block at a time, so the budget is checked per block. */
class FzstdTransform extends GuardedZstd {
  readonly #decoder: InstanceType<Fzstd['Decompress']>;

  constructor(mod: Fzstd, budget: DecodeBudget) {
    super(budget);
    this.#decoder = new mod.Decompress((chunk) => {
      if (chunk.length > 0) this.emit_(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    });
  }

  protected decode(chunk: Buffer): void {
    this.#decoder.push(chunk, false);
  }

  protected finish(): void {
    this.#decoder.push(new Uint8Array(0), true);
  }
}

/** Node's zlib zstd (async, 16 KiB at a time) behind the same guard and budget. */
function wrapNative(inner: Transform, budget: DecodeBudget): Transform {
  let sawInput = false;
  let produced = 0;
  const max = budget.maxBytes ?? Infinity;
  const guard = new ZstdFrameGuard();
  const outer = new Transform({
    transform(chunk: Buffer, _enc, done) {
      if (chunk.length > 0) sawInput = true;
      const problem = guard.push(chunk);
      if (problem) return done(new ZstdDecodeError(`invalid zstd data: ${problem.message}`, { windowBytes: problem.windowBytes }));
      if (!inner.write(chunk)) inner.once('drain', () => done());
      else done();
    },
    flush(done) {
      if (!sawInput) return done(new ZstdDecodeError('invalid zstd data: empty body'));
      inner.once('end', () => done());
      inner.end();
    },
  });
  inner.on('data', (d: Buffer) => {
    produced += d.length;
    if (produced > max) {
      inner.destroy();
      outer.destroy(new DecodedTooLargeError(max));
      return;
    }
    outer.push(d);
  });
  inner.on('error', (err) => outer.destroy(asDecodeError(err)));
  return outer;
}

/** A Transform from zstd bytes to decoded bytes; failures are ZstdDecodeError or DecodedTooLargeError. */
export function createZstdDecoder(budget: DecodeBudget = {}): Promise<Transform> {
  return createZstdDecoderInto(budget);
}

/**
 * The same, decoding into `outputBuffers` when the backend can (the native one: each buffer is
 * passed on when full); the other backends ignore it.
 */
export async function createZstdDecoderInto(budget: DecodeBudget, outputBuffers?: () => Buffer): Promise<Transform> {
  if (typeof native.createZstdDecompress === 'function') return wrapNative(native.createZstdDecompress(), budget);
  const napi = await loadNapi();
  if (napi) return new NapiTransform(napi, budget, outputBuffers);
  return new FzstdTransform(await loadFzstd(), budget);
}

/** Decode a whole (small) zstd buffer, e.g. a shard, within the budget. */
export async function decodeZstd(data: Uint8Array, budget: DecodeBudget = {}): Promise<Uint8Array> {
  if (data.length === 0) throw new ZstdDecodeError('invalid zstd data: empty');
  // The window guard first, before a decoder is even loaded.
  refuse(new ZstdFrameGuard().push(data));
  const decoder = await createZstdDecoder(budget);
  const chunks: Buffer[] = [];
  decoder.on('data', (c: Buffer) => chunks.push(c));
  await new Promise<void>((resolve, reject) => {
    decoder.once('error', (err) => reject(asDecodeError(err)));
    decoder.once('end', () => resolve());
    decoder.end(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  });
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}
