/**
 * Running out of file descriptors (EMFILE, ENFILE) is pressure, not failure: another
 * transfer closes one soon. As graceful-fs does, hold the operation back and try again
 * with a short, growing, jittered wait, for up to a minute; only then let the error out
 * (mapped to CG_FILESYSTEM with a hint naming the open-file limit).
 */
import { readFileSync } from 'node:fs';
import { systemCodeOf } from '../errors/from-system.js';
import { sleep } from '../util/sleep.js';

/** graceful-fs gives up after 60 s too. */
export const FD_PRESSURE_MAX_WAIT_MS = 60_000;

export function isFdPressure(err: unknown): boolean {
  const code = systemCodeOf(err);
  return code === 'EMFILE' || code === 'ENFILE';
}

export interface FdBackoffOptions {
  signal?: AbortSignal;
  /** Hears once per operation that it is being held back. */
  log?: (message: string) => void;
  /** What is being done, for the log line: 'connecting to https://…', 'opening /path'. */
  what?: string;
  /** @default FD_PRESSURE_MAX_WAIT_MS */
  maxWaitMs?: number;
}

/** Run `fn`; while it fails for lack of file descriptors, wait and run it again. */
export async function withFdBackoff<T>(fn: () => Promise<T>, options: FdBackoffOptions = {}): Promise<T> {
  const maxWaitMs = options.maxWaitMs ?? FD_PRESSURE_MAX_WAIT_MS;
  let waitedMs = 0;
  for (let delay = 10; ; delay = Math.min(delay * 2, 500)) {
    try {
      return await fn();
    } catch (err) {
      if (!isFdPressure(err) || waitedMs >= maxWaitMs || options.signal?.aborted) throw err;
      if (waitedMs === 0) {
        options.log?.(`out of file descriptors (${systemCodeOf(err)})${options.what ? ` ${options.what}` : ''}: holding back until other transfers close theirs`);
      }
      // Jitter, so that the held-back operations do not all wake together.
      const wait = Math.round(delay / 2 + Math.random() * delay / 2);
      await sleep(wait, options.signal);
      waitedMs += wait;
    }
  }
}

/** Descriptors one transfer keeps open: its partial file, its socket, and one for lock files, credential reads, renames. */
export const FDS_PER_TRANSFER = 3;
/** What Node (event loop, stdio, module loading) keeps open before any transfer. */
export const FDS_RESERVED = 24;

let limitRead = false;
let limitCached: number | undefined;
/** The soft RLIMIT_NOFILE, read once from /proc/self/limits (Linux); undefined elsewhere or when unlimited. */
export function openFileLimit(): number | undefined {
  if (!limitRead) {
    try {
      const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
      limitCached = m ? Number(m[1]) : undefined;
      limitRead = true;
    } catch { /* not Linux, or out of descriptors right now: try again next time */ }
  }
  return limitCached;
}

/**
 * How many transfers may run at once under the open-file limit. Each holds its partial file
 * while it waits for a socket, so too many at once can hold every descriptor and wait for one
 * forever (ulimit -n 50, -j 32); below the limit they only slow down.
 */
export function transfersWithinFdLimit(wanted: number, limit: number | undefined = openFileLimit()): number {
  if (limit === undefined) return wanted;
  return Math.max(1, Math.min(wanted, Math.floor((limit - FDS_RESERVED) / FDS_PER_TRANSFER)));
}
