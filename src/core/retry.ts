/**
 * One retry path: a budget of remote_max_retries, conda's backoff (delayFor), a log line, the
 * onRetry event and the wait. Callers keep their own judgement of what deserves a retry
 * (a status, a transport error, a body cut short); this helper only spends the budget.
 */
import { sleep as defaultSleep } from '../util/sleep.js';
import { delayFor } from './backoff.js';
import type { Settings } from './settings.js';
import type { DebugLog, RetryEvent } from './types.js';

export interface RetryHooks {
  log?: DebugLog;
  onRetry?: (event: RetryEvent) => void;
  /** @default util/sleep (abortable) */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** A cancelled operation is never retried, and its wait is cut short. */
  signal?: AbortSignal;
}

export interface RetryStep {
  /** Masked URL, as reported. */
  url: string;
  /** 'HTTP 503', 'ECONNRESET', 'body interrupted', … */
  reason: string;
  /** The attempt reported to onRetry. @default the number of this retry */
  attempt?: number;
  /** What the server asked for (Retry-After), in ms. */
  retryAfterMs?: number;
  /** The log line, given the wait and the number of this retry. */
  message: (delayMs: number, retry: number) => string;
}

/** The retries of one operation: at most settings.remoteMaxRetries, waits growing as conda's. */
export class RetryBudget {
  #used = 0;

  constructor(readonly settings: Settings, readonly hooks: RetryHooks) {}

  /** Retries spent so far. */
  get used(): number {
    return this.#used;
  }

  /** Whether one more retry may happen: budget left and the operation not cancelled. */
  get canRetry(): boolean {
    return this.#used < this.settings.remoteMaxRetries && !this.hooks.signal?.aborted;
  }

  /** Spend one retry: work out the wait, log it, tell onRetry, then wait. Resolves to the wait in ms. */
  async spend(step: RetryStep): Promise<number> {
    const retry = ++this.#used;
    const { settings, hooks } = this;
    const delayMs = delayFor({
      retry, backoffFactor: settings.remoteBackoffFactor, retryAfterMs: step.retryAfterMs,
      retryAfterMaxMs: settings.remoteRetryAfterMaxSecs * 1000,
    });
    hooks.log?.(step.message(delayMs, retry));
    hooks.onRetry?.({ url: step.url, attempt: step.attempt ?? retry, delayMs, reason: step.reason });
    await (hooks.sleep ?? defaultSleep)(delayMs, hooks.signal);
    return delayMs;
  }
}
