/** Pure retry timing: conda's urllib3 backoff plus a capped Retry-After. */

/** urllib3 caps its backoff at 120 s. */
export const BACKOFF_MAX_MS = 120_000;

export interface DelayInput {
  /** Number of the retry about to happen: 1 for the first retry. */
  retry: number;
  /** conda's remote_backoff_factor, in seconds. */
  backoffFactor: number;
  /** Retry-After from the server, in ms, if any. */
  retryAfterMs?: number;
  /** Longest Retry-After honoured, in ms. */
  retryAfterMaxMs: number;
}

/** Wait before retry n: 0 for the first, then factor·2^(n-1) seconds (0, 2, 4 …), capped; Retry-After wins when longer. */
export function delayFor({ retry, backoffFactor, retryAfterMs, retryAfterMaxMs }: DelayInput): number {
  const backoff = retry <= 1 ? 0 : Math.min(BACKOFF_MAX_MS, backoffFactor * 1000 * 2 ** (retry - 1));
  const serverAsked = retryAfterMs === undefined ? 0 : Math.min(Math.max(0, retryAfterMs), retryAfterMaxMs);
  return Math.max(backoff, serverAsked);
}

/** Parse Retry-After: delta seconds or an HTTP date. Undefined when absent or malformed. */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) {
    const seconds = Number(text);
    return Number.isSafeInteger(seconds) ? seconds * 1000 : undefined;
  }
  if (!/^[A-Za-z]{3},/.test(text)) return undefined;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
