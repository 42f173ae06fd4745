/**
 * fetchRepodata(): a channel subdir's index through conda's cache (RepodataFetch). Decides
 * from the state file whether to ask the server, asks with validators, writes data then
 * state, and reports what happened. Concurrent refreshes of one index (threads or
 * processes) are serialised, and the later ones find the fresh cache.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Settings } from '../core/settings.js';
import { SafeUrl } from '../redact/safe-url.js';
import type { Session } from '../session/create-session.js';
import { withSession } from '../session/with-session.js';
import { toGatewayError } from '../session/map-error.js';
import { cachePaths, credentialFreeUrl, defaultCacheDir, subdirUrl, type CachePaths } from './cache-key.js';
import { RepodataCache } from './cache.js';
import { jsonSafeState, nowNs, recordCountOf, type RepodataState } from './cache-state.js';
import { invalidRepodata } from './errors.js';
import { resolveLimits, type RepodataLimits } from './limits.js';
import { cachedParseError, fileResult, memoryResult } from './records.js';
import { decide } from './freshness.js';
import { fetchShardedSubset } from './sharded.js';
import { transferRepodata } from './transfer.js';
import type { CacheResult, FetchRepodataOptions, FetchRepodataResult, Repodata } from './types.js';

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
  // withSession's own session is built on the first request only: a fresh cache needs none.
  return withSession(opts, async (session, settings) => {
    if (opts.packages && opts.packages.length > 0 && settings.repodataUseShards) {
      const subdirs = subdir === 'noarch' ? ['noarch'] : [subdir, 'noarch'];
      const sharded = await fetchShardedSubset(channelUrl, subdirs, opts.packages, { ...opts, settings, session });
      const mine = sharded?.get(subdir);
      if (mine) return mine;
    }
    return fetchFull(channelUrl, subdir, { ...opts, settings, session });
  });
}

type DataProbe = Awaited<ReturnType<RepodataCache['probe']>>;

interface FullOptions extends FetchRepodataOptions {
  settings: Settings;
  session: Session;
}

/** The whole `repodata.json` of one subdir through the cache. */
export async function fetchFull(channelUrl: string, subdir: string, opts: FullOptions): Promise<FetchRepodataResult> {
  const job = new FullFetch(channelUrl, subdir, opts);
  try {
    return await job.run();
  } catch (err) {
    throw toGatewayError(err, { url: job.safe, channelAlias: opts.settings.channelAlias, path: job.paths.data });
  }
}

/** One fetchFull call: where its cache lives and what the settings allow. */
class FullFetch {
  readonly url: string;
  readonly cleanUrl: string;
  readonly safe: SafeUrl;
  readonly cacheDir: string;
  readonly paths: CachePaths;
  readonly cache: RepodataCache;
  readonly isFile: boolean;
  /** False when offline or use_index_cache forbid asking the server (file:// is always allowed). */
  readonly networkAllowed: boolean;
  readonly log: (message: string) => void;
  readonly limits: RepodataLimits;

  constructor(readonly channelUrl: string, readonly subdir: string, readonly opts: FullOptions) {
    const { settings } = opts;
    this.url = subdirUrl(channelUrl, subdir);
    this.cleanUrl = credentialFreeUrl(this.url);
    this.safe = new SafeUrl(this.url);
    this.cacheDir = opts.cacheDir ?? defaultCacheDir(settings);
    this.paths = cachePaths(this.cacheDir, this.url);
    this.log = opts.log ?? (() => undefined);
    this.limits = resolveLimits(opts.limits);
    this.cache = new RepodataCache(this.paths, { noLock: settings.noLock, signal: opts.signal, lockTimeoutMs: opts.lockTimeoutMs, log: this.log });
    this.isFile = this.url.startsWith('file:');
    this.networkAllowed = this.isFile || !(settings.offline || settings.useIndexCache);
  }

  #base(state: RepodataState, cacheResult: CacheResult, source: FetchRepodataResult['source']) {
    return { state: jsonSafeState(state), cacheResult, url: this.safe, cachePath: this.paths.data, source };
  }

  /** A result over the cache file, parsed only when records are asked for. */
  fromFile(state: RepodataState, cacheResult: CacheResult, source: FetchRepodataResult['source'], count?: number): FetchRepodataResult {
    return fileResult(this.#base(state, cacheResult, source), this.paths.data, this.url, count);
  }

  inMemory(repodata: Repodata, state: RepodataState, cacheResult: CacheResult, source: FetchRepodataResult['source']): FetchRepodataResult {
    return memoryResult(this.#base(state, cacheResult, source), repodata);
  }

  async run(): Promise<FetchRepodataResult> {
    await mkdir(this.cacheDir, { recursive: true });
    const look = async (lockHeld: boolean) => {
      const state = await this.cache.loadState(this.cleanUrl);
      const probe = await this.cache.probe(state);
      return { state, probe, found: await this.fromCache(state, probe, lockHeld) };
    };
    return this.cache.underFetchLock(async () => (await look(false)).found, async () => {
      const { state, probe, found } = await look(true);
      return found ?? (await this.refresh(state, probe));
    });
  }

  /**
   * A cached answer, or undefined when the server must be asked. The cache file is not parsed:
   * it must match its state and look whole (cache.looksWhole); one that does not is refetched
   * when the network may be used.
   */
  async fromCache(state: RepodataState, probe: DataProbe, lockHeld: boolean): Promise<FetchRepodataResult | undefined> {
    const decision = decide({ state, hasData: probe.exists, settings: this.opts.settings, isFile: this.isFile, nowNs: nowNs() });
    if (decision.action === 'empty') return this.inMemory({}, state, 'stale', 'none');
    if (decision.action === 'fetch') return undefined;
    if (probe.trusted) {
      if (await this.cache.looksWhole(state)) return this.fromFile(state, decision.cacheResult, 'cache', recordCountOf(state));
      if (!this.networkAllowed) throw cachedParseError(this.paths.data, this.url, new SyntaxError('not one whole JSON object'));
      this.log(`${this.paths.data} does not parse; downloading it again`);
      return undefined;
    }
    // A data file that does not match its state: usable only when the network may not be asked.
    if (!lockHeld || this.networkAllowed) return undefined;
    const stale = { ...state, etag: '', mod: '', cache_control: '', size: 0 };
    if (!(await this.cache.dataExists())) return this.inMemory({}, stale, 'stale', 'cache');
    return this.fromFile(stale, 'stale', 'cache');
  }

  /** Ask the server (validators only for a trusted cache) and commit what it says: data first, state second. */
  async refresh(state: RepodataState, probe: DataProbe): Promise<FetchRepodataResult> {
    const { settings, session, signal } = this.opts;
    const ctx = {
      url: this.url, cleanUrl: this.cleanUrl, channelUrl: this.channelUrl, subdir: this.subdir, session, settings, signal, log: this.log,
      sleep: this.opts.sleep, onRetry: this.opts.onRetry, limits: this.limits,
    };
    const fresh = probe.exists ? 'updated' : 'miss';
    let outcome = await transferRepodata(ctx, state, probe.trusted, this.cache.tempPath());
    if (outcome.kind === 'not-modified') {
      if (await this.cache.looksWhole(state)) {
        const refreshed = await this.cache.refresh(outcome.state);
        return this.fromFile(refreshed, 'revalidated', 'cache', recordCountOf(refreshed));
      }
      this.log(`${this.paths.data} does not parse; downloading it again`);
      outcome = await transferRepodata(ctx, state, false, this.cache.tempPath());
      if (outcome.kind === 'not-modified') {
        throw invalidRepodata('repodata.json', this.url, 'the server answered 304 Not Modified to an unconditional request');
      }
    }
    if (outcome.kind === 'empty') return this.inMemory({}, await this.cache.save('{}', outcome.state), fresh, 'repodata.json');
    const { tempPath } = outcome;
    try {
      // Validated on its way into the temp file (body-guard.ts): committed without parsing.
      return this.fromFile(await this.cache.commit(tempPath, outcome.state, outcome.summary.records), fresh, outcome.source, outcome.summary.records);
    } finally {
      await this.cache.discardTemp(tempPath);
    }
  }
}
