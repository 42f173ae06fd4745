/**
 * Which repositories to ask one token for. Every conda package name is its own repository
 * in the channel-mirrors layout, so a cold environment would cost one token request per
 * package; when the caller names the packages up front (fetchPackages), the expected
 * repositories of a registry are cut, in the order given, into batches of at most
 * MAX_BATCH_SCOPES scopes and MAX_BATCH_CHARS of query (the token spec allows several
 * `scope` parameters; the bound keeps the token URL, and the token carrying the grants,
 * well under the 8 KiB header limits of common proxies). A repository the token server
 * left out of a batch token (partial grant) is asked for alone from then on.
 */

/** Scopes asked for in one token request. */
export const MAX_BATCH_SCOPES = 16;
/** Characters of `&scope=…` query per token request. */
export const MAX_BATCH_CHARS = 2000;

export class TokenBatches {
  /** origin → scope → the batch (scopes) it belongs to. */
  readonly #batches = new Map<string, Map<string, readonly string[]>>();
  /** cache key → its scope (keys are `<origin> <identity> <scope>`). */
  readonly #scopes = new Map<string, string>();
  readonly #keyParts = new Map<string, { origin: string; id: string }>();
  /** Keys refused under a batch token: asked for alone. */
  readonly #alone = new Set<string>();
  /** Origins whose token service refused a batch request. */
  readonly #disabled = new Set<string>();

  /** The token cache key of a scope on a registry for one set of credentials. */
  keyOf(origin: string, scope: string, id: string): string {
    const key = `${origin} ${id} ${scope}`;
    if (!this.#scopes.has(key)) {
      this.#scopes.set(key, scope);
      this.#keyParts.set(key, { origin, id });
    }
    return key;
  }

  scopesOf(keys: readonly string[]): string[] {
    return keys.map((key) => this.#scopes.get(key)!);
  }

  /** Add expected scopes of `origin` (in the order they will be wanted). */
  expect(origin: string, scopes: readonly string[]): void {
    let byScope = this.#batches.get(origin);
    if (!byScope) this.#batches.set(origin, (byScope = new Map()));
    let batch: string[] = [];
    let chars = 0;
    for (const scope of new Set(scopes)) {
      if (byScope.has(scope)) continue;
      const size = `&scope=${encodeURIComponent(scope)}`.length;
      if (batch.length && (batch.length >= MAX_BATCH_SCOPES || chars + size > MAX_BATCH_CHARS)) {
        batch = [];
        chars = 0;
      }
      batch.push(scope);
      chars += size;
      byScope.set(scope, batch);
    }
  }

  /** The keys to fetch one token for: `key`'s batch in its order (without those asked for alone), or just `key`. */
  groupOf(origin: string, key: string): readonly string[] {
    const scope = this.#scopes.get(key);
    const parts = this.#keyParts.get(key);
    if (!scope || !parts || this.#alone.has(key) || this.#disabled.has(origin)) return [key];
    const batch = this.#batches.get(origin)?.get(scope);
    if (!batch || batch.length < 2) return [key];
    const keys: string[] = [];
    for (const other of batch) {
      const k = this.keyOf(origin, other, parts.id);
      if (k === key || !this.#alone.has(k)) keys.push(k);
    }
    return keys;
  }

  /** `key` is not covered by its batch's token: ask for it alone from now on. */
  single(key: string): void {
    this.#alone.add(key);
  }

  /** Stop batching for `origin`; true the first time. */
  disable(origin: string): boolean {
    if (this.#disabled.has(origin)) return false;
    this.#disabled.add(origin);
    return true;
  }
}
