/**
 * Sharded repodata (CEP-16) fetching: the shard index through the same HTTP cache as
 * repodata.json (`<key>.msgpack.zst` + `<key>.info.json`, key from `<subdir>/repodata_shards.msgpack.zst`),
 * shards by sha256 under `<cache>/shards/` (immutable: never revalidated), and the dependency
 * closure of the wanted names over the platform subdir and noarch, one level at a time with all
 * of a level's shards requested at once.
 * Returns null when the full repodata must be used instead.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Settings } from '../core/settings.js';
import { SafeUrl } from '../redact/safe-url.js';
import type { Session } from '../session/create-session.js';
import { toGatewayError } from '../session/map-error.js';
import { settleAll } from '../util/limiter.js';
import { cachePaths, credentialFreeUrl, defaultCacheDir, subdirUrl } from './cache-key.js';
import { RepodataCache } from './cache.js';
import { emptyState, jsonSafeState, nowNs, setHasFormat, shouldCheckFormat, stateFromResponse, type RepodataState } from './cache-state.js';
import { invalidRepodata } from './errors.js';
import { decide } from './freshness.js';
import { assembleSubset, parseShard, parseShardIndex, shardDependencies, shardUrl, type Shard, type ShardIndex } from './shards.js';
import { BodyRetries, conditionalHeaders, repodataHttpError, send, type TransferContext } from './transfer.js';
import type { CacheResult, FetchRepodataOptions, FetchRepodataResult } from './types.js';
import { budgetError, tooLarge } from './body-guard.js';
import { resolveLimits, type RepodataLimits } from './limits.js';
import { memoryResult } from './records.js';
import { nodeBodyOf, discardBody } from '../core/response-info.js';
import type { Response } from 'undici';
import { DecodedTooLargeError, decodeZstd, ZstdDecodeError } from './zst.js';

export const SHARD_INDEX_FN = 'repodata_shards.msgpack.zst';

export interface ShardOptions extends FetchRepodataOptions {
  settings: Settings;
  session: Session;
}

export interface LoadedIndex {
  subdir: string;
  indexUrl: string;
  index: ShardIndex;
  state: RepodataState;
  cacheResult: CacheResult;
  path: string;
}

/** Thrown inside to mean "use the full repodata instead". */
class NoShards extends Error {}

function isNoShardsStatus(status: number): boolean {
  return status === 404 || status === 501;
}

async function decodeIndex(bytes: Uint8Array, url: string, limits: RepodataLimits): Promise<ShardIndex> {
  let decoded: Uint8Array;
  try {
    decoded = await decodeZstd(bytes, { maxBytes: limits.maxShardIndexBytes });
  } catch (err) {
    if (err instanceof DecodedTooLargeError) throw budgetError(err, 'shard index', url, 'maxShardIndexBytes');
    throw invalidRepodata('shard index', url, err instanceof ZstdDecodeError ? err.message : String(err), err);
  }
  return parseShardIndex(decoded, url, limits.maxShardNames);
}

/** A response body read into memory, refused as soon as it passes `max` bytes. */
async function readCapped(res: Response, max: number, what: string, url: string, limitName: keyof RepodataLimits): Promise<Uint8Array> {
  const body = await nodeBodyOf(res);
  if (!body) return new Uint8Array(0);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > max) {
      body.destroy();
      throw tooLarge(what, url, `over ${max} bytes received`, limitName);
    }
    chunks.push(chunk);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

/** The shard index of one subdir through the HTTP cache; null when the channel has none. */
export async function fetchShardIndex(channelUrl: string, subdir: string, opts: ShardOptions): Promise<LoadedIndex | null> {
  const { settings } = opts;
  const url = subdirUrl(channelUrl, subdir);
  const indexUrl = `${url}/${SHARD_INDEX_FN}`;
  const cleanUrl = credentialFreeUrl(url);
  const cacheDir = opts.cacheDir ?? defaultCacheDir(settings);
  const paths = cachePaths(cacheDir, url, SHARD_INDEX_FN);
  const log = opts.log ?? (() => undefined);
  const cache = new RepodataCache(paths, { noLock: settings.noLock, signal: opts.signal, lockTimeoutMs: opts.lockTimeoutMs, log });
  const isFile = url.startsWith('file:');
  const networkAllowed = isFile || !(settings.offline || settings.useIndexCache);
  const limits = resolveLimits(opts.limits);
  const loaded = (index: ShardIndex, state: RepodataState, cacheResult: CacheResult): LoadedIndex =>
    ({ subdir, indexUrl, index, state, cacheResult, path: paths.data });

  await mkdir(cacheDir, { recursive: true });
  const retries = new BodyRetries({ ...opts, log });
  const attempt = async (lockHeld: boolean): Promise<LoadedIndex | null | undefined> => {
    const state = await cache.loadState(cleanUrl);
    const data = await cache.readData(state);
    if (!data.trusted && !shouldCheckFormat(state, 'shards')) return null;
    const decision = decide({ state, hasData: data.trusted, settings, isFile, nowNs: nowNs() });
    if (decision.action === 'empty') return null;
    if (decision.action === 'use-cache' && data.trusted) {
      try {
        return loaded(await decodeIndex(data.bytes, indexUrl, limits), state, decision.cacheResult);
      } catch (err) {
        if (!networkAllowed) throw err;
      }
    }
    if (!networkAllowed) return null;
    if (!lockHeld) return undefined;
    const ctx: TransferContext = {
      url, cleanUrl, channelUrl, subdir, session: opts.session, settings, signal: opts.signal, log, limits, onRetry: opts.onRetry,
    };
    const res = await send(ctx, indexUrl, conditionalHeaders(state, data.trusted));
    if (res.ok) {
      let bytes: Uint8Array;
      try {
        bytes = await readCapped(res, limits.maxShardIndexBytes, 'shard index', indexUrl, 'maxShardIndexBytes');
      } catch (err) {
        await retries.again(toGatewayError(err, { url: indexUrl, channelAlias: settings.channelAlias }), indexUrl);
        return attempt(true);
      }
      const index = await decodeIndex(bytes, indexUrl, limits);
      const next = stateFromResponse(cleanUrl, res.headers, state);
      setHasFormat(next, 'shards', true);
      const saved = await cache.save(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), next);
      return loaded(index, saved, data.trusted ? 'updated' : 'miss');
    }
    if (res.status === 304 && data.trusted) {
      await discardBody(res);
      return loaded(await decodeIndex(data.bytes, indexUrl, limits), await cache.refresh(state), 'revalidated');
    }
    if (isNoShardsStatus(res.status)) {
      await discardBody(res);
      const none = emptyState(cleanUrl);
      setHasFormat(none, 'shards', false);
      await cache.writeState({ ...none, refresh_ns: nowNs() });
      log(`${SafeUrl.from(indexUrl).toString()}: no sharded repodata (HTTP ${res.status}); using repodata.json`);
      return null;
    }
    throw await repodataHttpError(ctx, res, SHARD_INDEX_FN);
  };

  return cache.underFetchLock(() => attempt(false), async () => (await attempt(true)) ?? null);
}

/** One shard by hash: from `<cache>/shards/<hex>.msgpack.zst` when present and intact, else downloaded and checked. */
async function loadShard(url: string, hex: string, shardDir: string, opts: ShardOptions, limits: RepodataLimits): Promise<{ shard: Shard; downloaded: boolean }> {
  const path = join(shardDir, `${hex}.msgpack.zst`);
  const sha = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
  const cached = await readFile(path).catch(() => undefined);
  if (cached && sha(cached) === hex) return { shard: await decodeShard(cached, url, limits), downloaded: false };
  if (opts.settings.offline && !url.startsWith('file:')) throw new NoShards('offline and shard not cached');
  const retries = new BodyRetries({ ...opts, log: opts.log ?? (() => undefined) });
  let bytes: Uint8Array;
  for (;;) {
    let res;
    try {
      res = await opts.session.fetch(url, { signal: opts.signal, onRetry: opts.onRetry });
    } catch (err) {
      throw toGatewayError(err, { url, channelAlias: opts.settings.channelAlias });
    }
    if (isNoShardsStatus(res.status)) {
      await discardBody(res);
      throw new NoShards(`shard host answered ${res.status}`);
    }
    if (!res.ok) {
      const { httpErrorFromResponse } = await import('../errors/http-error.js');
      throw await httpErrorFromResponse(res, { url, channelAlias: opts.settings.channelAlias });
    }
    try {
      bytes = await readCapped(res, limits.maxShardBytes, 'shard', url, 'maxShardBytes');
      break;
    } catch (err) {
      await retries.again(toGatewayError(err, { url, channelAlias: opts.settings.channelAlias }), url);
    }
  }
  if (bytes.length === 0) throw invalidRepodata('shard', url, 'the response is empty');
  const actual = sha(bytes);
  if (actual !== hex) throw invalidRepodata('shard', url, `its sha256 is ${actual}, not the ${hex} that names it`);
  const shard = await decodeShard(bytes, url, limits);
  const temp = `${path}.${process.pid}.${Math.random().toString(16).slice(2, 8)}.tmp`;
  try {
    await writeFile(temp, bytes, { flag: 'wx' });
    await rename(temp, path);
  } finally {
    await unlink(temp).catch(() => undefined);
  }
  return { shard, downloaded: true };
}

async function decodeShard(bytes: Uint8Array, url: string, limits: RepodataLimits): Promise<Shard> {
  let decoded: Uint8Array;
  try {
    decoded = await decodeZstd(bytes, { maxBytes: limits.maxShardBytes });
  } catch (err) {
    if (err instanceof DecodedTooLargeError) throw budgetError(err, 'shard', url, 'maxShardBytes');
    throw invalidRepodata('shard', url, (err as Error).message, err);
  }
  return parseShard(decoded, url);
}

/**
 * The subsets of `subdirs` (normally the platform subdir and noarch) holding `packages` and
 * everything their `depends` reach. Null when a subdir has no shard index or the shard host
 * answers 404/501: then the caller uses the full repodata.
 */
export async function fetchShardedSubset(channelUrl: string, subdirs: readonly string[], packages: readonly string[],
  opts: ShardOptions): Promise<Map<string, FetchRepodataResult> | null> {
  const { settings } = opts;
  const cacheDir = opts.cacheDir ?? defaultCacheDir(settings);
  const shardDir = join(cacheDir, 'shards');
  const log = opts.log ?? (() => undefined);
  const limits = resolveLimits(opts.limits);
  try {
    // Settled together: a failing subdir must not leave the other still writing into the cache.
    const indexes = await settleAll(subdirs, (s) => fetchShardIndex(channelUrl, s, opts));
    if (indexes.some((i) => i === null)) return null;
    const loadedIndexes = indexes as LoadedIndex[];
    await mkdir(shardDir, { recursive: true });
    const shardsBySubdir = new Map<string, Shard[]>(loadedIndexes.map((i) => [i.subdir, []]));
    const pending = new Map<string, Promise<{ shard: Shard; downloaded: boolean }>>();
    const visited = new Set<string>();
    let downloaded = 0;
    let used = 0;
    let wave = [...new Set(packages.map((p) => p.trim().toLowerCase()).filter(Boolean))];
    while (wave.length > 0) {
      for (const name of wave) visited.add(name);
      const jobs = wave.flatMap((name) => loadedIndexes.flatMap((idx) => {
        const hex = idx.index.shards.get(name);
        return hex ? [{ idx, hex }] : [];
      }));
      // A level's shards are requested all at once: with HTTP/2 they share one connection, and
      // latency is paid once per level instead of once per small batch.
      const results = await settleAll(jobs, async ({ idx, hex }) => {
        const url = shardUrl(idx.indexUrl, idx.index.info, hex);
        let job = pending.get(url);
        if (!job) {
          job = loadShard(url, hex, shardDir, opts, limits);
          pending.set(url, job);
        }
        return { idx, ...(await job) };
      });
      const next = new Set<string>();
      for (const { idx, shard, downloaded: fresh } of results) {
        shardsBySubdir.get(idx.subdir)!.push(shard);
        used++;
        if (fresh) downloaded++;
        for (const dep of shardDependencies(shard)) if (!visited.has(dep)) next.add(dep);
      }
      wave = [...next];
    }
    log(`${SafeUrl.from(channelUrl).toString()}: ${visited.size} names, ${used} shards (${downloaded} downloaded)`);
    const out = new Map<string, FetchRepodataResult>();
    for (const idx of loadedIndexes) {
      out.set(idx.subdir, memoryResult({
        state: jsonSafeState(idx.state), cacheResult: idx.cacheResult, url: new SafeUrl(subdirUrl(channelUrl, idx.subdir)),
        cachePath: idx.path, source: 'shards',
        shards: { names: visited.size, shards: shardsBySubdir.get(idx.subdir)!.length, downloaded },
      }, assembleSubset(idx.subdir, idx.index.info, shardsBySubdir.get(idx.subdir)!)));
    }
    return out;
  } catch (err) {
    if (err instanceof NoShards) {
      log(`${SafeUrl.from(channelUrl).toString()}: ${err.message}; using repodata.json`);
      return null;
    }
    throw toGatewayError(err, { url: channelUrl, channelAlias: settings.channelAlias });
  }
}
