/**
 * download(): verified, resumable, atomic. Bytes go to `<target>.partial` under a lock,
 * are hashed while streaming (the kept prefix first on resume), and the file is renamed
 * onto the target only after size and checksums match. A `.partial` survives a failure
 * only when it is a non-empty valid prefix worth resuming (a checksum is known).
 */
import type { Stats } from 'node:fs';
import { lstat, rename, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import {
  BasicClobberError, ChecksumMismatchError, CondaError, IncompleteBodyError, NotWritableError, UnsupportedSchemeError,
} from '../errors/classes.js';
import { GatewayError } from '../errors/gateway-error.js';
import { SafeUrl, maskUrl } from '../redact/safe-url.js';
import { parseRequestUrl, type Session } from '../session/create-session.js';
import { withSession } from '../session/with-session.js';
import { toGatewayError } from '../session/map-error.js';
import { RetryBudget } from '../core/retry.js';
import { isRetryableError } from '../session/retry/classify.js';
import { hashPrefix, normalizeExpected, type Expected } from './checksums.js';
import { fetchInto, type HashSlot } from './fetch-into.js';
import { createHasher, transferStarted, type Digest } from './hasher.js';
import { emitProgress, hasChecksum, RestartFromZero, type Job } from './job.js';
import { checkLockCheck, lockFile, removeAbandoned, removeIfEmpty, type LockedFile } from '../core/file-lock.js';
import { assertRegularTarget } from './target-check.js';
import type { DownloadOptions, DownloadResult } from './types.js';

export type { DownloadOptions, DownloadProgress, DownloadResult } from './types.js';

export const PARTIAL_EXTENSION = '.partial';

export async function download(url: string | URL, target: string, opts: DownloadOptions = {}): Promise<DownloadResult> {
  const parsed = parseRequestUrl(url);
  const expected = normalizeExpected(opts);
  return withSession(opts, async (session, settings) => {
    assertSchemeServed(session, parsed);
    if (expected.ignoredMd5 !== undefined) {
      opts.log?.(`warning: ignoring the malformed md5 '${expected.ignoredMd5}' for ${maskUrl(parsed)}: the sha256 decides (as in conda)`);
    }
    const targetPath = resolve(target);
    // Both checks at once (one file-system round trip, not two), their errors in this order.
    const [regular, writable] = await Promise.allSettled([assertRegularTarget(targetPath, target), assertWritableDir(dirname(targetPath))]);
    if (regular.status === 'rejected') throw regular.reason;
    if (writable.status === 'rejected') throw writable.reason;
    const job: Job = {
      url: parsed, safeUrl: new SafeUrl(parsed), target: targetPath, partialPath: targetPath + PARTIAL_EXTENSION,
      expected, settings, session, opts, started: performance.now(), attempts: 0, lastProgress: -1,
    };
    return downloadJob(job, regular.value !== undefined);
  });
}

/** Refuse, before touching the disk, a URL the session has no adapter for. */
function assertSchemeServed(session: Session, url: URL): void {
  const scheme = url.protocol.replace(/:$/, '');
  if (session.schemes.includes(scheme)) return;
  throw new UnsupportedSchemeError(
    `No adapter for '${url.protocol}' URLs (${maskUrl(url)}); supported schemes: ${session.schemes.join(', ')}.`,
    { url });
}

/** `targetSeen`: the target existed a moment ago (when not, there is nothing to check before the lock). */
async function downloadJob(job: Job, targetSeen: boolean): Promise<DownloadResult> {
  const { settings, opts } = job;
  // The caller's whileLocked step: its error is the caller's own, passed on as it is (not mapped).
  let stepFailed: { error: unknown } | undefined;
  let result: DownloadResult;
  try {
    // A target already complete is used without creating a .partial (nothing to leave behind if
    // we are killed); under the lock it is checked again, as another writer may just have finished.
    result = await checkLockCheck(
      async () => {
        if (!targetSeen) return undefined;
        const reused = await verifiedTarget(job);
        // A peer killed between creating the partial and removing it may have left it empty.
        if (reused && !settings.noLock) await removeAbandoned(job.partialPath, opts.signal);
        return reused;
      },
      () => lockFile(job.partialPath, { noLock: settings.noLock, signal: opts.signal, timeoutMs: opts.lockTimeoutMs }),
      async (lock) => {
        let renamed = false;
        try {
          const reused = await reuseExistingTarget(job);
          if (reused) return reused;
          const ended = transferStarted();
          let done: DownloadResult;
          try {
            done = await downloadLocked(job, lock);
            renamed = true;
          } finally {
            ended();
          }
          await opts.whileLocked?.(done).catch((error: unknown) => { stepFailed = { error }; });
          return done;
        } finally {
          // After the rename the partial's name is gone (or someone else's): nothing to clean.
          if (!renamed) await removeIfEmpty(lock);
        }
      });
  } catch (err) {
    throw toGatewayError(err, {
      url: job.safeUrl, attempts: job.attempts || undefined, elapsedMs: performance.now() - job.started,
      channelAlias: settings.channelAlias, path: job.partialPath,
    });
  }
  if (stepFailed) throw stepFailed.error;
  return result;
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


/** An existing target that verifies against a known checksum is used as is; else path_conflict applies. */
async function reuseExistingTarget(job: Job): Promise<DownloadResult | undefined> {
  const st = await lstat(job.target).catch(() => undefined);
  if (!st) return undefined;
  const verified = await verifiedTarget(job, st);
  if (verified) return verified;
  if (job.settings.pathConflict === 'prevent') throw new BasicClobberError(job.target, job.safeUrl.toString());
  if (job.settings.pathConflict === 'warn') job.opts.log?.(`warning: overwriting existing ${job.target}`);
  return undefined;
}

/** The target, when it is a regular file matching a known checksum; no side effects otherwise. */
async function verifiedTarget(job: Job, seen?: Stats): Promise<DownloadResult | undefined> {
  // lstat: a symlink is never reused (its target could change after we verified it); the rename replaces it.
  const st = seen ?? await lstat(job.target).catch(() => undefined);
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
  return undefined;
}

function matches(expected: Expected, digest: { sha256: string; md5?: string }, size: number): boolean {
  if (expected.size !== undefined && expected.size !== size) return false;
  if (expected.sha256 !== undefined && expected.sha256 !== digest.sha256) return false;
  if (expected.md5 !== undefined && !expected.md5Advisory && expected.md5 !== digest.md5) return false;
  return true;
}

/** What the attempts of one download have used and kept so far. */
interface Attempts {
  resumable: boolean;
  restartedFromZero: boolean;
  /** Transport retries (resuming the kept prefix). */
  retries: RetryBudget;
  /** Bytes kept from an earlier run (reported as resumedFrom). */
  resumedFrom: number;
}

async function downloadLocked(job: Job, lock: LockedFile): Promise<DownloadResult> {
  const handle = lock.handle;
  const state: Attempts = { resumable: hasChecksum(job.expected), restartedFromZero: false, resumedFrom: 0,
    retries: new RetryBudget(job.settings, { log: job.opts.log, onRetry: job.opts.onRetry, sleep: job.opts.sleep, signal: job.opts.signal }),
  };
  // A prefix is only worth keeping when a checksum will prove the result.
  if (!state.resumable && lock.size > 0) await handle.truncate(0);
  // The first attempt starts from the size the lock saw; later ones look again.
  let size: number | undefined = state.resumable ? lock.size : 0;
  for (;;) {
    const offset = await keptPrefix(job, handle, state.resumable, size);
    size = undefined;
    if (offset > 0 && state.resumedFrom === 0) state.resumedFrom = offset;
    // The hasher of this attempt: made for a kept prefix, else once the size is known.
    const slot: HashSlot = { hasher: undefined };
    try {
      return await fetchVerifyRename(job, handle, offset, slot, state);
    } catch (err) {
      await recoverOrThrow(job, handle, err, state);
    } finally {
      await slot.hasher?.drop();
    }
  }
}

/** How many bytes of the partial are worth keeping (it is cut to 0 when they cannot be). */
async function keptPrefix(job: Job, handle: LockedFile['handle'], resumable: boolean, known: number | undefined): Promise<number> {
  let offset = known ?? (await handle.stat()).size;
  if (job.expected.size !== undefined && offset > job.expected.size) {
    await handle.truncate(0);
    offset = 0;
  }
  if (offset > 0 && !resumable && job.validator === undefined) {
    await handle.truncate(0);
    offset = 0;
  }
  return offset;
}

/**
 * Hash the kept prefix, fetch what is missing (nothing when the partial already has the
 * expected size), verify, rename onto the target.
 */
async function fetchVerifyRename(job: Job, handle: LockedFile['handle'], offset: number, slot: HashSlot,
  state: Attempts): Promise<DownloadResult> {
  const withMd5 = job.expected.md5 !== undefined;
  if (offset > 0) {
    slot.hasher = createHasher(withMd5, job.expected.size ?? offset);
    await slot.hasher.prefix(handle, offset);
  }
  let total: number | undefined = job.expected.size;
  if (!(job.expected.size !== undefined && offset === job.expected.size)) {
    const fetched = await fetchInto(job, handle, offset, slot);
    total = fetched.total;
    if (fetched.restartedAt0 && state.resumedFrom > 0 && fetched.offset === 0) state.resumedFrom = 0;
  }
  // No hasher yet: nothing was kept or fetched, an empty file (hashed inline).
  const hasher = slot.hasher ??= createHasher(withMd5, undefined);
  // The size on disk, the sync and the digest do not depend on each other (nor on the verdict): all at once.
  const synced = handle.datasync();
  synced.catch(() => undefined);
  const [{ size }, digest] = await Promise.all([handle.stat(), hasher.digest()]);
  verify(job, digest, size, state.resumedFrom > 0);
  await synced;
  await rename(job.partialPath, job.target);
  emitProgress(job, size, total ?? size);
  return {
    path: job.target, url: job.safeUrl, bytes: size, sha256: digest.sha256, md5: digest.md5,
    resumedFrom: state.resumedFrom, attempts: job.attempts, reused: false, unverified: !state.resumable,
    elapsedMs: performance.now() - job.started,
  };
}

/**
 * After a failed attempt: resolve to try again (a restart from byte 0 once, or a transport
 * retry within remote_max_retries that resumes the kept prefix), or throw, leaving the partial
 * as conda would (removed on checksum and 4xx failures, and whenever no checksum can prove it).
 */
async function recoverOrThrow(job: Job, handle: LockedFile['handle'], err: unknown, state: Attempts): Promise<void> {
  if (err instanceof RestartFromZero) {
    await handle.truncate(0);
    job.validator = undefined;
    if (state.restartedFromZero) {
      if (err.error) throw err.error;
      throw new CondaError(`Download of ${job.safeUrl.toString()} failed twice: ${err.reason}`,
        { code: 'CG_BAD_RESPONSE', url: job.safeUrl, attempts: job.attempts });
    }
    job.opts.log?.(`Retry failed partial download ${job.target} (${err.reason})`);
    state.restartedFromZero = true;
    state.resumedFrom = 0;
    return;
  }
  if (err instanceof ChecksumMismatchError || isClientError(err)) {
    await handle.truncate(0); // conda deletes the .partial on these
    throw err;
  }
  const retryable = err instanceof IncompleteBodyError || (!(err instanceof GatewayError) && isRetryableError(err));
  if (retryable && state.retries.canRetry) {
    const reason = (err as { code?: string }).code ?? 'body interrupted';
    const url = job.safeUrl.toString();
    await state.retries.spend({ url, reason, attempt: job.attempts, message: () => `resuming ${url} after ${reason}` });
    return;
  }
  if (!state.resumable) await handle.truncate(0);
  throw err;
}

function isClientError(err: unknown): boolean {
  const status = (err as { status?: unknown }).status;
  return err instanceof GatewayError && err.code === 'CG_HTTP_STATUS' && typeof status === 'number' && status >= 400 && status < 500;
}

function verify(job: Job, digest: Digest, size: number, resumed: boolean): void {
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
  // The hash must cover exactly the file's bytes (a hashing step that missed or repeated a
  // range would otherwise pass unnoticed when no checksum was given).
  if (digest.bytes !== size) throw new RestartFromZero(`hashed ${digest.bytes} of ${size} bytes`);
  if (expected.sha256 !== undefined && digest.sha256 !== expected.sha256) mismatch('sha256', expected.sha256, digest.sha256);
  if (expected.md5 !== undefined && digest.md5 !== expected.md5) {
    if (!expected.md5Advisory) mismatch('md5', expected.md5, digest.md5 ?? '');
    // conda checks sha256 only when both are given; the sha256 matched, so the md5 is what is wrong.
    job.opts.log?.(`warning: md5 of ${job.safeUrl.toString()} is ${digest.md5 ?? '?'}, not the expected ${expected.md5}; ` +
      'the sha256 matches, so the file is kept (sha256 wins over md5, as in conda)');
  }
}

