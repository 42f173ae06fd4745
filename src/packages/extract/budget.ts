/**
 * How many decompressed bytes a package may produce. An archive declares its size in
 * info/paths.json (size_in_bytes of every file); once that is read, the budget is the
 * declared size plus tar overhead. Until then (and for packages without sizes) a ratio
 * of the archive size caps it. A bomb fails as soon as it crosses the line.
 */
import { Transform, type TransformCallback } from 'node:stream';

/** Decompressed bytes allowed per archive byte before paths.json is known. */
export const FALLBACK_RATIO = 500;
/** Slack on top of the declared size: info/ files, tar headers, padding. */
export const DECLARED_SLACK_BYTES = 16 * 1024 * 1024;
/** Tar header, long-name and pax records, padding: per entry. */
const PER_ENTRY_OVERHEAD = 3 * 512;

export class ByteBudget {
  used = 0;
  limit: number;
  declared: number | undefined;
  readonly #slack: number;

  constructor(archiveBytes: number, slack: number = DECLARED_SLACK_BYTES) {
    this.#slack = slack;
    this.limit = archiveBytes * FALLBACK_RATIO + 64 * 1024 * 1024;
  }

  /** paths.json was read: from now on, at most what it declares (never more than before). */
  declare(totalFileBytes: number, entries: number): void {
    this.declared = totalFileBytes;
    this.limit = Math.min(this.limit, this.used + totalFileBytes + entries * PER_ENTRY_OVERHEAD + this.#slack);
  }

  /** A pass-through that fails with `onExceeded()` once the budget is spent. */
  meter(onExceeded: (used: number, limit: number) => Error): Transform {
    return new Transform({
      transform: (chunk: Buffer, _enc, done: TransformCallback) => {
        this.used += chunk.length;
        if (this.used > this.limit) return done(onExceeded(this.used, this.limit));
        done(null, chunk);
      },
    });
  }
}

/** The declared total of a paths.json text, or undefined when it declares no sizes. */
export function declaredSize(pathsJson: string): { bytes: number; entries: number } | undefined {
  try {
    const parsed = JSON.parse(pathsJson) as { paths?: Array<{ size_in_bytes?: unknown }> };
    if (!Array.isArray(parsed.paths)) return undefined;
    let bytes = 0;
    for (const p of parsed.paths) {
      if (typeof p?.size_in_bytes !== 'number') {
        if ((p as { path_type?: string })?.path_type === 'hardlink') return undefined;
        continue;
      }
      bytes += Math.max(0, p.size_in_bytes);
    }
    return { bytes, entries: parsed.paths.length };
  } catch {
    return undefined;
  }
}
