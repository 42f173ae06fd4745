/**
 * The one concurrency limiter: at most `limit` tasks at once, and at most `perKey` of one key
 * (a host) at once; a waiting task starts as soon as it fits, in the order given (a task whose
 * key is saturated lets a later one go ahead). Once `signal` aborts, nothing more starts.
 * Everything else (settling together, a pool of slots, the download schedule) is built on it.
 */
import { AbortedError } from '../errors/classes.js';

export interface LimiterOptions {
  /** Tasks at once (at least 1). @default Infinity */
  limit?: number;
  /** Tasks of one key at once (at least 1). @default Infinity */
  perKey?: number;
  /** Once aborted, tasks not started yet are rejected with AbortedError; running ones go on. */
  signal?: AbortSignal;
}

interface Waiting {
  key: string | undefined;
  start: () => void;
  refuse: (err: unknown) => void;
}

export class Limiter {
  readonly #limit: number;
  readonly #perKey: number;
  readonly #signal: AbortSignal | undefined;
  readonly #waiting: Waiting[] = [];
  readonly #byKey = new Map<string, number>();
  #active = 0;

  constructor(options: LimiterOptions = {}) {
    this.#limit = Math.max(1, options.limit ?? Infinity);
    this.#perKey = Math.max(1, options.perKey ?? Infinity);
    this.#signal = options.signal;
    this.#signal?.addEventListener('abort', () => this.#pump(), { once: true });
  }

  /** Run `fn` when it fits; settles as `fn` does. */
  run<T>(fn: () => Promise<T>, key?: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = (): void => {
        let running: Promise<T>;
        try {
          running = fn();
        } catch (err) {
          running = Promise.reject(err);
        }
        running.then(resolve, reject).finally(() => {
          this.#active--;
          if (key !== undefined) this.#byKey.set(key, (this.#byKey.get(key) ?? 1) - 1);
          this.#pump();
        });
      };
      this.#waiting.push({ key, start, refuse: reject });
      this.#pump();
    });
  }

  #pump(): void {
    if (this.#signal?.aborted) {
      for (const task of this.#waiting.splice(0)) task.refuse(new AbortedError());
      return;
    }
    for (let i = 0; i < this.#waiting.length && this.#active < this.#limit;) {
      const task = this.#waiting[i]!;
      const busy = task.key === undefined ? 0 : this.#byKey.get(task.key) ?? 0;
      if (busy >= this.#perKey) {
        i++;
        continue;
      }
      this.#waiting.splice(i, 1);
      this.#active++;
      if (task.key !== undefined) this.#byKey.set(task.key, busy + 1);
      task.start();
    }
  }
}

/** At most `limit` calls of `slot(fn)` run at once; the rest wait in order. */
export function createSlots(limit: number): <T>(fn: () => Promise<T>) => Promise<T> {
  const limiter = new Limiter({ limit });
  return (fn) => limiter.run(fn);
}

/**
 * Run `fn` over every item (at most `limit` at once). The first error is thrown only once all
 * have settled, so no write outlives the call; else the results, in the items' order.
 */
export async function settleAll<T, R>(items: readonly T[], fn: (item: T) => Promise<R>, limit = Infinity): Promise<R[]> {
  const limiter = new Limiter({ limit });
  const settled = await Promise.allSettled(items.map((item) => limiter.run(() => fn(item))));
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<R>).value);
}
