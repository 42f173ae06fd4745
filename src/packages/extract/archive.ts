/**
 * The two package formats as tar streams: `.conda` is a zip holding `info-<stem>.tar.zst`
 * and `pkg-<stem>.tar.zst` (info first, as conda-package-streaming reads it); `.tar.bz2`
 * is one bzip2-compressed tar. Each component is read through the package's byte budget.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable, Transform } from 'node:stream';
import type { Entry, ZipFile } from 'yauzl';
import { PackageArchiveError } from '../../errors/classes.js';
import { FALLBACK_RATIO, type ByteBudget } from './budget.js';
import { stemOf } from './cache-state.js';
import { hasTool, toolDecoder } from './tool-decoder.js';
import { zstdDecompressor } from './zstd.js';

export type PackageFormat = 'conda' | 'tar.bz2';

export function formatOf(fileName: string): PackageFormat {
  return fileName.endsWith('.conda') ? 'conda' : 'tar.bz2';
}


type Yauzl = typeof import('yauzl');
let yauzlModule: Promise<Yauzl> | undefined;
const loadYauzl = (): Promise<Yauzl> => (yauzlModule ??= import('yauzl').then((m) => ((m as { default?: Yauzl }).default ?? m) as Yauzl));

type Bunzip = () => NodeJS.ReadWriteStream;
let bunzipModule: Promise<Bunzip> | undefined;
const loadBunzip = (): Promise<Bunzip> =>
  (bunzipModule ??= import('unbzip2-stream').then((m) => ((m as { default?: Bunzip }).default ?? m) as unknown as Bunzip));

export interface ArchiveContext {
  packageName: string;
  budget: ByteBudget;
  /** Decode with the zstd/bzip2 programs when installed. @default true */
  nativeTools?: boolean;
}

/** bzip2: the program when installed, else unbzip2-stream (pure JS). */
export async function bzip2Decompressor(ctx: ArchiveContext): Promise<NodeJS.ReadWriteStream> {
  if (ctx.nativeTools !== false && await hasTool('bzip2')) return toolDecoder('bzip2');
  return (await loadBunzip())();
}

export function corrupt(ctx: ArchiveContext, message: string, entry?: string, cause?: unknown): PackageArchiveError {
  return new PackageArchiveError(`Cannot extract ${ctx.packageName}: ${message}.`,
    { code: 'CG_PACKAGE_CORRUPT', package: ctx.packageName, ...(entry !== undefined ? { entry } : {}), cause });
}

/** Budget meter whose error names the package. */
export function metered(ctx: ArchiveContext, entry: string): Transform {
  return ctx.budget.meter((used, limit) => corrupt(ctx,
    `it decompresses to over ${limit} bytes (${FALLBACK_RATIO}x its size; read ${used})`, entry));
}

/**
 * Chain streams, forwarding any error to the end so one consumer sees it; when the end
 * closes (done, failed or abandoned), everything before it is destroyed too, so no
 * decoder process or file handle outlives the extraction.
 */
export function chain(first: Readable, ...rest: Array<NodeJS.ReadWriteStream | Transform>): Readable {
  const all = [first, ...rest] as unknown as Readable[];
  const last = all.at(-1)!;
  for (const s of all.slice(0, -1)) s.on('error', (err: Error) => last.destroy(err));
  // A decoder can fail before the consumer attaches its listener (it loads tar-stream first):
  // the error stays on the stream (`errored`) for the consumer, and never escapes the process.
  last.on('error', () => undefined);
  last.on('close', () => {
    for (const s of all.slice(0, -1)) if (!s.destroyed) s.destroy();
  });
  let out: NodeJS.ReadableStream = first;
  for (const s of rest) out = out.pipe(s);
  return last;
}

/**
 * Hand each component tar stream, in order, to `consume`: info before pkg for `.conda`,
 * the single tar for `.tar.bz2`.
 */
export async function forEachTar(path: string, fileName: string, ctx: ArchiveContext,
  consume: (tar: Readable, component: string) => Promise<void>): Promise<void> {
  if (formatOf(fileName) === 'tar.bz2') {
    const bunzip = await bzip2Decompressor(ctx);
    // Small reads: the bzip2 decoder turns each read into blocks at once, whatever the reader's pace.
    const tar = chain(createReadStream(path, { highWaterMark: 64 * 1024 }), bunzip, metered(ctx, fileName));
    await consume(wrapErrors(ctx, tar, fileName, 'bzip2'), fileName);
    return;
  }
  const yauzl = await loadYauzl();
  let zip: ZipFile;
  try {
    zip = await yauzl.openPromise(path, { lazyEntries: true, autoClose: false, decodeStrings: true, validateEntrySizes: true, strictFileNames: false });
  } catch (err) {
    throw corrupt(ctx, `not a valid .conda (zip) file: ${(err as Error).message}`, undefined, err);
  }
  try {
    const { info, pkg } = await components(zip, stemOf(fileName), ctx);
    for (const entry of [info, pkg]) {
      const raw = await zip.openReadStreamPromise(entry);
      const tar = chain(raw, await zstdDecompressor({ nativeTools: ctx.nativeTools }), metered(ctx, entry.fileName));
      await consume(wrapErrors(ctx, tar, entry.fileName, 'zstd'), entry.fileName);
    }
  } finally {
    zip.close();
  }
}

/** The central directory: no duplicate names, exactly the two inner tarballs conda expects. */
async function components(zip: ZipFile, stem: string, ctx: ArchiveContext): Promise<{ info: Entry; pkg: Entry }> {
  const seen = new Set<string>();
  let info: Entry | undefined;
  let pkg: Entry | undefined;
  try {
    for await (const entry of zip.eachEntry()) {
      if (seen.has(entry.fileName)) throw corrupt(ctx, `the zip holds '${entry.fileName}' twice`, entry.fileName);
      seen.add(entry.fileName);
      if (entry.fileName === `info-${stem}.tar.zst`) info = entry;
      else if (entry.fileName === `pkg-${stem}.tar.zst`) pkg = entry;
    }
  } catch (err) {
    if (err instanceof PackageArchiveError) throw err;
    throw corrupt(ctx, `not a valid .conda (zip) file: ${(err as Error).message}`, undefined, err);
  }
  if (!info || !pkg) {
    const missing = [info ? '' : `info-${stem}.tar.zst`, pkg ? '' : `pkg-${stem}.tar.zst`].filter(Boolean).join(' and ');
    throw corrupt(ctx, `the .conda file has no ${missing}`, missing);
  }
  return { info, pkg };
}

/** Decoder failures (not our own typed errors) become CG_PACKAGE_CORRUPT naming the component. */
export function wrapErrors(ctx: ArchiveContext, stream: Readable, entry: string, codec: string): Readable {
  const original = stream.destroy.bind(stream);
  stream.destroy = (err?: Error) => original(err && !(err instanceof PackageArchiveError)
    ? corrupt(ctx, `invalid ${codec} data in ${entry}: ${err.message}`, entry, err) : err);
  return stream;
}

export async function archiveSize(path: string): Promise<number> {
  return (await stat(path)).size;
}
