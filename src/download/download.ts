/**
 * download(): verified, resumable, atomic. Bytes go to `<target>.partial` under a lock,
 * are hashed while streaming (the kept prefix first on resume), and the file is renamed
 * onto the target only after size and checksums match. A `.partial` survives a failure
 * only when it is a non-empty valid prefix worth resuming (a checksum is known).
 */
import { rename, stat, unlink } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Response } from 'undici';
import type { Settings } from '../config/settings.js';
import { defaultSettings } from '../config/load-settings.js';
import {
  BasicClobberError, ChecksumMismatchError, CondaError, NotWritableError, UnsupportedSchemeError,
} from '../errors/classes.js';
import { GatewayError } from '../errors/gateway-error.js';
import { httpErrorFromResponse } from '../errors/http-error.js';
import { SafeUrl, maskUrl } from '../redact/safe-url.js';
import { supportedSchemes } from '../adapters/registry.js';
import { createSession, parseRequestUrl, type Session } from '../session/create-session.js';
import { getResponseInfo, nodeBodyOf } from '../session/response-info.js';
import { toGatewayError } from '../session/map-error.js';
import { delayFor } from '../session/retry/backoff.js';
import { isRetryableError } from '../session/retry/classify.js';
import type { DebugLog, RetryEvent } from '../session/types.js';
import { sleep as defaultSleep } from '../util/sleep.js';
import { Hashes, hashPrefix, normalizeExpected, type Expected } from './checksums.js';
import { parseContentRange, rangeValidator } from './content-range.js';
import { lockFile, type LockedFile } from './lock.js';
import { PartialWriter, TooLongError } from './partial-writer.js';

export const PARTIAL_EXTENSION = '.partial';

export interface DownloadProgress {
  /** Bytes of the target present so far (resumed prefix included); never decreases. */
  bytes: number;
  /** Total size when known (expected size, Content-Length or Content-Range). */
  total?: number;
}

export interface DownloadOptions {
  md5?: string;
  sha256?: string;
  size?: number;
  onProgress?: (progress: DownloadProgress) => void;
  signal?: AbortSignal;
  /** @default defaultSettings() */
  settings?: Settings;
  /** A session to reuse (its settings win); otherwise one is made and closed. */
  session?: Session;
  onRetry?: (event: RetryEvent) => void;
  log?: DebugLog;
  /** Injectable wait between retries (tests use 0). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** How long to wait for another writer of the same target. @default 30 minutes */
  lockTimeoutMs?: number;
}

export interface DownloadResult {
  path: string;
  url: SafeUrl;
  bytes: number;
  sha256: string;
  md5?: string;
  /** Bytes kept from an earlier partial download (0 when started fresh). */
  resumedFrom: number;
  /** Requests made (1 when nothing was retried; 0 when nothing was fetched). */
  attempts: number;
  /** True when the target already existed (or another writer finished it) and verified. */
  reused: boolean;
  /** True when no checksum was given, so only the transfer itself was checked. */
  unverified: boolean;
  elapsedMs: number;
}

/** Internal: a failure that throws away the partial and restarts from byte 0 once. */
class RestartFromZero extends Error {
  constructor(readonly reason: string, readonly error?: GatewayError) {
    super(reason);
  }
}

interface Job {
  url: URL;
  safeUrl: SafeUrl;
  target: string;
  partialPath: string;
  expected: Expected;
  settings: Settings;
  session: Session;
  opts: DownloadOptions;
  started: number;
  attempts: number;
  lastProgress: number;
  /** Strong validator of the response that wrote the current partial bytes (for If-Range). */
  validator?: string;
}

function hasChecksum(expected: Expected): boolean {
  return expected.sha256 !== undefined || expected.md5 !== undefined;
}

export async function download(url: string | URL, target: string, opts: DownloadOptions = {}): Promise<DownloadResult> {
  const parsed = parseRequestUrl(url);
  const expected = normalizeExpected(opts);
  if (!supportedSchemes().includes(parsed.protocol.replace(/:$/, ''))) {
    throw new UnsupportedSchemeError(
      `No adapter for '${parsed.protocol}' URLs (${maskUrl(parsed)}); supported schemes: ${supportedSchemes().join(', ')}.`,
      { url: parsed });
  }
  const targetPath = resolve(target);
  await assertWritableDir(dirname(targetPath));
  const settings = opts.session?.settings ?? opts.settings ?? defaultSettings();
  const session = opts.session ?? createSession({ settings, onRetry: opts.onRetry, log: opts.log, sleep: opts.sleep });
  const job: Job = {
    url: parsed, safeUrl: new SafeUrl(parsed), target: targetPath, partialPath: targetPath + PARTIAL_EXTENSION,
    expected, settings, session, opts, started: performance.now(), attempts: 0, lastProgress: -1,
  };
  let lock: LockedFile | undefined;
  try {
    lock = await lockFile(job.partialPath, { noLock: settings.noLock, signal: opts.signal, timeoutMs: opts.lockTimeoutMs });
    const reused = await reuseExistingTarget(job);
    if (reused) return reused;
    return await downloadLocked(job, lock);
  } catch (err) {
    throw toGatewayError(err, {
      url: job.safeUrl, attempts: job.attempts || undefined, elapsedMs: performance.now() - job.started,
      channelAlias: settings.channelAlias, path: job.partialPath,
    });
  } finally {
    if (lock) {
      await removeIfEmpty(lock);
      await lock.release();
    }
    if (!opts.session) await session.close();
  }
}

async function assertWritableDir(dir: string): Promise<void> {
  try {
    const st = await stat(dir);
    if (!st.isDirectory()) throw new NotWritableError(dir, { hint: `${dir} is not a directory.` });
  } catch (err) {
    if (err instanceof GatewayError) throw err;
    throw new NotWritableError(dir, { cause: err, hint: `The directory ${dir} does not exist; create it first.` });
  }
}

async function removeIfEmpty(lock: LockedFile): Promise<void> {
  try {
    const st = await lock.handle.stat();
    const current = await stat(lock.path).catch(() => undefined);
    if (st.size === 0 && current?.ino === st.ino) await unlink(lock.path);
  } catch { /* closed or already gone */ }
}

/** An existing target that verifies against a known checksum is used as is; else path_conflict applies. */
async function reuseExistingTarget(job: Job): Promise<DownloadResult | undefined> {
  const st = await stat(job.target).catch(() => undefined);
  if (!st) return undefined;
  if (hasChecksum(job.expected) && st.isFile()) {
    const { open } = await import('node:fs/promises');
    const handle = await open(job.target, 'r');
    try {
      if (job.expected.size === undefined || job.expected.size === st.size) {
        const hashes = await hashPrefix(handle, st.size, job.expected.md5 !== undefined);
        const digest = hashes.digest();
        if (matches(job.expected, digest, st.size)) {
          return {
            path: job.target, url: job.safeUrl, bytes: st.size, sha256: digest.sha256, md5: digest.md5,
            resumedFrom: 0, attempts: 0, reused: true, unverified: false, elapsedMs: performance.now() - job.started,
          };
        }
      }
    } finally {
      await handle.close();
    }
  }
  if (job.settings.pathConflict === 'prevent') throw new BasicClobberError(job.target, job.safeUrl.toString());
  if (job.settings.pathConflict === 'warn') job.opts.log?.(`warning: overwriting existing ${job.target}`);
  return undefined;
}

function matches(expected: Expected, digest: { sha256: string; md5?: string }, size: number): boolean {
  if (expected.size !== undefined && expected.size !== size) return false;
  if (expected.sha256 !== undefined && expected.sha256 !== digest.sha256) return false;
  if (expected.md5 !== undefined && expected.md5 !== digest.md5) return false;
  return true;
}

async function downloadLocked(job: Job, lock: LockedFile): Promise<DownloadResult> {
  const handle = lock.handle;
  const initialSize = (await handle.stat()).size;
  const resumable = hasChecksum(job.expected);
  let restartedFromZero = false;
  let transportRetries = 0;
  let resumedFrom = 0;

  // A prefix is only worth keeping when a checksum will prove the result.
  if (!resumable && initialSize > 0) await handle.truncate(0);

  for (;;) {
    let offset = (await handle.stat()).size;
    if (job.expected.size !== undefined && offset > job.expected.size) {
      await handle.truncate(0);
      offset = 0;
    }
    if (offset > 0 && !resumable && job.validator === undefined) {
      await handle.truncate(0);
      offset = 0;
    }
    const withMd5 = job.expected.md5 !== undefined;
    let hashes = offset > 0 ? await hashPrefix(handle, offset, withMd5) : new Hashes(withMd5);
    if (offset > 0 && resumedFrom === 0) resumedFrom = offset;
    try {
      let total: number | undefined = job.expected.size;
      if (!(job.expected.size !== undefined && offset === job.expected.size)) {
        const fetched = await fetchInto(job, handle, offset, hashes);
        hashes = fetched.hashes;
        total = fetched.total;
        if (fetched.restartedAt0 && resumedFrom > 0 && fetched.offset === 0) resumedFrom = 0;
      }
      const size = (await handle.stat()).size;
      const digest = hashes.digest();
      verify(job, digest, size, resumedFrom > 0);
      await handle.datasync();
      await rename(job.partialPath, job.target);
      emitProgress(job, size, total ?? size);
      return {
        path: job.target, url: job.safeUrl, bytes: size, sha256: digest.sha256, md5: digest.md5,
        resumedFrom, attempts: job.attempts, reused: false, unverified: !resumable,
        elapsedMs: performance.now() - job.started,
      };
    } catch (err) {
      if (err instanceof RestartFromZero) {
        await handle.truncate(0);
        job.validator = undefined;
        if (restartedFromZero) {
          if (err.error) throw err.error;
          throw new CondaError(`Download of ${job.safeUrl.toString()} failed twice: ${err.reason}`,
            { code: 'CG_BAD_RESPONSE', url: job.safeUrl, attempts: job.attempts });
        }
        job.opts.log?.(`Retry failed partial download ${job.target} (${err.reason})`);
        restartedFromZero = true;
        resumedFrom = 0;
        continue;
      }
      if (err instanceof ChecksumMismatchError || isClientError(err)) {
        await handle.truncate(0); // conda deletes the .partial on these
        throw err;
      }
      const shortBody = (err as { retryableShortBody?: boolean }).retryableShortBody === true;
      const retryable = (shortBody || (!(err instanceof GatewayError) && isRetryableError(err))) && !job.opts.signal?.aborted;
      if (retryable && transportRetries < job.settings.remoteMaxRetries) {
        transportRetries++;
        const delayMs = delayFor({
          retry: transportRetries, backoffFactor: job.settings.remoteBackoffFactor,
          retryAfterMaxMs: job.settings.remoteRetryAfterMaxSecs * 1000,
        });
        const reason = (err as { code?: string }).code ?? 'body interrupted';
        job.opts.log?.(`resuming ${job.safeUrl.toString()} after ${reason}`);
        job.opts.onRetry?.({ url: job.safeUrl.toString(), attempt: job.attempts, delayMs, reason });
        await (job.opts.sleep ?? defaultSleep)(delayMs, job.opts.signal);
        continue;
      }
      if (!resumable) await handle.truncate(0);
      throw err;
    }
  }
}

function isClientError(err: unknown): boolean {
  const status = (err as { status?: unknown }).status;
  return err instanceof GatewayError && err.code === 'CG_HTTP_STATUS' && typeof status === 'number' && status >= 400 && status < 500;
}

function verify(job: Job, digest: { sha256: string; md5?: string }, size: number, resumed: boolean): void {
  const { expected } = job;
  const mismatch = (check: 'size' | 'md5' | 'sha256', want: string | number, got: string | number): never => {
    const error = new ChecksumMismatchError({
      url: job.safeUrl.toString(), target: job.target, check, expected: want, actual: got,
      partialDownload: resumed, attempts: job.attempts,
    });
    // conda retries a resumed download once from scratch before giving up.
    if (resumed) throw new RestartFromZero(`${check} mismatch after resuming`, error);
    throw error;
  };
  if (expected.size !== undefined && size !== expected.size) mismatch('size', expected.size, size);
  if (expected.sha256 !== undefined && digest.sha256 !== expected.sha256) mismatch('sha256', expected.sha256, digest.sha256);
  if (expected.md5 !== undefined && digest.md5 !== expected.md5) mismatch('md5', expected.md5, digest.md5 ?? '');
}

function emitProgress(job: Job, bytes: number, total: number | undefined): void {
  if (!job.opts.onProgress || bytes <= job.lastProgress) return;
  job.lastProgress = bytes;
  job.opts.onProgress(total === undefined ? { bytes } : { bytes, total });
}

interface Fetched {
  hashes: Hashes;
  total: number | undefined;
  offset: number;
  restartedAt0: boolean;
}

/** One request: ask for the bytes from `offset`, check the answer, stream it into the partial. */
async function fetchInto(job: Job, handle: LockedFile['handle'], offset: number, hashes: Hashes): Promise<Fetched> {
  const headers: Record<string, string> = { 'accept-encoding': 'identity' };
  if (offset > 0) {
    headers.range = `bytes=${offset}-`;
    if (job.validator) headers['if-range'] = job.validator;
  }
  const res = await job.session.fetch(job.url, { headers, signal: job.opts.signal });
  job.attempts += getResponseInfo(res)?.attempts ?? 1;

  let restartedAt0 = false;
  let start = offset;
  let total: number | undefined;
  const contentLength = parseLength(res.headers.get('content-length'));

  if (res.status === 416 && offset > 0) {
    await discard(res);
    const range = parseContentRange(res.headers.get('content-range'));
    if (range?.total === offset) return { hashes, total: offset, offset, restartedAt0 };
    throw new RestartFromZero('the server refused the resume range (416)');
  }
  if (!res.ok) {
    throw await httpErrorFromResponse(res, {
      url: job.safeUrl, attempts: job.attempts, elapsedMs: performance.now() - job.started,
      channelAlias: job.settings.channelAlias,
    });
  }
  let range: ReturnType<typeof parseContentRange>;
  if (res.status === 206) {
    // A 206 is only a slice: it must start where we asked (byte 0 when we asked for no range).
    range = parseContentRange(res.headers.get('content-range'));
    if (!range || range.start !== offset || range.end === undefined) {
      await discard(res);
      throw new RestartFromZero(`the server answered a different range (${res.headers.get('content-range') ?? 'none'})`);
    }
    total = range.total;
  } else {
    if (offset > 0) {
      // The server ignored Range (or If-Range found a changed file): start over cleanly.
      await handle.truncate(0);
      hashes = new Hashes(job.expected.md5 !== undefined);
      start = 0;
      restartedAt0 = true;
    }
    total = contentLength;
  }

  if (job.expected.size !== undefined && total !== undefined && total !== job.expected.size) {
    await discard(res);
    throw new ChecksumMismatchError({
      url: job.safeUrl.toString(), target: job.target, check: 'size', expected: job.expected.size,
      actual: total, attempts: job.attempts,
    });
  }
  job.validator = rangeValidator(res.headers) ?? job.validator;
  total ??= job.expected.size;

  const body = await nodeBodyOf(res);
  const writer = new PartialWriter(handle, hashes, start, job.expected.size ?? total, (confirmed) =>
    emitProgress(job, confirmed, total));
  try {
    if (body) await pipeline(body, writer, { signal: job.opts.signal });
    else writer.destroy();
  } catch (err) {
    await handle.truncate(writer.confirmed).catch(() => undefined);
    if (err instanceof TooLongError) {
      throw new ChecksumMismatchError({
        url: job.safeUrl.toString(), target: job.target, check: 'size', expected: err.limit,
        actual: `more than ${err.limit}`, attempts: job.attempts,
      });
    }
    throw err;
  }
  if (range?.end !== undefined && writer.confirmed < (range.total ?? range.end + 1)) {
    // The slice ended before the file did: keep the valid prefix and ask for the rest.
    const error = new CondaError(
      `The server sent bytes ${range.start}-${range.end} of ${range.total ?? '*'} and stopped (${writer.confirmed} bytes in hand) for ${job.safeUrl.toString()}.`,
      { code: 'CG_CONTENT_LENGTH_MISMATCH', url: job.safeUrl, attempts: job.attempts });
    throw Object.assign(error, { retryableShortBody: true });
  }
  const received = writer.confirmed - start;
  const announced = res.status === 206 ? undefined : contentLength;
  if (announced !== undefined && received !== announced) {
    const error = new CondaError(
      'Downloaded bytes did not match Content-Length\n' +
        `    url: ${job.safeUrl.toString()}\n    target_path: ${job.target}\n` +
        `    Content-Length: ${announced}\n    downloaded bytes: ${received}\n`,
      { code: 'CG_CONTENT_LENGTH_MISMATCH', url: job.safeUrl, attempts: job.attempts });
    if (received < announced) Object.assign(error, { retryableShortBody: true });
    throw error;
  }
  return { hashes, total: total ?? writer.confirmed, offset: start, restartedAt0 };
}

function parseLength(value: string | null): number | undefined {
  if (value === null || !/^\d+$/.test(value.trim())) return undefined;
  const n = Number(value.trim());
  return Number.isSafeInteger(n) ? n : undefined;
}

async function discard(res: Response): Promise<void> {
  await res.body?.cancel().catch(() => undefined);
}
