/** When a cached index may be used without asking the server: conda's RepodataCache.stale()/timeout(). */
import type { Settings } from '../core/settings.js';
import type { RepodataState } from './cache-state.js';

/** conda's get_cache_control_max_age: the first `max-age=N`, else 0. */
export function cacheControlMaxAge(cacheControl: string): number {
  const m = /max-age=(\d+)/.exec(cacheControl);
  return m?.[1] === undefined ? 0 : Number(m[1]);
}

/**
 * Seconds a cached index stays fresh: `local_repodata_ttl` > 1 is that many seconds, 1 obeys
 * the server's `Cache-Control: max-age`, 0 always revalidates.
 */
export function maxAgeSeconds(localRepodataTtl: number, cacheControl: string): number {
  if (localRepodataTtl > 1) return localRepodataTtl;
  if (localRepodataTtl === 1) return cacheControlMaxAge(cacheControl);
  return 0;
}

/** Seconds left before the cache expires; negative when expired (conda's timeout()). */
export function secondsLeft(state: Pick<RepodataState, 'refresh_ns' | 'cache_control'>, localRepodataTtl: number, nowNs: bigint): number {
  const maxAge = maxAgeSeconds(localRepodataTtl, state.cache_control);
  return maxAge - Number(nowNs - state.refresh_ns) / 1e9;
}

/** conda's stale(): `(now - refresh_ns) > max_age`, a missing refresh_ns counting as 0. */
export function isStale(state: Pick<RepodataState, 'refresh_ns' | 'cache_control'>, localRepodataTtl: number, nowNs: bigint): boolean {
  const maxAgeNs = BigInt(Math.round(maxAgeSeconds(localRepodataTtl, state.cache_control) * 1e9));
  return nowNs - state.refresh_ns > maxAgeNs;
}

/** What to do with a cache before any request (conda's fetch_latest steps 2–3). */
export type CacheDecision =
  | { action: 'use-cache'; cacheResult: 'hit' | 'stale' }
  | { action: 'empty' }
  | { action: 'fetch' };

export interface DecideInput {
  state: Pick<RepodataState, 'refresh_ns' | 'cache_control'>;
  /** A data file is present (trusted or not). */
  hasData: boolean;
  settings: Pick<Settings, 'offline' | 'useIndexCache' | 'localRepodataTtl'>;
  isFile: boolean;
  nowNs: bigint;
}

export function decide({ state, hasData, settings, isFile, nowNs: now }: DecideInput): CacheDecision {
  const stale = isStale(state, settings.localRepodataTtl, now);
  if (!hasData) {
    if (settings.useIndexCache || (settings.offline && !isFile)) return { action: 'empty' };
    return { action: 'fetch' };
  }
  if (settings.useIndexCache) return { action: 'use-cache', cacheResult: stale ? 'stale' : 'hit' };
  if (!isFile && (!stale || settings.offline)) return { action: 'use-cache', cacheResult: stale ? 'stale' : 'hit' };
  return { action: 'fetch' };
}

