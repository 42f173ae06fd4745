/**
 * The conda package cache on disk: which directory (conda's pkgs_dirs rule), making it
 * ready (`urls.txt` and `urls` as conda creates them), whether a package is already
 * there and verified, and recording fetched URLs in `urls.txt` the way conda appends them.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, appendFile, constants, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Settings } from '../core/settings.js';
import { NotWritableError } from '../errors/classes.js';
import type { PackageSpec } from './types.js';

export const URLS_TXT = 'urls.txt';

/** conda's order: the first of pkgs_dirs (CONDA_PKGS_DIRS feeds it), else ~/.conda/pkgs. */
export function defaultPkgsDir(settings: Settings): string {
  const first = settings.pkgsDirs.find((d) => d.trim() !== '');
  if (first) return resolve(expandHome(first.trim(), settings.homeDir));
  return join(settings.homeDir, '.conda', 'pkgs');
}

function expandHome(path: string, home: string): string {
  return path === '~' || path.startsWith('~/') ? join(home, path.slice(1)) : path;
}

/** Create the directory and conda's marker files; a directory we cannot write is an error now, before any download. */
export async function preparePkgsDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, constants.W_OK);
    for (const marker of [URLS_TXT, 'urls']) await writeFile(join(dir, marker), '', { flag: 'a' });
  } catch (err) {
    throw new NotWritableError(dir, {
      cause: err, hint: `Choose another --pkgs-dir, set pkgs_dirs / CONDA_PKGS_DIRS, or fix the permissions of ${dir}.`,
    });
  }
}

/** Verified when a checksum is known; with none, an existing file is taken as is (and reported unverified). */
export async function checkCached(dir: string, pkg: PackageSpec): Promise<{ path: string; bytes: number; unverified: boolean } | undefined> {
  const path = join(dir, pkg.fileName);
  const st = await stat(path).catch(() => undefined);
  if (!st?.isFile()) return undefined;
  if (pkg.size !== undefined && st.size !== pkg.size) return undefined;
  if (!pkg.sha256 && !pkg.md5) return { path, bytes: st.size, unverified: true };
  const kind = pkg.sha256 ? 'sha256' : 'md5';
  const hash = createHash(kind);
  await pipeline(createReadStream(path, { highWaterMark: 1 << 20 }), hash);
  return hash.digest('hex') === (pkg.sha256 ?? pkg.md5) ? { path, bytes: st.size, unverified: false } : undefined;
}

/**
 * The URL as recorded in urls.txt, what conda records for a plain channel URL: no
 * user:password@, no /t/<token>/, no query (signed S3/CDN URLs carry their signature there)
 * and no fragment. Secrets are never persisted.
 */
export function urlForCache(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    u.search = '';
    u.hash = '';
    u.pathname = u.pathname.replace(/\/t\/[^/]+(?=\/)/, '');
    return u.href;
  } catch {
    // Not a URL: keep what is certainly not a query, fragment or userinfo.
    return url.replace(/[?#].*$/s, '').replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/]*@/i, '$1');
  }
}

/** Appends to urls.txt once per URL; concurrent processes append whole lines (O_APPEND). */
export class UrlsTxt {
  readonly #path: string;
  #known: Promise<Set<string>> | undefined;

  constructor(dir: string) {
    this.#path = join(dir, URLS_TXT);
  }

  async add(url: string): Promise<void> {
    const line = urlForCache(url);
    this.#known ??= readFile(this.#path, 'utf8').then((t) => new Set(t.split(/\r?\n/)), () => new Set<string>());
    const known = await this.#known;
    if (known.has(line)) return;
    known.add(line);
    await appendFile(this.#path, `${line}${process.platform === 'win32' ? '\r\n' : '\n'}`);
  }
}
