/** One package's download: each mirror candidate in turn, through the verified, resumable download(). */
import { join } from 'node:path';
import { cachePath } from './pkgs-dir.js';
import { CondaError } from '../errors/classes.js';
import type { ErrorCode } from '../errors/codes.js';
import type { GatewayError } from '../errors/gateway-error.js';
import { maskUrl } from '../redact/safe-url.js';
import { download, type DownloadResult } from '../download/download.js';
import { toGatewayError } from '../session/map-error.js';
import type { Candidate } from './mirrors.js';
import { result, type RunState } from './fetch-run.js';
import type { PackageResult, PackageSpec } from './types.js';
import type { StreamedExtraction } from './extract/stream-extract.js';
import type { ExtractPackageResult } from './extract/extract-package.js';
import { acceptWhileLocked } from './extract-step.js';

/** How often `progress` events are emitted per package, at most. */
export const PROGRESS_INTERVAL_MS = 100;

/** Failures that say "this copy is bad or unreachable", so another mirror may do better. */
const FAILOVER_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'CG_HTTP_STATUS', 'CG_CONNECTION', 'CG_TIMEOUT', 'CG_TLS', 'CG_PROXY', 'CG_REDIRECT', 'CG_OFFLINE',
  'CG_CHECKSUM_MISMATCH', 'CG_CONTENT_LENGTH_MISMATCH', 'CG_BAD_RESPONSE', 'CG_UNSUPPORTED_SCHEME',
  'CG_DEPENDENCY_MISSING', 'CG_CHANNEL_UNAVAILABLE',
]);

/** A verified tarball in the cache, with the checksums the download computed. */
export interface Fetched {
  fetched: PackageResult;
  known: { md5?: string; sha256?: string };
  /** Extracted while downloading, and put in place under the download's lock (else the tarball is extracted). */
  accepted?: ExtractPackageResult;
}

/** Try each candidate URL in turn; a failure that another copy might not have moves on. 'busy': another process holds it. */
export async function fetchOne(state: RunState, pkg: PackageSpec, patient: boolean): Promise<Fetched | PackageResult | 'busy'> {
  const candidates = state.mirrors.candidates(pkg.url);
  const masked = maskUrl(pkg.url);
  const failures: GatewayError[] = [];
  for (let i = 0; i < candidates.length; i++) {
    const candidate = candidates[i]!;
    const streamed = await startStreamed(state, pkg);
    const accepted: { result?: ExtractPackageResult } = {};
    try {
      const done = await attempt(state, pkg, candidate, patient, streamed, accepted);
      state.bytesFetched += done.reused ? 0 : done.bytes - done.resumedFrom;
      const known = { sha256: done.sha256, ...(done.md5 ? { md5: done.md5 } : {}) };
      if (done.reused) {
        // Another process placed it while we waited: found in the cache, so its URL is recorded all the same.
        state.emit({ type: 'cached', url: masked, fileName: pkg.fileName, path: done.path, bytes: done.bytes, unverified: false });
        await streamed?.discard();
        return { fetched: result(pkg, state.pkgsDir, 'cached', done.bytes, false), known };
      }
      state.emit({
        type: 'done', url: masked, fileName: pkg.fileName, path: done.path, bytes: done.bytes, sha256: done.sha256,
        ...(done.md5 ? { md5: done.md5 } : {}), resumedFrom: done.resumedFrom, attempts: done.attempts,
        elapsedMs: Math.round(done.elapsedMs), unverified: done.unverified, from: done.url.toString(),
      });
      return { fetched: result(pkg, state.pkgsDir, 'fetched', done.bytes, done.unverified), known, ...(accepted.result ? { accepted: accepted.result } : {}) };
    } catch (err) {
      await streamed?.discard();
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

export function failed(state: RunState, pkg: PackageSpec, error: GatewayError): PackageResult {
  state.emit({ type: 'error', url: maskUrl(pkg.url), fileName: pkg.fileName, error: error.toJSON() });
  return result(pkg, state.pkgsDir, 'failed', 0, false, error);
}

/** Downloads extracted while they arrive, at most: beyond this, a package is extracted from its tarball afterwards. */
export const MAX_STREAMED = 4;
/** With extraction on and a stream slot free, a streamed extraction fed by this download's bytes (loaded only then). */
async function startStreamed(state: RunState, pkg: PackageSpec): Promise<StreamedExtraction | undefined> {
  if (!state.extract || state.streaming >= MAX_STREAMED) return undefined;
  state.streaming++;
  const release = (): void => void state.streaming--;
  try {
    const { StreamedExtraction } = await import('./extract/stream-extract.js');
    return new StreamedExtraction({ pkgsDir: state.pkgsDir, pkg, md5: !pkg.md5, signal: state.abort.signal, onSettled: release });
  } catch (err) {
    release();
    throw err;
  }
}

async function attempt(state: RunState, pkg: PackageSpec, candidate: Candidate, patient: boolean,
  streamed: StreamedExtraction | undefined, accepted: { result?: ExtractPackageResult }): Promise<DownloadResult> {
  const masked = maskUrl(pkg.url);
  state.emit({
    type: 'start', url: masked, fileName: pkg.fileName, ...(pkg.size !== undefined ? { size: pkg.size } : {}),
    ...(candidate.isOriginal ? {} : { mirror: maskUrl(candidate.url) }),
  });
  let last = 0;
  return download(candidate.url, cachePath(state.pkgsDir, pkg.fileName), {
    md5: pkg.md5, sha256: pkg.sha256, size: pkg.size, session: state.session, signal: state.abort.signal,
    sleep: state.opts.sleep, log: state.opts.log, ...(patient ? {} : { lockTimeoutMs: 0 }),
    ...(streamed ? {
      onChunk: streamed.onChunk,
      // The streamed folder goes in place before the lock is released: the tarball it was checked against stays as it is.
      whileLocked: async (r: DownloadResult) => {
        accepted.result = await acceptWhileLocked(state.extractor, pkg, { sha256: r.sha256, ...(r.md5 ? { md5: r.md5 } : {}) }, streamed);
      },
    } : {}),
    onRetry: (e) => state.emit({ type: 'retry', url: masked, fileName: pkg.fileName, attempt: e.attempt, delayMs: e.delayMs, reason: e.reason }),
    onProgress: (p) => {
      const now = performance.now();
      if (now - last < PROGRESS_INTERVAL_MS && p.bytes !== p.total) return;
      last = now;
      state.emit({ type: 'progress', url: masked, fileName: pkg.fileName, bytes: p.bytes, ...(p.total !== undefined ? { total: p.total } : {}) });
    },
  });
}

