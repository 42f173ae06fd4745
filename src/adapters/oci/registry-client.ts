/**
 * One exchange with an OCI registry over the http adapter: the right Authorization for
 * the scope (cached bearer token, Basic for Basic-only registries, nothing at first
 * contact), the `WWW-Authenticate` challenge answered once (token fetched from the realm
 * with the user's credentials, or Basic), and blob redirects (CDNs) followed without
 * carrying Authorization to another origin.
 */
import { createHash } from 'node:crypto';
import { Headers, Response } from '../../util/undici.js';
import type { Settings } from '../../core/settings.js';
import { CondaError, RedirectError } from '../../errors/classes.js';
import { maskUrl } from '../../redact/safe-url.js';
import type { DebugLog, GatewayRequest, HttpMethod, RequestContext } from '../../core/types.js';
import { userAgent } from '../../version.js';
import type { Adapter } from '../../core/adapter.js';
import { discardBody } from '../../core/response-info.js';
import { parseChallenge } from './challenge.js';
import { DEFAULT_TOKEN_LIFETIME_SECS, TokenCache, expiryOf, type CachedToken } from './tokens.js';

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
  readonly mode: 'bearer' | 'basic';
  readonly realm?: string;
  readonly service?: string;
}

const MAX_REDIRECTS = 5;
const MAX_TOKEN_BODY = 1024 * 1024;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Internal: the token service said no; the adapter answers with its status. */
class TokenRefused extends Error {
  constructor(readonly status: number, readonly statusText: string) {
    super(`token service answered ${status}`);
  }
}

function identity(credentials: string | undefined): string {
  return credentials ? createHash('sha256').update(credentials).digest('hex').slice(0, 16) : 'anonymous';
}

export class RegistryClient {
  readonly tokens = new TokenCache();
  readonly #auth = new Map<string, OriginAuth>();
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

  async fetch(r: RegistryRequest, ctx: RequestContext): Promise<Response> {
    const origin = this.origin(r.registry);
    const url = new URL(r.path, origin);
    const key = `${origin} ${r.scope} ${identity(r.credentials)}`;
    let sent: string | undefined;
    try {
      sent = await this.#authorizationFor(origin, key, r, ctx);
    } catch (err) {
      if (err instanceof TokenRefused) return refusal(err);
      throw err;
    }
    const res = await this.#send(url, r, sent, ctx);
    if (res.status !== 401) return res;
    const challenge = parseChallenge(res.headers.get('www-authenticate'));
    if (!challenge) return res;
    if (challenge.scheme === 'basic') {
      this.#auth.set(origin, { mode: 'basic' });
      if (!r.credentials?.startsWith('Basic ') || sent === r.credentials) return res;
      await discardBody(res);
      return this.#send(url, r, r.credentials, ctx);
    }
    const realm = challenge.params.realm;
    if (!realm || r.credentials?.startsWith('Bearer ')) return res;
    this.#auth.set(origin, { mode: 'bearer', realm, service: challenge.params.service });
    // A token we sent was refused (expired, revoked): fetch a fresh one, once.
    if (sent?.startsWith('Bearer ')) this.tokens.invalidate(key, sent.slice('Bearer '.length));
    await discardBody(res);
    let token: string;
    try {
      token = await this.#token(origin, key, challenge.params.scope || r.scope, r, ctx);
    } catch (err) {
      if (err instanceof TokenRefused) return refusal(err);
      throw err;
    }
    return this.#send(url, r, `Bearer ${token}`, ctx);
  }

  /** What to send before any challenge: a static Bearer, Basic on a Basic registry, a (cached or fresh) token on a Bearer one. */
  async #authorizationFor(origin: string, key: string, r: RegistryRequest, ctx: RequestContext): Promise<string | undefined> {
    if (r.credentials?.startsWith('Bearer ')) return r.credentials;
    const known = this.#auth.get(origin);
    if (!known) return undefined;
    if (known.mode === 'basic') return r.credentials;
    return `Bearer ${await this.#token(origin, key, r.scope, r, ctx)}`;
  }

  #token(origin: string, key: string, scope: string, r: RegistryRequest, ctx: RequestContext): Promise<string> {
    return this.tokens.obtain(key, () => this.#fetchToken(origin, scope, r, ctx));
  }

  async #fetchToken(origin: string, scope: string, r: RegistryRequest, ctx: RequestContext): Promise<CachedToken> {
    const auth = this.#auth.get(origin);
    let realm: URL;
    try {
      realm = new URL(auth?.realm ?? '');
    } catch {
      throw new CondaError(`The registry ${maskUrl(origin)} named an invalid token realm.`, { code: 'CG_BAD_RESPONSE', url: origin });
    }
    // Credentials go to the realm only over https, or over http when the registry itself was configured plain.
    const allowed = realm.protocol === 'https:' || (realm.protocol === 'http:' && origin.startsWith('http:'));
    if (!allowed) {
      throw new CondaError(`Refused the token realm ${maskUrl(realm)} of ${maskUrl(origin)}: it is not https.`, { code: 'CG_BAD_RESPONSE', url: origin });
    }
    if (auth?.service) realm.searchParams.set('service', auth.service);
    realm.searchParams.set('scope', scope);
    const headers = new Headers({ accept: 'application/json', 'user-agent': userAgent() });
    if (r.credentials?.startsWith('Basic ')) {
      if (realmMayHaveCredentials(realm.hostname, new URL(origin).hostname)) headers.set('authorization', r.credentials);
      else this.#log(`oci: not sending credentials for ${new URL(origin).host} to the token realm on ${realm.host} (another site)`);
    }
    const started = Date.now();
    this.requests++;
    const res = await this.#http.send({ url: realm, method: 'GET', headers, signal: r.signal }, ctx);
    if (res.status !== 200) {
      await discardBody(res);
      this.#log(`oci: token service ${maskUrl(realm.origin + realm.pathname)} answered ${res.status} for ${scope}`);
      throw new TokenRefused(res.status, res.statusText);
    }
    const text = await readLimited(res, MAX_TOKEN_BODY);
    let body: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new TokenRefused(502, 'Bad Gateway');
    }
    const token = typeof body.token === 'string' && body.token ? body.token
      : typeof body.access_token === 'string' ? body.access_token : '';
    if (!token) throw new TokenRefused(502, 'Bad Gateway');
    const lifetime = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : DEFAULT_TOKEN_LIFETIME_SECS;
    this.#log(`oci: token for ${scope} on ${origin} (${r.credentials ? 'with credentials' : 'anonymous'}), valid ${lifetime} s`);
    return { token, expiresAt: expiryOf(started, lifetime) };
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

/**
 * Whether the registry's credentials may go to its token realm: the same host, or a host
 * of the same site (registry-1.docker.io → auth.docker.io, registry.gitlab.com →
 * gitlab.com). A registry cannot send the user's password to an unrelated host.
 */
export function realmMayHaveCredentials(realmHost: string, registryHost: string): boolean {
  const realm = realmHost.toLowerCase();
  const registry = registryHost.toLowerCase();
  if (realm === registry) return true;
  if (/^[\d.]+$|:/.test(registry)) return false;
  const labels = registry.split('.');
  const site = labels.length > 2 ? labels.slice(1).join('.') : registry;
  if (site.split('.').length < 2) return false;
  return realm === site || realm.endsWith(`.${site}`);
}

function refusal(err: TokenRefused): Response {
  const body = JSON.stringify({ error: 'the registry token service refused the request', status: err.status });
  return new Response(body, { status: err.status, statusText: err.statusText, headers: { 'content-type': 'application/json' } });
}

async function readLimited(res: Response, limit: number): Promise<string> {
  const reader = res.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw new TokenRefused(502, 'Bad Gateway');
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
