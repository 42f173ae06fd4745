/** Parse `Content-Range` (RFC 9110): `bytes 0-99/1000`, `bytes 0-99/(star)`, and the unsatisfied form `bytes (star)/1000`. */

export interface ContentRange {
  /** Undefined for the unsatisfied form. */
  start?: number;
  end?: number;
  /** Undefined when the total is `*`. */
  total?: number;
}

export function parseContentRange(value: string | null | undefined): ContentRange | undefined {
  if (!value) return undefined;
  const m = /^\s*bytes\s+(?:(\d+)-(\d+)|\*)\s*\/\s*(\d+|\*)\s*$/i.exec(value);
  if (!m) return undefined;
  const num = (s: string | undefined): number | undefined => {
    if (s === undefined || s === '*') return undefined;
    const n = Number(s);
    return Number.isSafeInteger(n) ? n : Number.NaN;
  };
  const start = num(m[1]);
  const end = num(m[2]);
  const total = num(m[3]);
  if ([start, end, total].some((n) => Number.isNaN(n))) return undefined;
  if (start !== undefined && end !== undefined && end < start) return undefined;
  if (total !== undefined && end !== undefined && end >= total) return undefined;
  const out: ContentRange = {};
  if (start !== undefined) out.start = start;
  if (end !== undefined) out.end = end;
  if (total !== undefined) out.total = total;
  return out;
}

/** A validator safe for If-Range: a strong ETag, else Last-Modified. Weak ETags are ignored. */
export function rangeValidator(headers: { get(name: string): string | null }): string | undefined {
  const etag = headers.get('etag');
  if (etag && !/^W\//i.test(etag.trim())) return etag.trim();
  return headers.get('last-modified')?.trim() || undefined;
}
