/**
 * Cache file names for a channel subdir, as conda's cache_fn_url computes them: from the URL
 * *with* its credentials (`cache_fn_url(self.url_w_credentials)`), so a `/t/<token>/` or
 * `user:pass@` channel shares conda's cache file. The key is a hash, so no secret reaches a
 * file name; the URL recorded inside `.info.json` is the credential-free one.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Settings } from '../core/settings.js';

/** The subdir URL without `user:pass@`, the anaconda `/t/<token>` segment or a query, and without a trailing `/`. */
export function credentialFreeUrl(url: string | URL): string {
  const parsed = new URL(typeof url === 'string' ? url : url.href);
  parsed.username = '';
  parsed.password = '';
  parsed.search = '';
  parsed.hash = '';
  parsed.pathname = parsed.pathname.replace(/\/t\/[^/]+(?=\/|$)/, '');
  return parsed.href.replace(/\/+$/, '');
}

/** `<channel>/<subdir>` with single slashes. */
export function subdirUrl(channelUrl: string, subdir: string): string {
  return `${channelUrl.replace(/\/+$/, '')}/${subdir.replace(/^\/+|\/+$/g, '')}`;
}

/** The URL conda hashes: credentials kept (as conda's url_w_credentials), no query or fragment, no trailing `/`. */
export function keyedUrl(url: string | URL): string {
  const parsed = new URL(typeof url === 'string' ? url : url.href);
  parsed.search = '';
  parsed.hash = '';
  return parsed.href.replace(/\/+$/, '');
}

/**
 * First 8 hex digits of md5(`<subdir url>/` + repodata_fn when it is not repodata.json):
 * `https://conda.anaconda.org/conda-forge/linux-64` → `497deca9`. Credentials in the URL
 * (`/t/<token>/`, `user:pass@`) are part of the key, as in conda.
 */
export function cacheKey(url: string | URL, repodataFn = 'repodata.json'): string {
  let text = keyedUrl(url);
  if (!text.endsWith('/')) text += '/';
  if (repodataFn !== 'repodata.json') text += repodataFn;
  return createHash('md5').update(text).digest('hex').slice(0, 8);
}

export interface CachePaths {
  /** `<cache>/<key>.json`, or `<key>.msgpack.zst` for the shard index. */
  data: string;
  /** `<cache>/<key>.info.json` */
  state: string;
  /** `<cache>/<key>` (temporaries are `<key>.cg-<8 hex>.tmp`; conda's `<key>.<4 hex>.tmp`). */
  base: string;
}

export function cachePaths(cacheDir: string, url: string | URL, repodataFn = 'repodata.json'): CachePaths {
  const base = join(cacheDir, cacheKey(url, repodataFn));
  const data = repodataFn.endsWith('.msgpack.zst') ? `${base}.msgpack.zst` : `${base}.json`;
  return { base, data, state: `${base}.info.json` };
}

/** conda's default: `<first pkgs_dir>/cache`. */
export function defaultCacheDir(settings: Settings): string {
  return join(settings.pkgsDirs[0] ?? join(settings.homeDir, '.conda', 'pkgs'), 'cache');
}
