/**
 * Extract one package tarball into `<pkgs>/<stem>/` as conda does, with its
 * `info/repodata_record.json`. Under the package's download lock (conda's byte-21 lock
 * on `<tarball>.partial`), into a temp folder inside the cache, checked, then renamed:
 * the final name only ever holds a complete folder. The per-byte work runs in an
 * extraction worker (extract-pool.ts).
 */
import { createHash } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { cachePath } from '../pkgs-dir.js';
import { pipeline } from 'node:stream/promises';
import { lockFile } from '../../core/file-lock.js';
import { PackageArchiveError } from '../../errors/classes.js';
import type { PackageSpec } from '../types.js';
import { checkExtracted, extractedDirOf, stemOf } from './cache-state.js';
import { extractFileInWorker } from './extract-pool.js';
import type { Written } from './extract-protocol.js';
import { buildRepodataRecord, serializeRecord } from './repodata-record.js';
import type { Staged, StreamedExtraction } from './stream-extract.js';
import { applyDirModes } from './tar-writer.js';

export interface ExtractPackageOptions {
  pkgsDir: string;
  pkg: PackageSpec;
  /** The URL written into repodata_record.json (already stripped of credentials unless kept on purpose). */
  recordUrl: string;
  /** Checksums already computed for the tarball (by the download); the rest are computed here. */
  known?: { md5?: string; sha256?: string };
  noLock?: boolean;
  signal?: AbortSignal;
  /** Decode with the zstd/bzip2 programs when installed (faster); false: the JS decoders only. @default true */
  nativeTools?: boolean;
  /** Slack over the size info/paths.json declares (tests make it small). */
  declaredSlackBytes?: number;
  /** What was extracted while the tarball downloaded: used when it covers the verified file, else dropped. */
  streamed?: StreamedExtraction;
}

export interface ExtractPackageResult {
  /** The extracted folder. */
  path: string;
  files: number;
  bytes: number;
  elapsedMs: number;
  /** Another process extracted it while we waited for the lock. */
  reused: boolean;
  /** Extracted while downloading (the streamed folder was accepted). */
  streamed: boolean;
}

export async function extractPackage(opts: ExtractPackageOptions): Promise<ExtractPackageResult> {
  const tarball = cachePath(opts.pkgsDir, opts.pkg.fileName);
  const lock = await lockFile(`${tarball}.partial`, { noLock: opts.noLock, signal: opts.signal });
  try {
    return (await extractLocked(opts, true))!;
  } finally {
    await dropEmptyLockFile(lock.path);
    await lock.release();
  }
}

/**
 * The folder extracted while downloading, put in place under the package lock the caller
 * already holds (download()'s whileLocked step, so the tarball it was checked against cannot
 * be replaced in between). undefined: the streamed extraction did not cover the verified file
 * (the reason is in `streamed.failure`), and the tarball must be extracted as usual.
 */
export async function acceptStreamed(opts: ExtractPackageOptions & { streamed: StreamedExtraction }): Promise<ExtractPackageResult | undefined> {
  return extractLocked(opts, false);
}

/** Under the package lock: the folder already there, else extracted (from the stream, else from the file when `fromFile`). */
async function extractLocked(opts: ExtractPackageOptions, fromFile: boolean): Promise<ExtractPackageResult | undefined> {
  const started = performance.now();
  const { pkgsDir, pkg } = opts;
  const tarball = cachePath(pkgsDir, pkg.fileName);
  const final = extractedDirOf(pkgsDir, pkg.fileName);
  const done = await checkExtracted(pkgsDir, pkg);
  if (done && !done.unverified) {
    await opts.streamed?.discard();
    return { path: final, files: 0, bytes: 0, elapsedMs: performance.now() - started, reused: true, streamed: false };
  }
  const { size } = await stat(tarball);
  const staged: Staged | undefined = await opts.streamed?.complete(tarball, size);
  if (!staged && !fromFile) return undefined;
  const streamedMd5 = staged ? opts.streamed?.md5() : undefined;
  const hashes = await completeHashes(tarball, { ...(streamedMd5 ? { md5: streamedMd5 } : {}), ...opts.known }, size);
  const outer = staged?.outer ?? await mkdtemp(join(pkgsDir, `.${stemOf(pkg.fileName)}.extract-`));
  try {
    const root = staged?.root ?? join(outer, stemOf(pkg.fileName));
    const written = staged?.written ?? await extractInto(root, tarball, pkg.fileName, hashes.size, opts);
    const index = await readIndex(root, pkg.fileName);
    await writeRecord(root, buildRepodataRecord(index, { url: opts.recordUrl, fn: pkg.fileName, ...hashes }));
    await applyDirModes(root, written.dirModes);
    opts.signal?.throwIfAborted();
    await replace(final, root, join(outer, 'previous'));
    return { path: final, files: written.files, bytes: written.bytes, elapsedMs: performance.now() - started, reused: false, streamed: Boolean(staged) };
  } finally {
    await rm(outer, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** The tarball into `root`, in an extraction worker; aborted, it fails with the signal's reason once the worker stopped. */
async function extractInto(root: string, tarball: string, fileName: string, archiveBytes: number,
  opts: ExtractPackageOptions): Promise<Written> {
  await mkdir(root);
  try {
    return await extractFileInWorker({
      fileName, root, archiveBytes, nativeTools: opts.nativeTools, declaredSlackBytes: opts.declaredSlackBytes,
    }, tarball, opts.signal);
  } catch (err) {
    opts.signal?.throwIfAborted();
    throw err;
  }
}

async function readIndex(root: string, fileName: string): Promise<Record<string, unknown>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(join(root, 'info', 'index.json'), 'utf8'));
  } catch (err) {
    throw new PackageArchiveError(`Cannot extract ${fileName}: info/index.json is missing or not JSON.`,
      { code: 'CG_PACKAGE_CORRUPT', package: fileName, entry: 'info/index.json', cause: err });
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new PackageArchiveError(`Cannot extract ${fileName}: info/index.json is not an object.`,
      { code: 'CG_PACKAGE_CORRUPT', package: fileName, entry: 'info/index.json' });
  }
  return parsed as Record<string, unknown>;
}

/** A new file, never through a link the archive may have put at that name. */
async function writeRecord(root: string, record: Parameters<typeof serializeRecord>[0]): Promise<void> {
  const path = join(root, 'info', 'repodata_record.json');
  await unlink(path).catch(() => undefined);
  const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o644);
  try {
    await handle.writeFile(serializeRecord(record), 'utf8');
  } finally {
    await handle.close();
  }
}

/** Move a stale folder aside, then the new one in: the final name is never half-written. */
async function replace(final: string, fresh: string, aside: string): Promise<void> {
  try {
    await rename(fresh, final);
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOTDIR' && code !== 'EISDIR') throw err;
  }
  await rename(final, aside);
  await rename(fresh, final);
}

/** md5, sha256 and size of the tarball: what the download already knows, the rest in one read. */
async function completeHashes(path: string, known: { md5?: string; sha256?: string }, size: number): Promise<{ md5: string; sha256: string; size: number }> {
  if (known.md5 && known.sha256) return { md5: known.md5, sha256: known.sha256, size };
  const md5 = known.md5 ? undefined : createHash('md5');
  const sha256 = known.sha256 ? undefined : createHash('sha256');
  await pipeline(createReadStream(path, { highWaterMark: 1 << 20 }), async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) {
      md5?.update(chunk);
      sha256?.update(chunk);
    }
  });
  return { md5: known.md5 ?? md5!.digest('hex'), sha256: known.sha256 ?? sha256!.digest('hex'), size };
}

/** The lock file is ours to remove when empty; a real partial download (bytes in it) stays. */
async function dropEmptyLockFile(path: string): Promise<void> {
  const st = await stat(path).catch(() => undefined);
  if (st?.isFile() && st.size === 0) await unlink(path).catch(() => undefined);
}
