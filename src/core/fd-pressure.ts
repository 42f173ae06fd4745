/**
 * Running out of file descriptors (EMFILE, ENFILE) is pressure, not failure: another
 * transfer closes one soon. As graceful-fs does, hold the operation back and try again
 * with a short, growing, jittered wait, for up to a minute; only then let the error out
 * (mapped to CG_FILESYSTEM with a hint naming the open-file limit).
 */
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
