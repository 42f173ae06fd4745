/**
 * The conda package cache on disk: which directory (conda's pkgs_dirs rule), making it
 * ready (`urls.txt` and `urls` as conda creates them), whether a package is already
 * there and verified, and recording fetched URLs in `urls.txt` the way conda appends them.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, constants, lstat, mkdir, readdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Settings } from '../core/settings.js';
import { NotWritableError, UnsafePathError } from '../errors/classes.js';
import { appendNoFollow, readNoFollow } from '../util/no-follow.js';
import { unsafeFileNameReason } from './cache-name.js';
import type { PackageSpec } from './types.js';

export const URLS_TXT = 'urls.txt';
/** A urls.txt larger than this is not read to skip duplicates (lines are then appended again, as conda does). */
const MAX_URLS_TXT_BYTES = 64 * 1024 * 1024;

/** conda's order: the first of pkgs_dirs (CONDA_PKGS_DIRS feeds it), else ~/.conda/pkgs. */
export function defaultPkgsDir(settings: Settings): string {
  const first = settings.pkgsDirs.find((d) => d.trim() !== '');
  if (first) return resolve(expandHome(first.trim(), settings.homeDir));
  return join(settings.homeDir, '.conda', 'pkgs');
}

function expandHome(path: string, home: string): string {
  return path === '~' || path.startsWith('~/') ? join(home, path.slice(1)) : path;
}

/**
 * The path of a file directly inside the package cache. Every path we write or read under
 * the cache goes through here: a name that is not one plain file name, or whose path does
 * not resolve to a direct child of the cache folder, is refused.
 */
export function cachePath(dir: string, fileName: string): string {
  const root = resolve(dir);
  const path = resolve(root, fileName);
  const reason = unsafeFileNameReason(fileName) ?? (dirname(path) === root && path !== root ? undefined : 'it resolves outside the cache');
  if (reason) {
    throw new UnsafePathError(`Refusing the package cache file name ${JSON.stringify(fileName)}: ${reason}.`, path, {
      details: { pkgsDir: root },
    });
  }
  return path;
}

/** Create the directory and conda's marker files; a directory we cannot write is an error now, before any download. */
export async function preparePkgsDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, constants.W_OK);
    for (const marker of [URLS_TXT, 'urls']) await appendNoFollow(cachePath(dir, marker), '');
  } catch (err) {
    if (err instanceof UnsafePathError) throw err;
    throw new NotWritableError(dir, {
      cause: err, hint: `Choose another --pkgs-dir, set pkgs_dirs / CONDA_PKGS_DIRS, or fix the permissions of ${dir}.`,
    });
  }
}

/**
 * The names in the cache folder, read once, so checking 100k packages against an empty or
 * small cache costs one readdir instead of 100k lstat calls. Undefined when unreadable.
 */
export async function listPkgsDir(dir: string): Promise<ReadonlySet<string> | undefined> {
  try {
    return new Set(await readdir(dir));
  } catch (err) {
    return (err as { code?: string }).code === 'ENOENT' ? new Set() : undefined;
  }
}

/** Verified when a checksum is known; with none, an existing file is taken as is (and reported unverified). */
/** A verified tarball in the cache; `known`: the checksum computed to verify it (the extraction's record reuses it). */
export async function checkCached(dir: string, pkg: PackageSpec, present?: ReadonlySet<string>): Promise<{ path: string; bytes: number; unverified: boolean; known?: { md5?: string; sha256?: string } } | undefined> {
  const path = cachePath(dir, pkg.fileName);
  if (present && !present.has(pkg.fileName)) return undefined;
  // lstat: a symlink is never a cache hit (its target could change after we verified it).
  const st = await lstat(path).catch(() => undefined);
  if (!st?.isFile()) return undefined;
  if (pkg.size !== undefined && st.size !== pkg.size) return undefined;
  if (!pkg.sha256 && !pkg.md5) return { path, bytes: st.size, unverified: true };
  const kind = pkg.sha256 ? 'sha256' : 'md5';
  const hash = createHash(kind);
  await pipeline(createReadStream(path, { highWaterMark: 1 << 20 }), hash);
  const digest = hash.digest('hex');
  return digest === (pkg.sha256 ?? pkg.md5) ? { path, bytes: st.size, unverified: false, known: { [kind]: digest } } : undefined;
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
    this.#path = cachePath(dir, URLS_TXT);
  }

  /** `keepCredentials`: the URL as given (no fragment), tokens and passwords included, as conda writes it. */
  async add(url: string, options: { keepCredentials?: boolean } = {}): Promise<void> {
    const line = options.keepCredentials ? url.replace(/#.*$/s, '') : urlForCache(url);
    this.#known ??= readNoFollow(this.#path, MAX_URLS_TXT_BYTES).then((t) => new Set((t ?? '').split(/\r?\n/)));
    const known = await this.#known;
    if (known.has(line)) return;
    known.add(line);
    await appendNoFollow(this.#path, `${line}${process.platform === 'win32' ? '\r\n' : '\n'}`);
  }
}
