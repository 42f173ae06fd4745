/**
 * conda's TmpDownload in our idiom: download a URL into a fresh temporary folder, hand out
 * the file's path, and remove the folder when done. A local path (no `://`) passes through
 * untouched and nothing is created or removed, as in conda.
 *
 *   await using file = await tmpDownload(url);          // Symbol.asyncDispose removes the folder
 *   const n = await withTmpDownload(url, (path) => …);  // or the callback form
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { download } from './download.js';
import type { DownloadOptions, DownloadResult } from './types.js';

export interface TmpDownloadOptions extends DownloadOptions {
  /** Where the temporary folder is made. @default os.tmpdir() */
  tmpDir?: string;
}

export interface TmpDownload extends AsyncDisposable {
  /** The downloaded file (or the local path given, untouched). */
  readonly path: string;
  /** The temporary folder, removed by dispose(); undefined for a local path. */
  readonly dir: string | undefined;
  /** download()'s result; undefined for a local path. */
  readonly result: DownloadResult | undefined;
  /** Remove the folder (idempotent). The same as `[Symbol.asyncDispose]()`. */
  dispose(): Promise<void>;
}

/** The file name conda uses (basename of the URL), kept to one safe path segment. */
function fileNameOf(url: string | URL): string {
  let name = '';
  try {
    name = new URL(url).pathname.split('/').pop() ?? '';
  } catch { /* download() reports the bad URL */ }
  return name === '' || name === '.' || name === '..' || name.length > 200 ? 'download' : name;
}

function disposable(path: string, dir: string | undefined, result: DownloadResult | undefined): TmpDownload {
  let removed: Promise<void> | undefined;
  const dispose = (): Promise<void> => {
    removed ??= dir === undefined ? Promise.resolve() : rm(dir, { recursive: true, force: true });
    return removed;
  };
  return { path, dir, result, dispose, [Symbol.asyncDispose]: dispose };
}

/** Download `url` into a new temporary folder; dispose of the result to remove the folder. */
export async function tmpDownload(url: string | URL, opts: TmpDownloadOptions = {}): Promise<TmpDownload> {
  if (typeof url === 'string' && !url.includes('://')) return disposable(url, undefined, undefined);
  const { tmpDir, ...downloadOptions } = opts;
  const dir = await mkdtemp(join(tmpDir ?? tmpdir(), 'conda-gateway-'));
  try {
    const result = await download(url, join(dir, fileNameOf(url)), downloadOptions);
    return disposable(result.path, dir, result);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** The callback form: `fn` gets the path; the folder is removed afterwards, also when `fn` throws. */
export async function withTmpDownload<T>(url: string | URL, fn: (path: string) => T | Promise<T>, opts: TmpDownloadOptions = {}): Promise<T> {
  const file = await tmpDownload(url, opts);
  try {
    return await fn(file.path);
  } finally {
    await file.dispose();
  }
}
