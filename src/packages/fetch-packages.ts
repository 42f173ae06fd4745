/**
 * fetchPackages(): every package of an environment into a conda package cache — cached
 * ones verified and skipped without any request, the rest through the verified,
 * resumable download() under a global and a per-host limit, largest first, over one
 * shared session, failing over between mirrors.
 */
import { setMaxListeners } from 'node:events';
import { resolve } from 'node:path';
import type { Settings } from '../core/settings.js';
import { defaultSettings } from '../config/load-settings.js';
import { maskUrl } from '../redact/safe-url.js';
import { createSession } from '../session/create-session.js';
import type { DebugLog } from '../core/types.js';
import { failed, fetchOne, type Fetched } from './fetch-one.js';
import { hostOf, result, type Run, type RunState } from './fetch-run.js';
import { MirrorSelector } from './mirrors.js';
import { packageFromUrl } from './package-url.js';
import { cachePath, checkCached, defaultPkgsDir, listPkgsDir, preparePkgsDir, UrlsTxt } from './pkgs-dir.js';
import { removeAbandoned } from '../core/file-lock.js';
import { PARTIAL_EXTENSION } from '../download/download.js';
import { checkExtracted } from './extract/cache-state.js';
import { defaultExtractJobs, extractStep } from './extract-step.js';
import { createSlots, settleAll } from '../util/limiter.js';
import { mergeSpecs } from './read-specs.js';
import { largestFirst, runScheduled } from './scheduler.js';
import type { FetchEvent, FetchSummaryJson, PackageResult, PackageSpec } from './types.js';

/** Parallel downloads when neither `jobs` nor fetch_threads/default_threads is set (see bench/fetch.ts). */
export const DEFAULT_FETCH_JOBS = 8;
/** Concurrent downloads from one host when `jobs` is not given explicitly. */
export const DEFAULT_PER_HOST_JOBS = 8;

export interface FetchPackagesOptions {
  /** @default the first of pkgs_dirs (CONDA_PKGS_DIRS), else ~/.conda/pkgs */
  pkgsDir?: string;
  /** Parallel downloads. @default fetch_threads, else default_threads, else DEFAULT_FETCH_JOBS */
  jobs?: number;
  /** Parallel downloads per host. @default jobs when given, else DEFAULT_PER_HOST_JOBS */
  perHost?: number;
  /** Extract each package into `<pkgs>/<name>-<version>-<build>/` as conda does; false keeps tarballs only. @default true */
  extract?: boolean;
  /** Parallel extractions. @default one per core, at most 4 */
  extractJobs?: number;
  /** Keep tokens and passwords in urls.txt and repodata_record.json. @default settings.pkgsKeepCredentials (false) */
  keepCredentials?: boolean;
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

/** What the cache already holds, per package. */
interface Plan {
  /** Tarball verified but not extracted (extract on). */
  toExtractOnly: PackageSpec[];
  /** For those: the tarball's size and the checksum computed to verify it. */
  tarballs: Map<PackageSpec, { bytes: number; known?: { md5?: string; sha256?: string } }>;
  toFetch: PackageSpec[];
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
  const run = startRun(specs, opts);
  try {
    if (!opts.dryRun) await preparePkgsDir(run.pkgsDir);
    const plan = await planRun(run);
    emitPlan(run, plan);
    if (opts.dryRun) {
      for (const pkg of plan.toFetch) run.results.set(pkg, result(pkg, run.pkgsDir, 'would-fetch', pkg.size ?? 0, !pkg.md5 && !pkg.sha256));
      // The tarball is there; a real run would only extract it.
      for (const pkg of plan.toExtractOnly) run.results.set(pkg, result(pkg, run.pkgsDir, 'cached', pkg.size ?? 0, !pkg.md5 && !pkg.sha256));
    } else if (plan.toFetch.length || plan.toExtractOnly.length) {
      await execute(run, plan);
    }
    await Promise.all(run.pending);
    if (!opts.dryRun) await removeAbandonedPartials(run);
  } finally {
    run.dispose();
  }
  return finish(run);
}

/**
 * A peer killed mid-run may leave an empty `.partial` beside a package this run placed or found
 * (created under conda's lock protocol before it knew the package was there): a finished run
 * leaves none. Only unheld, empty ones; not with no_lock, not after an abort.
 */
async function removeAbandonedPartials(run: Run): Promise<void> {
  if (run.settings.noLock || run.abort.signal.aborted) return;
  const done = run.packages.filter((pkg) => ['fetched', 'cached'].includes(run.results.get(pkg)?.status ?? ''));
  await settleAll(done, (pkg) => removeAbandoned(cachePath(run.pkgsDir, pkg.fileName + PARTIAL_EXTENSION), run.abort.signal), 8);
}

function startRun(specs: ReadonlyArray<PackageSpec | string>, opts: FetchPackagesOptions): Run {
  const userSettings = opts.settings ?? defaultSettings();
  // The package cache replaces a corrupt file with a verified one; path_conflict is about environments.
  const settings: Settings = Object.freeze({ ...userSettings, pathConflict: 'clobber' as const });
  const pkgsDir = resolve(opts.pkgsDir ?? defaultPkgsDir(settings));
  const abort = new AbortController();
  const onAbort = (): void => abort.abort(opts.signal?.reason);
  if (opts.signal?.aborted) onAbort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const { jobs, perHost } = resolveJobs(opts, settings);
  // Every running download and extraction listens on this one signal.
  setMaxListeners(Math.max(100, jobs * 8), abort.signal);
  return {
    started: performance.now(), settings, packages: normalizeSpecs(specs), pkgsDir, jobs, perHost,
    extract: opts.extract ?? true, keepCredentials: opts.keepCredentials ?? settings.pkgsKeepCredentials ?? false,
    emit: (event) => {
      try {
        opts.onEvent?.(event);
      } catch { /* a listener's failure must not break the fetch */ }
    },
    opts, abort, results: new Map(), pending: [], urls: new UrlsTxt(pkgsDir), bytesFetched: 0, extracted: 0,
    dispose: () => opts.signal?.removeEventListener('abort', onAbort),
  };
}

/** Look in the cache: an extracted folder (extract on) or a verified tarball counts; found URLs go to urls.txt. */
async function planRun(run: Run): Promise<Plan> {
  const plan: Plan = { toExtractOnly: [], toFetch: [], tarballs: new Map() };
  const present = await listPkgsDir(run.pkgsDir);
  await settleAll(run.packages, async (pkg) => {
    const folder = run.extract ? await checkExtracted(run.pkgsDir, pkg) : undefined;
    const tarball = folder ? undefined : await checkCached(run.pkgsDir, pkg, present);
    if (!folder && !tarball) {
      plan.toFetch.push(pkg);
      return;
    }
    if (!folder && run.extract) {
      plan.toExtractOnly.push(pkg);
      plan.tarballs.set(pkg, tarball!);
      return;
    }
    const hit = (folder ?? tarball)!;
    if (!run.opts.dryRun) await run.urls.add(pkg.url, { keepCredentials: run.keepCredentials });
    run.results.set(pkg, result(pkg, run.pkgsDir, 'cached', hit.bytes, hit.unverified, undefined, folder?.path));
    run.emit({ type: 'cached', url: maskUrl(pkg.url), fileName: pkg.fileName, path: hit.path, bytes: hit.bytes, unverified: hit.unverified });
  }, 4);
  return plan;
}

function emitPlan(run: Run, plan: Plan): void {
  const sum = (list: PackageSpec[]): number => list.reduce((n, p) => n + (p.size ?? 0), 0);
  run.emit({
    type: 'plan', pkgsDir: run.pkgsDir, packages: run.packages.length, bytes: sum(run.packages),
    cached: run.packages.length - plan.toFetch.length, toFetch: plan.toFetch.length, toFetchBytes: sum(plan.toFetch), jobs: run.jobs,
    toExtract: run.extract ? plan.toFetch.length + plan.toExtractOnly.length : 0,
  });
}

/** Downloads under the scheduler; each verified tarball goes on to extraction without holding a download slot. */
async function execute(run: Run, plan: Plan): Promise<void> {
  // Mirrors are chosen here, per package (with failover on checksum mismatches too), not again by the session.
  // Each download reports its own transport retries (download() passes its onRetry per request).
  const mirrors = new MirrorSelector(run.settings.mirrors);
  const session = createSession({
    settings: Object.freeze({ ...run.settings, mirrors: {} }), log: run.opts.log, sleep: run.opts.sleep,
    // Every place each package may come from, in the order the downloads start (OCI registries batch their tokens).
    expectedUrls: [...plan.toFetch].sort(largestFirst).flatMap((pkg) => mirrors.candidates(pkg.url).flatMap((c) => urlOrNone(c.url))),
  });
  const state: RunState = Object.assign(run, {
    session, mirrors, streaming: 0,
    extractor: {
      pkgsDir: run.pkgsDir, emit: run.emit, keepCredentials: run.keepCredentials, noLock: run.settings.noLock,
      signal: run.abort.signal, slot: createSlots(Math.max(1, run.opts.extractJobs ?? defaultExtractJobs())),
    },
  });
  // Largest first, as downloads are: the biggest extraction does not start last and run alone.
  const bySize = (pkg: PackageSpec): number => plan.tarballs.get(pkg)?.bytes ?? 0;
  for (const pkg of [...plan.toExtractOnly].sort((a, b) => bySize(b) - bySize(a))) {
    run.pending.push(extractThen(state, pkg, plan.tarballs.get(pkg)?.known,
      (path) => result(pkg, run.pkgsDir, 'cached', pkg.size ?? 0, !pkg.md5 && !pkg.sha256, undefined, path)));
  }
  try {
    await downloadAll(state, plan.toFetch);
  } finally {
    await Promise.all(run.pending);
    await session.close();
  }
}

/** First pass: a package another process is writing is put aside rather than waited for; the second pass waits for it. */
async function downloadAll(state: RunState, toFetch: PackageSpec[]): Promise<void> {
  const busy: PackageSpec[] = [];
  const task = (pkg: PackageSpec, patient: boolean) => ({
    pkg, size: pkg.size, host: hostOf(state.mirrors.candidates(pkg.url)[0]?.url ?? pkg.url),
    run: async () => {
      const r = await fetchOne(state, pkg, patient);
      if (r === 'busy') busy.push(pkg);
      else settle(state, pkg, r);
    },
  });
  const schedule = { limit: state.jobs, perHost: state.perHost, signal: state.abort.signal };
  const notStarted = (await runScheduled(toFetch.map((p) => task(p, false)), schedule)).map((t) => t.pkg);
  if (busy.length) notStarted.push(...(await runScheduled(busy.map((p) => task(p, true)), schedule)).map((t) => t.pkg));
  for (const pkg of notStarted) state.results.set(pkg, result(pkg, state.pkgsDir, 'skipped', 0, false));
}

/** A finished download: extract it (when on) and record its URL, or record the failure. */
function settle(state: RunState, pkg: PackageSpec, r: PackageResult | Fetched): void {
  if ('status' in r) {
    state.results.set(pkg, r);
    if (r.status === 'failed' && state.opts.failFast) state.abort.abort(new Error('fail-fast'));
    return;
  }
  if (!state.extract) {
    state.results.set(pkg, r.fetched);
    state.pending.push(state.urls.add(pkg.url, { keepCredentials: state.keepCredentials }));
    return;
  }
  state.pending.push(extractThen(state, pkg, r.known, (path) => ({ ...r.fetched, extractedPath: path }), r.accepted));
}

function extractThen(state: RunState, pkg: PackageSpec, known: { md5?: string; sha256?: string } | undefined,
  ok: (path: string) => PackageResult, accepted?: Fetched['accepted']): Promise<void> {
  return extractStep(state.extractor, pkg, known, undefined, accepted).then(async (outcome) => {
    if (outcome.ok) {
      if (!outcome.reused) state.extracted++;
      await state.urls.add(pkg.url, { keepCredentials: state.keepCredentials });
      state.results.set(pkg, ok(outcome.path));
      return;
    }
    if (state.abort.signal.aborted && outcome.error.code !== 'CG_PACKAGE_UNSAFE' && outcome.error.code !== 'CG_PACKAGE_CORRUPT') {
      state.results.set(pkg, result(pkg, state.pkgsDir, 'skipped', 0, false, outcome.error));
      return;
    }
    state.results.set(pkg, failed(state, pkg, outcome.error));
    if (state.opts.failFast) state.abort.abort(new Error('fail-fast'));
  });
}

function finish(run: Run): FetchSummary {
  const list = run.packages.map((p) => run.results.get(p) ?? result(p, run.pkgsDir, 'skipped', 0, false));
  const count = (s: PackageResult['status']): number => list.filter((r) => r.status === s).length;
  const summary: FetchSummary = {
    pkgsDir: run.pkgsDir, total: list.length, fetched: count('fetched'), cached: count('cached'), extracted: run.extracted,
    failed: count('failed'), notStarted: count('skipped') + count('would-fetch'),
    unverified: list.filter((r) => r.unverified && r.status !== 'failed').length,
    bytesFetched: run.bytesFetched, elapsedMs: Math.round(performance.now() - run.started), aborted: run.abort.signal.aborted,
    dryRun: Boolean(run.opts.dryRun),
    failures: list.filter((r) => r.status === 'failed' && r.error).map((r) => ({
      url: r.url, fileName: r.fileName, ...(r.origin ? { origin: r.origin } : {}), error: r.error!,
    })),
    packages: list,
  };
  const { packages: _omit, ...json } = summary;
  run.emit({ type: 'summary', summary: json });
  return summary;
}

function urlOrNone(url: string): URL[] {
  try {
    return [new URL(url)];
  } catch {
    return [];
  }
}
