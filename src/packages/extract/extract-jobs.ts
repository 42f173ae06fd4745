/**
 * The work of an extraction worker thread: one package archive into its (new, empty) folder,
 * from the verified tarball or from archive bytes as they arrive. Each job has its own
 * decoders, byte budget and TarWriter, so every rule of tar-writer.ts, budget.ts and
 * zip-stream.ts applies the same way on both paths.
 */
import { createReadStream } from 'node:fs';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { bzip2Decompressor, chain, corrupt, forEachTar, formatOf, metered, wrapErrors, type ArchiveContext } from './archive.js';
import { ByteBudget, declaredSize } from './budget.js';
import { stemOf } from './cache-state.js';
import type { JobSpec, Written } from './extract-protocol.js';
import { TarWriter } from './tar-writer.js';
import { streamZip } from './zip-stream.js';
import { zstdDecompressor } from './zstd.js';

function writerFor(spec: JobSpec, budget: ByteBudget, signal: AbortSignal): TarWriter {
  return new TarWriter(spec.root, {
    packageName: spec.fileName, budget, signal,
    capture: { 'info/paths.json': (text) => { const d = declaredSize(text); if (d !== undefined) budget.declare(d); } },
  });
}

function written(writer: TarWriter): Written {
  return { files: writer.files, bytes: writer.bytes, dirModes: writer.dirModes() };
}

/** Extract a verified tarball. */
export async function extractFile(spec: JobSpec, tarball: string, signal: AbortSignal): Promise<Written> {
  const budget = new ByteBudget(spec.archiveBytes, spec.declaredSlackBytes);
  const writer = writerFor(spec, budget, signal);
  const ctx: ArchiveContext = { packageName: spec.fileName, budget, nativeTools: spec.nativeTools };
  await forEachTar(tarball, spec.fileName, ctx, async (tar) => {
    signal.throwIfAborted();
    await writer.extract(tar);
  });
  return written(writer);
}

/**
 * Extraction from archive bytes pushed in file order. `push()` says whether the decoders took
 * the bytes (false: wait for `onDrain` before acknowledging them, so the sender's queue stays
 * bounded). The result settles after the last entry, or on the first refusal or cancel.
 */
export class StreamJob {
  readonly #spec: JobSpec;
  readonly #source = new PassThrough({ highWaterMark: 1 << 20 });
  readonly #budget: ByteBudget;
  readonly #abort = new AbortController();
  readonly result: Promise<Written>;

  constructor(spec: JobSpec) {
    this.#spec = spec;
    this.#budget = new ByteBudget(spec.archiveBytes, spec.declaredSlackBytes);
    // A destroyed source's error is for the decoders (and stays in `errored` for a late reader).
    this.#source.on('error', () => undefined);
    this.result = this.#run();
    // A failure before the last chunk stops the source, so pushes are dropped from then on.
    this.result.catch((err: unknown) => this.cancel(err instanceof Error ? err : new Error(String(err))));
  }

  push(bytes: Buffer, received: number): boolean {
    if (this.#source.destroyed) return true;
    if (this.#spec.archiveBytes === 0) this.#budget.allowArchiveBytes(received);
    return this.#source.write(bytes);
  }

  onDrain(fn: () => void): void {
    if (this.#source.destroyed) return fn();
    this.#source.once('drain', fn);
    this.#source.once('close', fn);
  }

  /** The stream's last byte was pushed; the rest (when the sender's queue overflowed) comes from the verified file. */
  end(size: number, rest?: { tarball: string; from: number }): void {
    if (this.#source.destroyed) return;
    if (this.#spec.archiveBytes === 0) this.#budget.allowArchiveBytes(size);
    if (!rest) this.#source.end();
    else pipeline(createReadStream(rest.tarball, { start: rest.from, highWaterMark: 1 << 20 }), this.#source).catch((err: unknown) => this.cancel(err as Error));
  }

  cancel(reason: Error): void {
    if (!this.#abort.signal.aborted) this.#abort.abort(reason);
    // With an error, so every decoder and reader downstream stops (a bare destroy would leave them waiting).
    if (!this.#source.destroyed) this.#source.destroy(reason);
  }

  async #run(): Promise<Written> {
    const spec = this.#spec;
    const stem = stemOf(spec.fileName);
    const ctx: ArchiveContext = { packageName: spec.fileName, budget: this.#budget, nativeTools: spec.nativeTools };
    const writer = writerFor(spec, this.#budget, this.#abort.signal);
    if (formatOf(spec.fileName) === 'tar.bz2') {
      const bunzip = await bzip2Decompressor(ctx);
      // chain() only hears errors from now on: one from before must not leave the decoder waiting.
      if (this.#source.errored) {
        bunzip.on('error', () => undefined);
        (bunzip as unknown as Readable).destroy();
        throw this.#source.errored;
      }
      await writer.extract(wrapErrors(ctx, chain(this.#source, bunzip, metered(ctx, spec.fileName)), spec.fileName, 'bzip2'));
    } else {
      await streamZip(this.#source, {
        wanted: new Set([`info-${stem}.tar.zst`, `pkg-${stem}.tar.zst`]),
        corrupt: (message, entry) => corrupt(ctx, message, entry),
        member: async (name, data: Readable) => {
          const tar = chain(data, await zstdDecompressor({ nativeTools: spec.nativeTools }), metered(ctx, name));
          await writer.extract(wrapErrors(ctx, tar, name, 'zstd'));
        },
      });
    }
    if (!this.#budget.withinDeclared()) {
      throw corrupt(ctx, `the package writes more than info/paths.json declares (${this.#budget.declared} bytes)`, 'info/paths.json');
    }
    return written(writer);
  }
}
