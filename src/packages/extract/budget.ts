/**
 * How many bytes a package may produce. An archive declares its size in info/paths.json
 * (size_in_bytes of every file); once that is read, the file bytes written may not go
 * beyond it (plus slack for info/ files). Before that, and for packages without sizes,
 * the decompressed stream is capped at a ratio of the archive size. A bomb fails as soon
 * as it crosses either line.
 */
import { Transform, type TransformCallback } from 'node:stream';

/** Decompressed bytes allowed per archive byte, whatever paths.json says. */
export const FALLBACK_RATIO = 500;
/** Slack on top of the declared size: info/ files are not listed in paths.json. */
export const DECLARED_SLACK_BYTES = 16 * 1024 * 1024;

export class ByteBudget {
  /** Decompressed tar bytes seen by the meters. */
  produced = 0;
  producedLimit: number;
  /** File bytes written to disk. */
  written = 0;
  writtenLimit = Infinity;
  declared: number | undefined;
  readonly #slack: number;

  constructor(archiveBytes: number, slack: number = DECLARED_SLACK_BYTES) {
    this.#slack = slack;
    this.producedLimit = archiveBytes * FALLBACK_RATIO + 64 * 1024 * 1024;
  }

  /** Streaming with the archive size still unknown: the cap follows the archive bytes received so far. */
  allowArchiveBytes(archiveBytes: number): void {
    this.producedLimit = Math.max(this.producedLimit, archiveBytes * FALLBACK_RATIO + 64 * 1024 * 1024);
  }

  /** After the last entry: all file bytes within what paths.json declares plus slack (when it was read after other files). */
  withinDeclared(): boolean {
    return this.declared === undefined || this.written <= this.declared + this.#slack;
  }

  /** paths.json was read: from now on, file bytes at most what it declares, plus slack. */
  declare(totalFileBytes: number): void {
    this.declared = totalFileBytes;
    this.writtenLimit = this.written + totalFileBytes + this.#slack;
  }

  /** Count file bytes about to be written; false when that would pass the declared size. */
  write(n: number): boolean {
    this.written += n;
    return this.written <= this.writtenLimit;
  }

  /** A pass-through over decompressed bytes that fails with `onExceeded()` past the ratio cap. */
  meter(onExceeded: (used: number, limit: number) => Error): Transform {
    return new Transform({
      transform: (chunk: Buffer, _enc, done: TransformCallback) => {
        this.produced += chunk.length;
        if (this.produced > this.producedLimit) return done(onExceeded(this.produced, this.producedLimit));
        done(null, chunk);
      },
    });
  }
}

/** The declared total of a paths.json text, or undefined when it declares no sizes. */
export function declaredSize(pathsJson: string): number | undefined {
  try {
    const parsed = JSON.parse(pathsJson) as { paths?: Array<{ size_in_bytes?: unknown; path_type?: unknown }> };
    if (!Array.isArray(parsed.paths)) return undefined;
    let bytes = 0;
    for (const p of parsed.paths) {
      if (typeof p?.size_in_bytes === 'number') bytes += Math.max(0, p.size_in_bytes);
      else if (p?.path_type === 'hardlink') return undefined;
    }
    return bytes;
  } catch {
    return undefined;
  }
}
