/**
 * fetchRepodata(): a channel subdir's index through conda's cache (RepodataFetch). Decides
 * from the state file whether to ask the server, asks with validators, writes data then
 * state, and reports what happened. Concurrent refreshes of one index (threads or
 * processes) are serialised, and the later ones find the fresh cache.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Settings } from '../config/settings.js';
import { defaultSettings } from '../config/load-settings.js';
import { CacheError } from '../errors/classes.js';
import { SafeUrl } from '../redact/safe-url.js';
import { createSession, type Session } from '../session/create-session.js';
import { toGatewayError } from '../session/map-error.js';
import { cachePaths, credentialFreeUrl, defaultCacheDir, subdirUrl } from './cache-key.js';
import { RepodataCache } from './cache.js';
import { nowNs, type RepodataState } from './cache-state.js';
import { invalidRepodata } from './errors.js';
import { decide } from './freshness.js';
import { fetchShardedSubset } from './sharded.js';
import { transferRepodata } from './transfer.js';
import type { FetchRepodataOptions, FetchRepodataResult, Repodata } from './types.js';

/** Parse index bytes; anything but one JSON object is an error that caches nothing. */
export function parseRepodata(bytes: Buffer | string, url: string): Repodata {
  const text = typeof bytes === 'string' ? bytes : bytes.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw invalidRepodata('repodata.json', url, `${(err as Error).message}; got ${JSON.stringify(text.slice(0, 32))}`, err);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidRepodata('repodata.json', url, `expected a JSON object, got ${Array.isArray(value) ? 'an array' : String(value)}`);
  }
  return value as Repodata;
}

export async function fetchRepodata(channelUrl: string, subdir: string, opts: FetchRepodataOptions = {}): Promise<FetchRepodataResult> {
  const settings = opts.session?.settings ?? opts.settings ?? defaultSettings();
  const session = opts.session ?? createSession({ settings, log: opts.log });
  try {
    if (opts.packages && opts.packages.length > 0 && settings.repodataUseShards) {
      const subdirs = subdir === 'noarch' ? ['noarch'] : [subdir, 'noarch'];
      const sharded = await fetchShardedSubset(channelUrl, subdirs, opts.packages, { ...opts, settings, session });
      const mine = sharded?.get(subdir);
      if (mine) return mine;
    }
    return await fetchFull(channelUrl, subdir, { ...opts, settings, session });
  } finally {
    if (!opts.session) await session.close();
  }
}

type DataProbe = Awaited<ReturnType<RepodataCache['probe']>>;

interface FullOptions extends FetchRepodataOptions {
  settings: Settings;
  session: Session;
}

/** The whole `repodata.json` of one subdir through the cache. */
export async function fetchFull(channelUrl: string, subdir: string, opts: FullOptions): Promise<FetchRepodataResult> {
  const { settings } = opts;
  const url = subdirUrl(channelUrl, subdir);
  const cleanUrl = credentialFreeUrl(url);
  const safe = new SafeUrl(url);
  const cacheDir = opts.cacheDir ?? defaultCacheDir(settings);
  const paths = cachePaths(cacheDir, cleanUrl);
  const log = opts.log ?? (() => undefined);
  const cache = new RepodataCache(paths, { noLock: settings.noLock, signal: opts.signal, lockTimeoutMs: opts.lockTimeoutMs, log });
  const isFile = url.startsWith('file:');
  const result = (repodata: Repodata, state: RepodataState, cacheResult: FetchRepodataResult['cacheResult'],
    source: FetchRepodataResult['source']): FetchRepodataResult =>
    ({ repodata, state, cacheResult, url: safe, cachePath: paths.data, source });

  try {
    await mkdir(cacheDir, { recursive: true });
    const networkAllowed = isFile || !(settings.offline || settings.useIndexCache);
    /** A cached answer, or undefined when the server must be asked. A cache file that does not parse is refetched when the network may be used. */
    const fromCache = async (state: RepodataState, probe: DataProbe, lockHeld: boolean): Promise<FetchRepodataResult | undefined> => {
      const decision = decide({ state, hasData: probe.exists, settings, isFile, nowNs: nowNs() });
      if (decision.action === 'empty') return result({}, state, 'stale', 'none');
      if (decision.action === 'fetch') return undefined;
      if (probe.trusted) {
        const data = await cache.readData(state);
        if (!data.trusted) return undefined;
        try {
          return result(parseCached(data.bytes, paths.data, url), state, decision.cacheResult, 'cache');
        } catch (err) {
          if (!networkAllowed) throw err;
          log(`${paths.data} does not parse; downloading it again`);
          return undefined;
        }
      }
      // A data file that does not match its state: usable only when the network may not be asked.
      if (!lockHeld || networkAllowed) return undefined;
      const bytes = await cache.readUntrusted();
      return result(bytes ? parseCached(bytes, paths.data, url) : {}, { ...state, etag: '', mod: '', cache_control: '', size: 0 }, 'stale', 'cache');
    };

    const quickState = await cache.loadState(cleanUrl);
    const quick = await fromCache(quickState, await cache.probe(quickState), false);
    if (quick) return quick;

    const fetchLock = await cache.fetchLock();
    try {
      const state = await cache.loadState(cleanUrl);
      const probe = await cache.probe(state);
      const settled = await fromCache(state, probe, true);
      if (settled) return settled;
      const hadCache = probe.exists;
      const ctx = { url, cleanUrl, channelUrl, subdir, session: opts.session, settings, signal: opts.signal, log };
      let outcome = await transferRepodata(ctx, state, probe.trusted, cache.tempPath());
      if (outcome.kind === 'not-modified') {
        const data = await cache.readData(state);
        if (data.trusted) {
          try {
            const cached = parseRepodata(data.bytes, url);
            return result(cached, await cache.refresh(outcome.state), 'revalidated', 'cache');
          } catch {
            log(`${paths.data} does not parse; downloading it again`);
          }
        }
        outcome = await transferRepodata(ctx, state, false, cache.tempPath());
        if (outcome.kind === 'not-modified') {
          throw invalidRepodata('repodata.json', url, 'the server answered 304 Not Modified to an unconditional request');
        }
      }
      if (outcome.kind === 'empty') {
        const next = await cache.save('{}', outcome.state);
        return result({}, next, hadCache ? 'updated' : 'miss', 'repodata.json');
      }
      let repodata: Repodata;
      try {
        repodata = parseRepodata(await cache.readTemp(outcome.tempPath), `${url}/${outcome.source}`);
      } catch (err) {
        await cache.discardTemp(outcome.tempPath);
        throw err;
      }
      const next = await cache.commit(outcome.tempPath, outcome.state).finally(() => cache.discardTemp(outcome.tempPath));
      return result(repodata, next, hadCache ? 'updated' : 'miss', outcome.source);
    } finally {
      await fetchLock.release();
    }
  } catch (err) {
    throw toGatewayError(err, { url: safe, channelAlias: settings.channelAlias, path: paths.data });
  }
}

/** A trusted cache file that does not parse: conda's "An error occurred when loading cached repodata". */
function parseCached(bytes: Buffer, path: string, url: string): Repodata {
  try {
    return parseRepodata(bytes, url);
  } catch (err) {
    throw new CacheError(
      'An error occurred when loading cached repodata.  Executing\n`conda clean --index-cache` will remove cached repodata files\n' +
        `so they can be downloaded again.\n  path: ${path}`,
      { code: 'CG_REPODATA_INVALID', url, cause: err, hint: `Remove ${path} (or run \`conda clean --index-cache\`) and fetch again.` });
  }
}
