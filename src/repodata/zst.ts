/**
 * zstd decoding: a streaming Transform and a one-shot decode. Node's own zlib zstd is used
 * when it exists (Node >= 22.15); otherwise fzstd (pure JS, no native build). Frame headers
 * pass a window-size guard before either decoder sees them.
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

function refuse(problem: FrameProblem | undefined): void {
  if (problem) throw new ZstdDecodeError(`invalid zstd data: ${problem.message}`, { windowBytes: problem.windowBytes });
}

interface NativeZstd {
  createZstdDecompress?: () => Transform;
  zstdDecompressSync?: (buf: Uint8Array) => Buffer;
}

const native = zlib as unknown as NativeZstd;

type Fzstd = typeof import('fzstd');
let fzstdModule: Promise<Fzstd> | undefined;
function loadFzstd(): Promise<Fzstd> {
  fzstdModule ??= import('fzstd').then((m) => ((m as { default?: Fzstd }).default ?? m) as Fzstd);
  return fzstdModule;
}

function asDecodeError(err: unknown): ZstdDecodeError {
  if (err instanceof ZstdDecodeError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new ZstdDecodeError(`invalid zstd data: ${message}`, { cause: err });
}

/** fzstd's push API as a Transform; an incomplete stream fails at the end. */
class FzstdTransform extends Transform {
  readonly #decoder: InstanceType<Fzstd['Decompress']>;
  readonly #guard = new ZstdFrameGuard();
  #sawInput = false;

  constructor(mod: Fzstd) {
    super();
    this.#decoder = new mod.Decompress((chunk) => {
      if (chunk.length > 0) this.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      if (chunk.length > 0) this.#sawInput = true;
      refuse(this.#guard.push(chunk));
      this.#decoder.push(chunk, false);
      done();
    } catch (err) {
      done(asDecodeError(err));
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      if (!this.#sawInput) throw new ZstdDecodeError('invalid zstd data: empty body');
      this.#decoder.push(new Uint8Array(0), true);
      done();
    } catch (err) {
      done(asDecodeError(err));
    }
  }
}

/** Errors of the native decoder come out as ZstdDecodeError too. */
function wrapNative(inner: Transform): Transform {
  let sawInput = false;
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
  inner.on('data', (d: Buffer) => outer.push(d));
  inner.on('error', (err) => outer.destroy(asDecodeError(err)));
  return outer;
}

/** A Transform from zstd bytes to decoded bytes; failures are ZstdDecodeError. */
export async function createZstdDecoder(): Promise<Transform> {
  if (typeof native.createZstdDecompress === 'function') return wrapNative(native.createZstdDecompress());
  return new FzstdTransform(await loadFzstd());
}

/** Decode a whole (small) zstd buffer, e.g. a shard. */
export async function decodeZstd(data: Uint8Array): Promise<Uint8Array> {
  try {
    if (data.length === 0) throw new ZstdDecodeError('invalid zstd data: empty');
    refuse(new ZstdFrameGuard().push(data));
    if (typeof native.zstdDecompressSync === 'function') return native.zstdDecompressSync(data);
    const chunks: Uint8Array[] = [];
    const mod = await loadFzstd();
    // The streaming decoder, because fzstd's one-shot decompress needs the size in the frame header.
    const decoder = new mod.Decompress((chunk) => {
      if (chunk.length > 0) chunks.push(chunk);
    });
    decoder.push(data, true);
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  } catch (err) {
    throw asDecodeError(err);
  }
}
