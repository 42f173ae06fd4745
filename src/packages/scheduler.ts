/**
 * Run tasks with a global limit and a per-host limit, largest first: a big file starts
 * early so it does not finish alone at the end, and small ones fill the other slots.
 * A task whose host is saturated lets a later task for another host go ahead.
 */
import { transfersWithinFdLimit } from '../core/fd-pressure.js';
import { Limiter } from '../util/limiter.js';

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
export async function runScheduled<T extends ScheduledTask>(tasks: readonly T[], options: ScheduleOptions): Promise<T[]> {
  const ordered = [...tasks].sort(largestFirst);
  // Never more at once than the open-file limit can carry: past it, transfers would hold every descriptor and wait.
  const limiter = new Limiter({ limit: transfersWithinFdLimit(Math.max(1, options.limit)), perKey: options.perHost, signal: options.signal });
  const started = new Set<T>();
  await Promise.allSettled(ordered.map((task) => limiter.run(() => {
    started.add(task);
    return task.run();
  }, task.host)));
  return ordered.filter((task) => !started.has(task));
}
