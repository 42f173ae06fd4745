/**
 * Registry bearer tokens, cached per registry + scope + credentials until shortly before
 * they expire, fetched once however many requests want the same one (single flight).
 * Every token ever handed out is remembered as a secret to mask.
 */

export interface CachedToken {
  readonly token: string;
  /** Epoch ms after which the token is not used again. */
  readonly expiresAt: number;
}

/** The token spec's default lifetime when the server names none. */
export const DEFAULT_TOKEN_LIFETIME_SECS = 60;

/** When to stop using a token that lives `lifetimeSecs`: 10% early, at least 1 s, at most 30 s. */
export function expiryOf(now: number, lifetimeSecs: number): number {
  const ms = lifetimeSecs * 1000;
  return now + ms - Math.min(30_000, Math.max(1000, ms / 10));
}

export class TokenCache {
  readonly #entries = new Map<string, CachedToken>();
  readonly #inflight = new Map<string, Promise<CachedToken>>();
  readonly #secrets = new Set<string>();
  readonly #now: () => number;
  /** How many tokens were fetched (tests and benchmarks read it). */
  fetched = 0;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** A live cached token, or undefined. */
  get(key: string): string | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.token;
  }

  /** Forget `token` for `key` (the registry refused it); a newer token fetched meanwhile stays. */
  invalidate(key: string, token: string): void {
    if (this.#entries.get(key)?.token === token) this.#entries.delete(key);
  }

  /** The cached token, or one fetched by `fetch` (shared by every concurrent caller of the same key). */
  async obtain(key: string, fetch: () => Promise<CachedToken>): Promise<string> {
    const live = this.get(key);
    if (live) return live;
    let pending = this.#inflight.get(key);
    if (!pending) {
      pending = fetch().then((entry) => {
        this.fetched++;
        this.#secrets.add(entry.token);
        this.#entries.set(key, entry);
        return entry;
      }).finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, pending);
    }
    return (await pending).token;
  }

  /** Every token handed out, to mask in messages. */
  secrets(): string[] {
    return [...this.#secrets];
  }
}
