/**
 * One exchange with an OCI registry over the http adapter: the right Authorization for
 * the scope (cached bearer token, Basic for Basic-only registries, nothing at first
 * contact), the `WWW-Authenticate` challenge answered (token fetched from the realm with
 * the user's credentials, or Basic; then replayed), and blob redirects (CDNs) followed
 * without carrying Authorization to another origin. Round trips saved: concurrent first
 * requests to a registry wait for the first one's challenge (one 401, not one each); once
 * the realm is known, tokens are fetched before the request; and tokens for repositories
 * the caller said it will pull are asked for several at a time (token-batches.ts).
 */
import { createHash } from 'node:crypto';
import { Headers, type Response } from '../../util/undici.js';
import type { Settings } from '../../core/settings.js';
import { RedirectError } from '../../errors/classes.js';
import { maskUrl } from '../../redact/safe-url.js';
import type { DebugLog, GatewayRequest, HttpMethod, RequestContext } from '../../core/types.js';
import { userAgent } from '../../version.js';
import type { Adapter } from '../../core/adapter.js';
import { discardBody } from '../../core/response-info.js';
import { parseChallenge, type Challenge } from './challenge.js';
import { TokenBatches } from './token-batches.js';
import { TokenCache, type CachedToken } from './tokens.js';
import { TokenRefused, refusal, requestToken } from './token-service.js';

export { realmMayHaveCredentials } from './token-service.js';

export interface RegistryRequest {
  /** `host[:port]`. */
  readonly registry: string;
  /** `/v2/<repository>/manifests/<tag>` or `/v2/<repository>/blobs/<digest>`. */
  readonly path: string;
  readonly method: HttpMethod;
  /** Accept, Range, If-Range … (no Authorization: that is ours to set). */
  readonly headers: Headers;
  /** `repository:<name>:pull`. */
  readonly scope: string;
  /** The user's Authorization for this registry (Basic, or a static Bearer), from the URL or a credential source. */
  readonly credentials?: string;
  readonly signal?: AbortSignal;
}

interface OriginAuth {
  /** 'none': the registry answered without asking for anything. */
  readonly mode: 'bearer' | 'basic' | 'none';
  readonly realm?: string;
  readonly service?: string;
}

const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** A token wanted for one request: the cache key and the scope to ask for alone. */
interface Want {
  readonly origin: string;
  readonly key: string;
  readonly scope: string;
}

function identity(credentials: string | undefined): string {
  return credentials ? createHash('sha256').update(credentials).digest('hex').slice(0, 16) : 'anonymous';
}

export class RegistryClient {
  readonly tokens = new TokenCache();
  readonly #auth = new Map<string, OriginAuth>();
  /** Origins whose first contact is under way: later requests wait to learn how it authenticates. */
  readonly #probes = new Map<string, Promise<void>>();
  readonly #batches = new TokenBatches();
  readonly #http: Adapter;
  readonly #settings: Settings;
  readonly #log: DebugLog;
  /** Requests sent to registries and token services (benchmarks read it). */
  requests = 0;

  constructor(http: Adapter, settings: Settings, log: DebugLog) {
    this.#http = http;
    this.#settings = settings;
    this.#log = log;
  }

  /** `https://<registry>`, or http for a registry listed in `oci_plain_http`. */
  origin(registry: string): string {
    const host = registry.toLowerCase();
    const hostname = host.replace(/:\d+$/, '');
    const plain = this.#settings.ociPlainHttp.some((entry) => {
      const e = entry.trim().toLowerCase();
      return e === host || e === hostname;
    });
    return `${plain ? 'http' : 'https'}://${registry}`;
  }

  /**
   * Repositories (`repository:<name>:pull` scopes) of `registry` that are about to be
   * pulled: their tokens are then asked for several at a time (a hint; nothing is fetched now).
   */
  expect(registry: string, scopes: readonly string[]): void {
    this.#batches.expect(this.origin(registry), scopes);
  }

  async fetch(r: RegistryRequest, ctx: RequestContext): Promise<Response> {
    const origin = this.origin(r.registry);
    const url = new URL(r.path, origin);
    const key = this.#batches.keyOf(origin, r.scope, identity(r.credentials));
    // The first request to a registry finds out how it authenticates; concurrent ones wait for that (one 401, not one each).
    for (let probe = this.#probes.get(origin); probe; probe = this.#probes.get(origin)) await untilSettled(probe, r.signal);
    const release = !this.#auth.has(origin) && !r.credentials?.startsWith('Bearer ') ? this.#probe(origin) : undefined;
    let sent: string | undefined;
    try {
      sent = release ? undefined : await this.#authorizationFor(origin, key, r, ctx);
    } catch (err) {
      if (err instanceof TokenRefused) return refusal(err);
      throw err;
    }
    let res: Response;
    let challenge: Challenge | undefined;
    try {
      res = await this.#send(url, r, sent, ctx);
      challenge = this.#learn(origin, sent, res, r);
    } finally {
      release?.();
    }
    if (res.status !== 401 || !challenge) return res;
    if (challenge.scheme === 'basic') {
      if (!r.credentials?.startsWith('Basic ') || sent === r.credentials) return res;
      await discardBody(res);
      return this.#send(url, r, r.credentials, ctx);
    }
    if (!challenge.params.realm || r.credentials?.startsWith('Bearer ')) return res;
    await discardBody(res);
    const refused = sent?.startsWith('Bearer ') ? sent.slice('Bearer '.length) : undefined;
    return this.#replay(url, { origin, key, scope: challenge.params.scope || r.scope }, refused, challenge.params.error, r, ctx);
  }

  /** What the answer says about the registry's auth (and about the token sent); the 401's challenge. */
  #learn(origin: string, sent: string | undefined, res: Response, r: RegistryRequest): Challenge | undefined {
    if (res.status !== 401) {
      if (sent?.startsWith('Bearer ')) this.tokens.prove(sent.slice('Bearer '.length));
      else if (sent === undefined && !this.#auth.has(origin)) this.#auth.set(origin, { mode: 'none' });
      return undefined;
    }
    const challenge = parseChallenge(res.headers.get('www-authenticate'));
    if (challenge?.scheme === 'basic') this.#auth.set(origin, { mode: 'basic' });
    else if (challenge?.params.realm && !r.credentials?.startsWith('Bearer ')) {
      this.#auth.set(origin, { mode: 'bearer', realm: challenge.params.realm, service: challenge.params.service });
    }
    return challenge;
  }

  #probe(origin: string): () => void {
    let done!: () => void;
    this.#probes.set(origin, new Promise<void>((resolve) => {
      done = resolve;
    }));
    return () => {
      this.#probes.delete(origin);
      done();
    };
  }

  /**
   * Answer a Bearer challenge with a token and replay. A refused batch token gets one
   * refresh of the whole batch when the token itself is the problem (invalid_token, or
   * never accepted anywhere), else a token for this repository alone: at most three
   * replays, and only a batch token's refusal earns more than one.
   */
  async #replay(url: URL, want: Want, refused: string | undefined, error: string | undefined, r: RegistryRequest,
    ctx: RequestContext): Promise<Response> {
    let last = refused;
    let why = error;
    for (let attempt = 1; ; attempt++) {
      let token: string;
      try {
        token = await this.#nextToken(want, last, why, r, ctx);
      } catch (err) {
        if (err instanceof TokenRefused) return refusal(err);
        throw err;
      }
      const res = await this.#send(url, r, `Bearer ${token}`, ctx);
      if (res.status !== 401) {
        this.tokens.prove(token);
        return res;
      }
      if (attempt >= 3 || (this.tokens.entryOf(token)?.keys.length ?? 1) < 2) return res;
      why = parseChallenge(res.headers.get('www-authenticate'))?.params.error;
      await discardBody(res);
      last = token;
    }
  }

  /** The token to try: the (batched) one for the scope, or what follows the refusal of `refused`. */
  #nextToken(want: Want, refused: string | undefined, error: string | undefined, r: RegistryRequest, ctx: RequestContext): Promise<string> {
    const { origin, key, scope } = want;
    if (refused === undefined) {
      // The registry asked for another scope than ours (not for pulls from distribution): exactly that, alone.
      if (scope !== r.scope) return this.tokens.obtain(key, () => this.#fetchToken(origin, [scope], r, ctx));
      return this.#token(origin, key, r, ctx);
    }
    const entry = this.tokens.entryOf(refused);
    if (entry && entry.keys.length > 1) {
      const tokenAtFault = error === 'invalid_token' || (error !== 'insufficient_scope' && !entry.proven);
      if (tokenAtFault && !entry.refresh) {
        this.#log(`oci: ${origin} refused a token for ${entry.keys.length} repositories (${error ?? 'never accepted'}); fetching a fresh one for all of them`);
        return this.tokens.replace(entry, key, (keys) => this.#fetchToken(origin, this.#batches.scopesOf(keys), r, ctx));
      }
      // The token server granted only part of the batch: this repository gets a token of its own from now on.
      this.#batches.single(key);
      this.#log(`oci: ${origin}: the token for ${entry.keys.length} repositories does not cover ${scope}; fetching one for it alone`);
    }
    // A refused token (expired, revoked): a fresh one, once.
    this.tokens.invalidate(key, refused);
    return this.tokens.obtain(key, () => this.#fetchToken(origin, [scope], r, ctx));
  }

  /** What to send before any challenge: a static Bearer, Basic on a Basic registry, a (cached or fresh) token on a Bearer one. */
  async #authorizationFor(origin: string, key: string, r: RegistryRequest, ctx: RequestContext): Promise<string | undefined> {
    if (r.credentials?.startsWith('Bearer ')) return r.credentials;
    const known = this.#auth.get(origin);
    if (!known || known.mode === 'none') return undefined;
    if (known.mode === 'basic') return r.credentials;
    return `Bearer ${await this.#token(origin, key, r, ctx)}`;
  }

  /**
   * The cached token for `key`, or a fresh one: for its batch of expected repositories
   * when there is one (a token server refusing the batch turns batching off for the registry).
   */
  async #token(origin: string, key: string, r: RegistryRequest, ctx: RequestContext): Promise<string> {
    const alone = () => this.#fetchToken(origin, this.#batches.scopesOf([key]), r, ctx);
    const group = this.#batches.groupOf(origin, key);
    if (group.length < 2) return this.tokens.obtain(key, alone);
    try {
      return await this.tokens.obtain(key, (keys) => this.#fetchToken(origin, this.#batches.scopesOf(keys), r, ctx), group);
    } catch (err) {
      if (!(err instanceof TokenRefused)) throw err;
      if (this.#batches.disable(origin)) this.#log(`oci: the token service of ${origin} refused a request for several repositories (${err.status}); asking for one at a time`);
      return this.tokens.obtain(key, alone);
    }
  }

  #fetchToken(origin: string, scopes: readonly string[], r: RegistryRequest, ctx: RequestContext): Promise<CachedToken> {
    this.requests++;
    return requestToken({ http: this.#http, log: this.#log }, { origin, ...this.#auth.get(origin) }, scopes, r, ctx);
  }

  /** Send, following redirects (blob stores on CDNs); Authorization never leaves the registry's origin. */
  async #send(url: URL, r: RegistryRequest, authorization: string | undefined, ctx: RequestContext): Promise<Response> {
    let current = url;
    let auth = authorization;
    for (let hops = 0; ; hops++) {
      const headers = new Headers(r.headers);
      headers.set('user-agent', userAgent());
      if (auth) headers.set('authorization', auth);
      const req: GatewayRequest = { url: current, method: r.method, headers, signal: r.signal };
      this.requests++;
      const res = await this.#http.send(req, ctx);
      const location = res.headers.get('location');
      if (!REDIRECTS.has(res.status) || !location) return res;
      await discardBody(res);
      if (hops >= MAX_REDIRECTS) throw new RedirectError(`Exceeded ${MAX_REDIRECTS} redirects.`, { url: current });
      let target: URL;
      try {
        target = new URL(location, current);
      } catch {
        throw new RedirectError(`The registry sent an invalid redirect location for ${maskUrl(current)}.`, { url: current });
      }
      if (current.protocol === 'https:' && target.protocol !== 'https:') {
        throw new RedirectError(`Refused a redirect from ${maskUrl(current)} to ${maskUrl(target)}: it would downgrade from https.`, { url: current });
      }
      if (target.origin !== current.origin) auth = undefined;
      current = target;
    }
  }
}

/** Wait for `promise`, or reject when `signal` aborts. */
async function untilSettled(promise: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return promise;
  signal.throwIfAborted();
  let onAbort!: () => void;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    await Promise.race([promise, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
