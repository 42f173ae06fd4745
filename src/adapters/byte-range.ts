/**
 * Byte ranges for the non-HTTP adapters (file, ftp, s3): parse one `Range: bytes=…`
 * against a known size, decide `If-Range`, and build the 206/416 headers, so that
 * download() resumes the same way over every scheme.
 */

/** What to send: the whole object, one slice of it (inclusive end), or 416. */
export type RangeDecision =
  | { readonly kind: 'full' }
  | { readonly kind: 'partial'; readonly start: number; readonly end: number }
  | { readonly kind: 'unsatisfiable' };

const FULL: RangeDecision = { kind: 'full' };

/**
 * RFC 9110 §14.2 for a single range. Anything we do not understand (other units,
 * several ranges, bad syntax) is ignored, which means a 200 with the whole object.
 */
export function decideRange(header: string | null | undefined, size: number): RangeDecision {
  if (!header) return FULL;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m || (m[1] === '' && m[2] === '')) return FULL;
  const first = m[1] === '' ? undefined : Number(m[1]);
  const last = m[2] === '' ? undefined : Number(m[2]);
  if ((first !== undefined && !Number.isSafeInteger(first)) || (last !== undefined && !Number.isSafeInteger(last))) return FULL;
  if (first === undefined) {
    // Suffix form `-N`: the last N bytes.
    if (last === undefined || last === 0) return { kind: 'unsatisfiable' };
    if (size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - last), end: size - 1 };
  }
  if (last !== undefined && last < first) return FULL;
  if (first >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start: first, end: Math.min(last ?? size - 1, size - 1) };
}

/**
 * `If-Range` holds when it names the current representation: the same strong ETag,
 * or exactly the same Last-Modified date. Otherwise the Range is ignored (200).
 */
export function ifRangeHolds(ifRange: string | null | undefined, current: { etag?: string; lastModified?: string }): boolean {
  if (!ifRange) return true;
  const value = ifRange.trim();
  if (value.startsWith('"') || /^W\//i.test(value)) {
    return !/^W\//i.test(value) && current.etag !== undefined && !/^W\//i.test(current.etag) && current.etag === value;
  }
  return current.lastModified !== undefined && current.lastModified === value;
}

/** Range decision with If-Range applied. */
export function decideConditionalRange(
  headers: { get(name: string): string | null }, size: number, current: { etag?: string; lastModified?: string },
): RangeDecision {
  const range = headers.get('range');
  if (!range) return FULL;
  if (!ifRangeHolds(headers.get('if-range'), current)) return FULL;
  return decideRange(range, size);
}

/** Headers that describe a 206 slice. */
export function partialHeaders(start: number, end: number, size: number): Record<string, string> {
  return { 'content-range': `bytes ${start}-${end}/${size}`, 'content-length': String(end - start + 1) };
}

/** Headers of a 416 answer. */
export function unsatisfiableHeaders(size: number): Record<string, string> {
  return { 'content-range': `bytes */${size}`, 'content-length': '0' };
}

/** An HTTP-date as in Last-Modified (`Mon, 23 Nov 2026 19:39:05 GMT`). */
export function httpDate(date: Date): string {
  return date.toUTCString();
}
