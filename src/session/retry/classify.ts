/** Pure: which responses and errors deserve another attempt. */
import { isRetryableTransportError } from '../../errors/from-system.js';

/** conda's status_forcelist (413, 429, 500, 503) plus 408, 502 and 504. */
export const RETRY_STATUSES: ReadonlySet<number> = new Set([408, 413, 429, 500, 502, 503, 504]);

export function isRetryableStatus(status: number): boolean {
  return RETRY_STATUSES.has(status);
}

export function isRetryableError(err: unknown): boolean {
  return isRetryableTransportError(err);
}
