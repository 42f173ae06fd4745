/**
 * Mirrors (`mirrors` setting, pixi's `[mirrors]` shape): the longest matching channel
 * prefix maps a package URL onto ordered mirror URLs. Mirrors that failed in this run are
 * tried later (fewest failures first, configured order on ties); the original URL is a
 * last resort, and only when it is itself listed. Used by the session's mirror middleware
 * (every URL, repodata and shards included) and by fetchPackages (which also fails over
 * on checksum mismatches).
 */

export interface Candidate {
  /** The URL to request. */
  readonly url: string;
  /** The mirror base it came from (the original prefix when isOriginal). */
  readonly base: string;
  readonly isOriginal: boolean;
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

export class MirrorSelector {
  readonly #entries: Array<{ prefix: string; mirrors: string[] }>;
  readonly #failures = new Map<string, number>();

  constructor(mirrors: Readonly<Record<string, readonly string[]>> = {}) {
    this.#entries = Object.entries(mirrors)
      .map(([prefix, list]) => ({ prefix: withSlash(prefix), mirrors: list.map(withSlash) }))
      .sort((a, b) => b.prefix.length - a.prefix.length);
  }

  /** Where to try `url`, in order. Without a matching prefix: just the URL itself. */
  candidates(url: string): Candidate[] {
    const entry = this.#entries.find((e) => url.startsWith(e.prefix));
    if (!entry) return [{ url, base: url, isOriginal: true }];
    const rest = url.slice(entry.prefix.length);
    const mirrors = entry.mirrors
      .map((base, order) => ({ base, order }))
      .filter((m) => m.base !== entry.prefix)
      .sort((a, b) => this.failures(a.base) - this.failures(b.base) || a.order - b.order)
      .map((m): Candidate => ({ url: m.base + rest, base: m.base, isOriginal: false }));
    if (entry.mirrors.includes(entry.prefix)) mirrors.push({ url, base: entry.prefix, isOriginal: true });
    return mirrors;
  }

  recordFailure(base: string): number {
    const n = this.failures(base) + 1;
    this.#failures.set(base, n);
    return n;
  }

  failures(base: string): number {
    return this.#failures.get(base) ?? 0;
  }
}
