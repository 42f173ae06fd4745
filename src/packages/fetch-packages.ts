/**
 * fetchPackages(): every package of an environment into a conda package cache — cached
 * ones verified and skipped without any request, the rest through the verified,
 * resumable download() under a global and a per-host limit, largest first, over one
 * shared session, failing over between mirrors.
 */
import { setMaxListeners } from 'node:events';
import { join, resolve } from 'node:path';
import type { Settings } from '../core/settings.js';
import { defaultSettings } from '../config/load-settings.js';
import { CondaError } from '../errors/classes.js';
import type { ErrorCode } from '../errors/codes.js';
import { GatewayError } from '../errors/gateway-error.js';
import { maskUrl } from '../redact/safe-url.js';
import { download, type DownloadResult } from '../download/download.js';
import { createSession, type Session } from '../session/create-session.js';
import { toGatewayError } from '../session/map-error.js';
import type { DebugLog } from '../core/types.js';
import { MirrorSelector, type Candidate } from './mirrors.js';
import { packageFromUrl } from './package-url.js';
import { checkCached, defaultPkgsDir, preparePkgsDir, UrlsTxt } from './pkgs-dir.js';
import { mergeSpecs } from './read-specs.js';
import { runScheduled } from './scheduler.js';
import type { FetchEvent, FetchSummaryJson, PackageResult, PackageSpec } from './types.js';

/** Parallel downloads when neither `jobs` nor fetch_threads/default_threads is set (see bench/fetch.ts). */
export const DEFAULT_FETCH_JOBS = 8;
/** Concurrent downloads from one host when `jobs` is not given explicitly. */
export const DEFAULT_PER_HOST_JOBS = 8;
/** How often `progress` events are emitted per package, at most. */
export const PROGRESS_INTERVAL_MS = 100;

/** Failures that say "this copy is bad or unreachable", so another mirror may do better. */
const FAILOVER_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'CG_HTTP_STATUS', 'CG_CONNECTION', 'CG_TIMEOUT', 'CG_TLS', 'CG_PROXY', 'CG_REDIRECT', 'CG_OFFLINE',
  'CG_CHECKSUM_MISMATCH', 'CG_CONTENT_LENGTH_MISMATCH', 'CG_BAD_RESPONSE', 'CG_UNSUPPORTED_SCHEME',
  'CG_DEPENDENCY_MISSING', 'CG_CHANNEL_UNAVAILABLE',
]);

export interface FetchPackagesOptions {
  /** @default the first of pkgs_dirs (CONDA_PKGS_DIRS), else ~/.conda/pkgs */
  pkgsDir?: string;
  /** Parallel downloads. @default fetch_threads, else default_threads, else DEFAULT_FETCH_JOBS */
  jobs?: number;
  /** Parallel downloads per host. @default jobs when given, else DEFAULT_PER_HOST_JOBS */
  perHost?: number;
  onEvent?: (event: FetchEvent) => void;
  /** @default defaultSettings() */
  settings?: Settings;
  /** Stops new downloads and interrupts running ones, which keep resumable `.partial` files. */
  signal?: AbortSignal;
  /** Stop at the first failed package. @default false */
  failFast?: boolean;
  /** Check the cache and report what would be fetched; no request, nothing written. @default false */
  dryRun?: boolean;
  log?: DebugLog;
  /** Injectable wait between retries (tests use 0). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface FetchSummary extends FetchSummaryJson {
  packages: PackageResult[];
}

interface RunState {
  pkgsDir: string;
  session: Session;
  mirrors: MirrorSelector;
  urls: UrlsTxt;
  emit: (event: FetchEvent) => void;
  opts: FetchPackagesOptions;
  abort: AbortController;
  /** Masked candidate URL → the package it serves, to attribute session retries. */
  active: Map<string, PackageSpec>;
  bytesFetched: number;
}

function normalizeSpecs(specs: ReadonlyArray<PackageSpec | string>): PackageSpec[] {
  return mergeSpecs([specs.map((s, i) => (typeof s === 'string' ? packageFromUrl(s, { file: 'argument', line: i + 1 }) : s))]);
}

function resolveJobs(opts: FetchPackagesOptions, settings: Settings): { jobs: number; perHost: number } {
  const configured = opts.jobs ?? (settings.fetchThreads || settings.defaultThreads || undefined);
  const jobs = Math.max(1, configured ?? DEFAULT_FETCH_JOBS);
  const perHost = Math.max(1, opts.perHost ?? (configured !== undefined ? jobs : Math.min(jobs, DEFAULT_PER_HOST_JOBS)));
  return { jobs, perHost };
}

export async function fetchPackages(specs: ReadonlyArray<PackageSpec | string>, opts: FetchPackagesOptions = {}): Promise<FetchSummary> {
  const started = performance.now();
  const userSettings = opts.settings ?? defaultSettings();
  // The package cache replaces a corrupt file with a verified one; path_conflict is about environments.
  const settings: Settings = Object.freeze({ ...userSettings, pathConflict: 'clobber' as const });
  const packages = normalizeSpecs(specs);
  const pkgsDir = resolve(opts.pkgsDir ?? defaultPkgsDir(settings));
  const { jobs, perHost } = resolveJobs(opts, settings);
  const emit = (event: FetchEvent): void => {
    try {
      opts.onEvent?.(event);
    } catch { /* a listener's failure must not break the fetch */ }
  };
  if (!opts.dryRun) await preparePkgsDir(pkgsDir);

  const results = new Map<PackageSpec, PackageResult>();
  const toFetch: PackageSpec[] = [];
  await forEachLimited(packages, 4, async (pkg) => {
    const hit = await checkCached(pkgsDir, pkg);
    if (!hit) {
      toFetch.push(pkg);
      return;
    }
    results.set(pkg, result(pkg, pkgsDir, 'cached', hit.bytes, hit.unverified));
    emit({ type: 'cached', url: maskUrl(pkg.url), fileName: pkg.fileName, path: hit.path, bytes: hit.bytes, unverified: hit.unverified });
  });
  const sum = (list: PackageSpec[]): number => list.reduce((n, p) => n + (p.size ?? 0), 0);
  emit({
    type: 'plan', pkgsDir, packages: packages.length, bytes: sum(packages), cached: packages.length - toFetch.length,
    toFetch: toFetch.length, toFetchBytes: sum(toFetch), jobs,
  });

  const abort = new AbortController();
  // Every running download listens on this one signal.
  setMaxListeners(Math.max(100, jobs * 8), abort.signal);
  const onAbort = (): void => abort.abort(opts.signal?.reason);
  if (opts.signal?.aborted) onAbort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  let notStarted: PackageSpec[] = [];
  if (opts.dryRun) {
    for (const pkg of toFetch) results.set(pkg, result(pkg, pkgsDir, 'would-fetch', pkg.size ?? 0, !pkg.md5 && !pkg.sha256));
  } else if (toFetch.length) {
    const active = new Map<string, PackageSpec>();
    const session = createSession({
      // Mirrors are chosen here, per package (with failover on checksum mismatches too), not again by the session.
      settings: Object.freeze({ ...settings, mirrors: {} }), log: opts.log, sleep: opts.sleep,
      onRetry: (e) => {
        const pkg = active.get(e.url);
        emit({ type: 'retry', url: pkg ? maskUrl(pkg.url) : e.url, fileName: pkg?.fileName ?? '', attempt: e.attempt, delayMs: e.delayMs, reason: e.reason });
      },
    });
    const state: RunState = {
      pkgsDir, session, mirrors: new MirrorSelector(settings.mirrors), urls: new UrlsTxt(pkgsDir), emit, opts, abort,
      active, bytesFetched: 0,
    };
    // First pass: a package another process is writing is put aside rather than waited for;
    // the second pass waits for it (and usually finds it finished).
    const busy: PackageSpec[] = [];
    const task = (pkg: PackageSpec, patient: boolean) => ({
      pkg, size: pkg.size, host: hostOf(state.mirrors.candidates(pkg.url)[0]?.url ?? pkg.url),
      run: async () => {
        const r = await fetchOne(state, pkg, patient);
        if (r === 'busy') {
          busy.push(pkg);
          return;
        }
        results.set(pkg, r);
        if (r.status === 'failed' && opts.failFast) abort.abort(new Error('fail-fast'));
      },
    });
    try {
      const schedule = { limit: jobs, perHost, signal: abort.signal };
      notStarted = (await runScheduled(toFetch.map((p) => task(p, false)), schedule)).map((t) => t.pkg);
      if (busy.length) notStarted.push(...(await runScheduled(busy.map((p) => task(p, true)), schedule)).map((t) => t.pkg));
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      await state.session.close();
    }
    for (const pkg of notStarted) results.set(pkg, result(pkg, pkgsDir, 'skipped', 0, false));
    return finish(packages, results, pkgsDir, started, state.bytesFetched, abort.signal.aborted, false, emit);
  }
  opts.signal?.removeEventListener('abort', onAbort);
  return finish(packages, results, pkgsDir, started, 0, abort.signal.aborted, Boolean(opts.dryRun), emit);
}

function hostOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return url;
  }
}

function result(pkg: PackageSpec, pkgsDir: string, status: PackageResult['status'], bytes: number, unverified: boolean,
  error?: GatewayError): PackageResult {
  return {
    url: maskUrl(pkg.url), fileName: pkg.fileName, status, path: join(pkgsDir, pkg.fileName), bytes, unverified,
    ...(error ? { error: error.toJSON() } : {}), ...(pkg.origin ? { origin: pkg.origin } : {}),
  };
}

/** Try each candidate URL in turn; a failure that another copy might not have moves on. 'busy': another process holds it. */
async function fetchOne(state: RunState, pkg: PackageSpec, patient: boolean): Promise<PackageResult | 'busy'> {
  const candidates = state.mirrors.candidates(pkg.url);
  const masked = maskUrl(pkg.url);
  const failures: GatewayError[] = [];
  for (let i = 0; i < candidates.length; i++) {
    const candidate = candidates[i]!;
    try {
      const done = await attempt(state, pkg, candidate, patient);
      state.bytesFetched += done.reused ? 0 : done.bytes - done.resumedFrom;
      // A reused file was recorded by whoever fetched it (another process, usually).
      if (!done.reused) await state.urls.add(pkg.url);
      if (done.reused) {
        state.emit({ type: 'cached', url: masked, fileName: pkg.fileName, path: done.path, bytes: done.bytes, unverified: false });
        return result(pkg, state.pkgsDir, 'cached', done.bytes, false);
      }
      state.emit({
        type: 'done', url: masked, fileName: pkg.fileName, path: done.path, bytes: done.bytes, sha256: done.sha256,
        ...(done.md5 ? { md5: done.md5 } : {}), resumedFrom: done.resumedFrom, attempts: done.attempts,
        elapsedMs: Math.round(done.elapsedMs), unverified: done.unverified, from: done.url.toString(),
      });
      return result(pkg, state.pkgsDir, 'fetched', done.bytes, done.unverified);
    } catch (err) {
      const error = toGatewayError(err, { url: candidate.url, path: join(state.pkgsDir, pkg.fileName) });
      if (state.abort.signal.aborted) {
        return result(pkg, state.pkgsDir, 'skipped', 0, false, error);
      }
      if (!patient && error.code === 'CG_LOCKED') return 'busy';
      failures.push(error);
      if (!FAILOVER_CODES.has(error.code) || candidates.length === 1) return failed(state, pkg, error);
      const count = state.mirrors.recordFailure(candidate.base);
      const next = candidates[i + 1];
      state.emit({
        type: 'mirror-failover', url: masked, fileName: pkg.fileName, from: maskUrl(candidate.url),
        ...(next ? { to: maskUrl(next.url) } : {}), reason: error.message.split('\n')[0] ?? error.code, code: error.code, failures: count,
      });
    }
  }
  const last = failures.at(-1);
  const error = new CondaError(
    `Every mirror failed for ${masked}:\n${failures.map((f) => `  ${f.url?.toString() ?? '?'}: ${f.code} ${f.message.split('\n')[0]}`).join('\n')}`,
    {
      code: 'CG_MIRRORS_EXHAUSTED', url: pkg.url, cause: last,
      details: { mirrors: failures.map((f) => f.url?.toString() ?? ''), codes: failures.map((f) => f.code) },
    });
  return failed(state, pkg, error);
}

function failed(state: RunState, pkg: PackageSpec, error: GatewayError): PackageResult {
  state.emit({ type: 'error', url: maskUrl(pkg.url), fileName: pkg.fileName, error: error.toJSON() });
  return result(pkg, state.pkgsDir, 'failed', 0, false, error);
}

async function attempt(state: RunState, pkg: PackageSpec, candidate: Candidate, patient: boolean): Promise<DownloadResult> {
  const masked = maskUrl(pkg.url);
  const key = maskUrl(candidate.url);
  state.active.set(key, pkg);
  state.emit({ type: 'start', url: masked, fileName: pkg.fileName, ...(pkg.size !== undefined ? { size: pkg.size } : {}), ...(candidate.isOriginal ? {} : { mirror: key }) });
  let last = 0;
  try {
    return await download(candidate.url, join(state.pkgsDir, pkg.fileName), {
      md5: pkg.md5, sha256: pkg.sha256, size: pkg.size, session: state.session, signal: state.abort.signal,
      sleep: state.opts.sleep, log: state.opts.log, ...(patient ? {} : { lockTimeoutMs: 0 }),
      onRetry: (e) => state.emit({ type: 'retry', url: masked, fileName: pkg.fileName, attempt: e.attempt, delayMs: e.delayMs, reason: e.reason }),
      onProgress: (p) => {
        const now = performance.now();
        if (now - last < PROGRESS_INTERVAL_MS && p.bytes !== p.total) return;
        last = now;
        state.emit({ type: 'progress', url: masked, fileName: pkg.fileName, bytes: p.bytes, ...(p.total !== undefined ? { total: p.total } : {}) });
      },
    });
  } finally {
    state.active.delete(key);
  }
}

function finish(packages: PackageSpec[], results: Map<PackageSpec, PackageResult>, pkgsDir: string, started: number,
  bytesFetched: number, aborted: boolean, dryRun: boolean, emit: (e: FetchEvent) => void): FetchSummary {
  const list = packages.map((p) => results.get(p) ?? result(p, pkgsDir, 'skipped', 0, false));
  const count = (s: PackageResult['status']): number => list.filter((r) => r.status === s).length;
  const summary: FetchSummary = {
    pkgsDir, total: list.length, fetched: count('fetched'), cached: count('cached'), failed: count('failed'),
    notStarted: count('skipped') + count('would-fetch'), unverified: list.filter((r) => r.unverified && r.status !== 'failed').length,
    bytesFetched, elapsedMs: Math.round(performance.now() - started), aborted, dryRun,
    failures: list.filter((r) => r.status === 'failed' && r.error).map((r) => ({
      url: r.url, fileName: r.fileName, ...(r.origin ? { origin: r.origin } : {}), error: r.error!,
    })),
    packages: list,
  };
  const { packages: _omit, ...json } = summary;
  emit({ type: 'summary', summary: json });
  return summary;
}

async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
