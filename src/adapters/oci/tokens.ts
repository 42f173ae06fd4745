/**
 * Registry bearer tokens, cached per registry + scope + credentials until shortly before
 * they expire, fetched once however many requests want the same one (single flight).
 * One token may be fetched for several scopes at once (a batch): it is then cached under
 * each of their keys, and what the registry said about it (accepted once = proven) is
 * shared by all of them. Every token ever handed out is remembered as a secret to mask.
 */

export interface CachedToken {
  readonly token: string;
  /** Epoch ms after which the token is not used again. */
  readonly expiresAt: number;
}

/** A cached token and what is known about it; one object for every key of a batch. */
export interface TokenEntry extends CachedToken {
  /** The cache keys it was fetched for (one, or a batch's). */
  readonly keys: readonly string[];
  /** The registry accepted it at least once (so a later 401 is about the scope, not the token). */
  proven: boolean;
  /** It replaced a refused batch token (never refreshed again). */
  readonly refresh: boolean;
}

/** The token spec's default lifetime when the server names none. */
export const DEFAULT_TOKEN_LIFETIME_SECS = 60;

/** When to stop using a token that lives `lifetimeSecs`: 10% early, at least 1 s, at most 30 s. */
export function expiryOf(now: number, lifetimeSecs: number): number {
  const ms = lifetimeSecs * 1000;
  return now + ms - Math.min(30_000, Math.max(1000, ms / 10));
}

export class TokenCache {
  readonly #entries = new Map<string, TokenEntry>();
  /** token → entry, to learn about a token the registry just refused or accepted. */
  readonly #byToken = new Map<string, TokenEntry>();
  readonly #inflight = new Map<string, Promise<TokenEntry>>();
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

  /** Whether `key` has a live token or one on its way (a batch need not ask for it again). */
  covered(key: string): boolean {
    return this.#inflight.has(key) || this.get(key) !== undefined;
  }

  /** What is known about a token handed out by this cache (while it lives). */
  entryOf(token: string): TokenEntry | undefined {
    const entry = this.#byToken.get(token);
    return entry && entry.expiresAt > this.#now() ? entry : undefined;
  }

  /** The registry accepted `token`: a later 401 with it is about a scope it does not cover. */
  prove(token: string): void {
    const entry = this.#byToken.get(token);
    if (entry) entry.proven = true;
  }

  /** Forget `token` for `key` (the registry refused it); a newer token fetched meanwhile stays. */
  invalidate(key: string, token: string): void {
    if (this.#entries.get(key)?.token === token) this.#entries.delete(key);
  }

  /**
   * The cached token for `key`, or one fetched by `fetch` for `group` (the keys of a batch;
   * those already covered are left out). Every concurrent caller of a
   * key being fetched shares that one fetch. `fetch` gets the keys it must cover.
   */
  async obtain(key: string, fetch: (keys: readonly string[]) => Promise<CachedToken>, group: readonly string[] = [key],
    refresh = false): Promise<string> {
    const live = this.get(key);
    if (live) return live;
    const pending = this.#inflight.get(key);
    if (pending) return (await pending).token;
    // In the group's order (the order the caller will want them), `key` among them.
    const keys = group.includes(key) ? group.filter((k) => k === key || !this.covered(k)) : [key, ...group.filter((k) => !this.covered(k))];
    return (await this.#start(keys, fetch, refresh)).token;
  }

  /**
   * Replace `refused` under every key that still holds it (or none) with one fresh token for
   * all of them; concurrent callers refused the same token share the one fetch.
   */
  async replace(refused: TokenEntry, key: string, fetch: (keys: readonly string[]) => Promise<CachedToken>): Promise<string> {
    for (const k of refused.keys) this.invalidate(k, refused.token);
    return this.obtain(key, fetch, refused.keys, true);
  }

  #start(keys: readonly string[], fetch: (keys: readonly string[]) => Promise<CachedToken>, refresh: boolean): Promise<TokenEntry> {
    const pending = fetch(keys).then((got) => {
      this.fetched++;
      const entry: TokenEntry = { token: got.token, expiresAt: got.expiresAt, keys, proven: false, refresh };
      this.#secrets.add(entry.token);
      this.#prune();
      this.#byToken.set(entry.token, entry);
      for (const k of keys) this.#entries.set(k, entry);
      return entry;
    }).finally(() => {
      for (const k of keys) if (this.#inflight.get(k) === pending) this.#inflight.delete(k);
    });
    for (const k of keys) this.#inflight.set(k, pending);
    return pending;
  }

  /** Drop what is known about expired tokens (they stay in the secrets to mask). */
  #prune(): void {
    const now = this.#now();
    for (const [token, entry] of this.#byToken) if (entry.expiresAt <= now) this.#byToken.delete(token);
  }

  /** Every token handed out, to mask in messages. */
  secrets(): string[] {
    return [...this.#secrets];
  }
}
