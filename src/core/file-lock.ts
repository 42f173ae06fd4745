/**
 * Lock a `.partial` file against concurrent writers, in this process and across
 * processes. Across processes we take conda's lock (an exclusive fcntl lock on byte 21,
 * through os-lock), so conda, mamba and conda-gateway exclude each other, and the
 * kernel releases it when a process dies — no orphaned locks after a crash.
 * POSIX locks are per process, so an in-process mutex guards the same path first.
 */
import { constants, type FileHandle, lstat, stat, unlink, writeFile } from 'node:fs/promises';
import { LockError } from '../errors/classes.js';
import { openNoFollowStat, readNoFollow } from '../util/no-follow.js';
import { sleep } from '../util/sleep.js';
import { createRequire } from 'node:module';
import { isFdPressure, withFdBackoff } from './fd-pressure.js';

/** conda's LOCK_BYTE (chosen for mamba interop). */
export const LOCK_BYTE = 21;

export interface LockedFile {
  readonly path: string;
  readonly handle: FileHandle;
  /** True when this call waited for another writer. */
  readonly waited: boolean;
  /** The file's size when the lock was taken (saves the holder a stat). */
  readonly size: number;
  release(): Promise<void>;
}

export interface LockOptions {
  /** conda's no_lock: skip the cross-process lock. */
  noLock?: boolean;
  signal?: AbortSignal;
  /** Give up after this long. @default 30 minutes */
  timeoutMs?: number;
  /**
   * A symlink, hard link or special file found at the path: removed and replaced by our own
   * file (true), or refused with CG_UNSAFE_PATH (false). Never written through. @default true
   */
  replacePlanted?: boolean;
}

type OsLock = typeof import('os-lock');
let osLockModule: Promise<OsLock | null> | undefined;
const requireHere = createRequire(import.meta.url);
/**
 * The native lock addon, or null when it is not installed. Loaded with require, which
 * (unlike import()) does not remember a failed load: a load that failed for lack of
 * descriptors is retried, never cached as "no addon" (which would silently drop the lock).
 */
function loadOsLock(): Promise<OsLock | null> {
  osLockModule ??= withFdBackoff(async () => requireHere('os-lock') as OsLock).catch((err: unknown) => {
    if (!isFdPressure(err)) return null;
    osLockModule = undefined;
    throw err;
  });
  return osLockModule;
}

const inProcess = new Map<string, Promise<void>>();

/**
 * Wait for our turn on a path within this process, until `deadline` (the same lockTimeoutMs as
 * the cross-process wait) or an abort; resolves to the release function. A waiter that gives
 * up still passes the turn on: its link in the chain resolves as soon as the one before it.
 */
async function mutex(path: string, deadline: number, signal?: AbortSignal): Promise<{ release: () => void; waited: boolean }> {
  const previous = inProcess.get(path);
  let release!: () => void;
  const mine = new Promise<void>((resolve) => {
    release = resolve;
  });
  const chained = (previous ?? Promise.resolve()).then(() => mine);
  inProcess.set(path, chained);
  // The entry goes once the whole chain up to us is through (a waiter that gave up must not
  // let the next one past a writer still at work).
  const done = (): void => {
    release();
    void chained.then(() => {
      if (inProcess.get(path) === chained) inProcess.delete(path);
    });
  };
  if (previous) {
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    try {
      await Promise.race([
        previous,
        new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => reject(lockTimeout(path, 'another download in this process is writing it')), Math.max(0, deadline - Date.now()));
          onAbort = () => reject(signal?.reason ?? new Error('aborted'));
          if (signal?.aborted) onAbort();
          signal?.addEventListener('abort', onAbort, { once: true });
        }),
      ]);
    } catch (err) {
      done();
      throw err;
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
  }
  return { waited: previous !== undefined, release: done };
}

function lockTimeout(path: string, why: string): LockError {
  return new LockError(`Failed to acquire lock on ${path}: ${why}.`, {
    details: { path }, hint: `Wait for the other writer, raise the lock timeout, or remove ${path} if none is running.`,
  });
}

function isBusy(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'EAGAIN' || code === 'EACCES' || code === 'EBUSY' || code === 'EEXIST';
}

/**
 * Open (creating if needed) and lock `path`. When another process holds it, poll until
 * it is free; if the path was renamed or removed meanwhile, open it afresh.
 */
export async function lockFile(path: string, options: LockOptions = {}): Promise<LockedFile> {
  const deadline = Date.now() + (options.timeoutMs ?? 30 * 60_000);
  const local = await mutex(path, deadline, options.signal);
  let waited = local.waited;
  try {
    const osLock = options.noLock ? null : await loadOsLock();
    for (let delay = 25; ; delay = Math.min(delay * 2, 500)) {
      if (options.signal?.aborted) throw options.signal.reason ?? new Error('aborted');
      // Never through a planted symlink or hard link: those are removed, not written through.
      const { handle, stat: mine } = await withFdBackoff(() => openNoFollowStat(path, constants.O_RDWR | constants.O_CREAT, {
        replacePlanted: options.replacePlanted ?? true,
      }), { signal: options.signal });
      let locked = false;
      let releaseFallback: (() => Promise<void>) | undefined;
      try {
        if (osLock) {
          await osLock.lock(handle.fd, LOCK_BYTE, 1, { exclusive: true, immediate: true });
        } else if (!options.noLock) {
          releaseFallback = await lockfileFallback(path);
        }
        locked = true;
        // The holder before us may have renamed or removed the file: then our fd is stale. (An
        // open file keeps its inode, so the stat taken at the open still names it; the path's
        // stat, taken under the lock, gives the size no other writer can change now.)
        const current = await stat(path).catch(() => undefined);
        if (current && current.ino === mine.ino && current.dev === mine.dev) {
          return {
            path, handle, waited, size: current.size,
            release: async () => {
              try {
                await releaseFallback?.();
                await handle.close();
              } finally {
                local.release();
              }
            },
          };
        }
      } catch (err) {
        if (!isBusy(err)) {
          await handle.close().catch(() => undefined);
          throw err;
        }
      }
      // Busy, or stale: closing our fd drops nothing of anyone else's (we held no lock on it).
      if (locked) await releaseFallback?.();
      await handle.close().catch(() => undefined);
      waited = true;
      if (Date.now() > deadline) {
        throw lockTimeout(path, 'another process is writing it');
      }
      await sleep(delay, options.signal);
    }
  } catch (err) {
    local.release();
    throw err;
  }
}

/** Unlink the locked file when it is empty and its path still names it (nothing of anyone's is lost). */
export async function removeIfEmpty(lock: LockedFile): Promise<void> {
  try {
    const [st, current] = await Promise.all([lock.handle.stat(), stat(lock.path).catch(() => undefined)]);
    if (st.size === 0 && current?.ino === st.ino) await unlink(lock.path);
  } catch { /* closed or already gone */ }
}

/**
 * An empty lock file at `path` that no one holds: what a writer killed between creating it and
 * removing it leaves (the lock file is created before its holder knows whether it needs it).
 * Removed, so a finished cache holds no leftovers; best effort, never waits. Callers skip it with
 * no_lock, where another writer may be about to use the file without a lock.
 */
export async function removeAbandoned(path: string, signal?: AbortSignal): Promise<void> {
  const st = await lstat(path).catch(() => undefined);
  if (!st?.isFile() || st.size !== 0) return;
  const lock = await lockFile(path, { timeoutMs: 0, replacePlanted: false, signal }).catch(() => undefined);
  if (lock) await removeIfEmpty(lock).finally(() => lock.release().catch(() => undefined));
}

/** Without the native addon: an O_EXCL `<path>.lock` holding our pid; a dead pid's lock is stale. */
async function lockfileFallback(path: string): Promise<() => Promise<void>> {
  const lockPath = `${path}.lock`;
  try {
    await writeFile(lockPath, String(process.pid), { flag: 'wx' });
  } catch (err) {
    if ((err as { code?: string }).code !== 'EEXIST') throw err;
    // Not through a planted symlink (to /dev/zero, say): a small regular file or nothing.
    const pid = Number(((await readNoFollow(lockPath, 64)) ?? '').trim());
    let alive = false;
    try {
      if (pid > 0) {
        process.kill(pid, 0);
        alive = true;
      }
    } catch { /* no such process: stale */ }
    if (alive) throw err;
    await unlink(lockPath).catch(() => undefined);
    await writeFile(lockPath, String(process.pid), { flag: 'wx' });
  }
  return () => unlink(lockPath).catch(() => undefined);
}

/**
 * Check, lock, check again: `quick()` looks without the lock (a ready result needs none); when
 * it has no answer, `locked()` runs under `lock()`, where it must look again (another thread or
 * process may just have finished) before doing the work. The lock is released afterwards.
 */
export async function checkLockCheck<T>(quick: () => Promise<T | undefined>, lock: () => Promise<LockedFile>,
  locked: (held: LockedFile) => Promise<T>): Promise<T> {
  const ready = await quick();
  if (ready !== undefined) return ready;
  const held = await lock();
  try {
    return await locked(held);
  } finally {
    await held.release();
  }
}
