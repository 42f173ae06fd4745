/**
 * Run tasks with a global limit and a per-host limit, largest first: a big file starts
 * early so it does not finish alone at the end, and small ones fill the other slots.
 * A task whose host is saturated lets a later task for another host go ahead.
 */
import { transfersWithinFdLimit } from '../core/fd-pressure.js';

export interface ScheduledTask {
  readonly host: string;
  /** Bytes, when known; unknown sizes go last. */
  readonly size?: number;
  run(): Promise<void>;
}

export interface ScheduleOptions {
  limit: number;
  perHost: number;
  /** Stop starting new tasks once aborted; running tasks are left to finish or notice. */
  signal?: AbortSignal;
}

/** The order tasks start in (unknown sizes last). */
export function largestFirst(a: { readonly size?: number }, b: { readonly size?: number }): number {
  return (b.size ?? -1) - (a.size ?? -1);
}

/** Resolves when every started task has settled; returns the tasks never started. */
export function runScheduled<T extends ScheduledTask>(tasks: readonly T[], options: ScheduleOptions): Promise<T[]> {
  const pending = [...tasks].sort(largestFirst);
  const perHost = new Map<string, number>();
  // Never more at once than the open-file limit can carry: past it, transfers would hold every descriptor and wait.
  const limit = transfersWithinFdLimit(Math.max(1, options.limit));
  const hostLimit = Math.max(1, options.perHost);
  let active = 0;
  return new Promise((resolvePromise) => {
    const pump = (): void => {
      if (options.signal?.aborted) {
        if (active === 0) resolvePromise(pending.splice(0));
        return;
      }
      for (let i = 0; i < pending.length && active < limit;) {
        const task = pending[i]!;
        const busy = perHost.get(task.host) ?? 0;
        if (busy >= hostLimit) {
          i++;
          continue;
        }
        pending.splice(i, 1);
        active++;
        perHost.set(task.host, busy + 1);
        task.run().catch(() => undefined).finally(() => {
          active--;
          perHost.set(task.host, (perHost.get(task.host) ?? 1) - 1);
          pump();
        });
      }
      if (active === 0) resolvePromise(pending.splice(0));
    };
    options.signal?.addEventListener('abort', pump, { once: true });
    pump();
  });
}
