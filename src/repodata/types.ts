/** Public types of the repodata module. */
import type { Settings } from '../core/settings.js';
import type { SafeUrl } from '../redact/safe-url.js';
import type { Session } from '../session/create-session.js';
import type { DebugLog, RetryEvent } from '../core/types.js';
import type { RepodataState } from './cache-state.js';
import type { RepodataLimits } from './limits.js';

/**
 * What happened to the cache: `hit` (fresh, no request), `revalidated` (304), `updated`
 * (a cached index replaced by a 200), `miss` (nothing usable was cached; fetched), `stale`
 * (expired or absent, served without asking: offline or use_index_cache).
 */
export type CacheResult = 'hit' | 'revalidated' | 'updated' | 'miss' | 'stale';

/** One package record (the keys conda-index writes; others are kept). */
export interface RepodataRecord {
  name: string;
  version: string;
  build: string;
  build_number?: number;
  depends?: string[];
  constrains?: string[];
  subdir?: string;
  sha256?: string;
  md5?: string;
  size?: number;
  [key: string]: unknown;
}

/** A channel subdir's index. `{}` for a subdir the channel does not have. */
export interface Repodata {
  info?: { subdir?: string; base_url?: string; [key: string]: unknown };
  packages?: Record<string, RepodataRecord>;
  'packages.conda'?: Record<string, RepodataRecord>;
  removed?: string[];
  repodata_version?: number;
  [key: string]: unknown;
}

export interface FetchRepodataOptions {
  /** Where `<key>.json` and `<key>.info.json` live. @default `<first pkgs_dir>/cache` */
  cacheDir?: string;
  /** @default defaultSettings() (or the session's) */
  settings?: Settings;
  /** A session to reuse; otherwise one is made and closed. */
  session?: Session;
  signal?: AbortSignal;
  /**
   * Package names: with `repodata_use_shards` and a sharded channel, only the shards of these
   * names and of everything their `depends` reach are fetched, and the subset is returned.
   */
  packages?: readonly string[];
  log?: DebugLog;
  /** Called before each retry (of a request, or of a body that broke off mid-stream). */
  onRetry?: (event: RetryEvent) => void;
  /** Injectable wait between retries (tests use 0). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** How long to wait for another process refreshing the same index. @default 30 minutes */
  lockTimeoutMs?: number;
  /** Size limits on what a channel may make us decode or hold. @default DEFAULT_REPODATA_LIMITS */
  limits?: Partial<RepodataLimits>;
}

export interface FetchRepodataResult {
  /**
   * The whole index, parsed from the cache file on first access (synchronously). Fetching
   * alone never parses it: prefer `await records()` or `await recordsFor(names)`.
   */
  repodata: Repodata;
  /** The whole index, parsed once (JSON.parse of the cache file). */
  records(): Promise<Repodata>;
  /**
   * Only the records whose `name` is one of `names` (plus `info` and `repodata_version`),
   * found in the cache file without parsing all of it.
   */
  recordsFor(names: readonly string[]): Promise<Repodata>;
  /** Records in `packages` and `packages.conda`, counted without building them. */
  recordCount(): Promise<number>;
  /**
   * The state file's contents after the call (the shard index's state for a sharded subset).
   * `JSON.stringify` prints it with mtime_ns/refresh_ns as exact decimal strings (a bigint
   * cannot be JSON); the `.info.json` on disk keeps conda's integers.
   */
  state: RepodataState;
  cacheResult: CacheResult;
  /** The subdir URL, masked. */
  url: SafeUrl;
  /** The cache file read or written (`<key>.json`, or `<key>.msgpack.zst` for shards). */
  cachePath: string;
  /** Where the index came from on the network, when it did: `repodata.json.zst`, `repodata.json` or `shards`. */
  source: 'repodata.json.zst' | 'repodata.json' | 'shards' | 'cache' | 'none';
  /** For a sharded subset: names visited, shards used and how many were downloaded. */
  shards?: { names: number; shards: number; downloaded: number };
}
