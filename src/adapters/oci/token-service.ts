/**
 * One request to a registry's token service (the `realm` of its Bearer challenge), for
 * one or several `repository:<name>:pull` scopes, with the user's credentials only when
 * the realm is on the registry's own site and reached safely. The answer's size is
 * bounded; a refusal is a TokenRefused the registry client turns into the service's status.
 */
import { Headers, Response } from '../../util/undici.js';
import type { Adapter } from '../../core/adapter.js';
import { discardBody } from '../../core/response-info.js';
import type { DebugLog, RequestContext } from '../../core/types.js';
import { CondaError } from '../../errors/classes.js';
import { maskUrl } from '../../redact/safe-url.js';
import { userAgent } from '../../version.js';
import { DEFAULT_TOKEN_LIFETIME_SECS, expiryOf, type CachedToken } from './tokens.js';

const MAX_TOKEN_BODY = 1024 * 1024;

/** Internal: the token service said no; the adapter answers with its status. */
export class TokenRefused extends Error {
  constructor(readonly status: number, readonly statusText: string) {
    super(`token service answered ${status}`);
  }
}

export interface TokenRealm {
  /** The registry's origin (`https://host[:port]`). */
  readonly origin: string;
  readonly realm?: string;
  readonly service?: string;
}

export interface TokenAsker {
  /** The user's Authorization for the registry (only Basic goes to the realm). */
  readonly credentials?: string;
  readonly signal?: AbortSignal;
}

export async function requestToken(deps: { http: Adapter; log: DebugLog }, at: TokenRealm, scopes: readonly string[], asker: TokenAsker,
  ctx: RequestContext): Promise<CachedToken> {
  const { origin } = at;
  let realm: URL;
  try {
    realm = new URL(at.realm ?? '');
  } catch {
    throw new CondaError(`The registry ${maskUrl(origin)} named an invalid token realm.`, { code: 'CG_BAD_RESPONSE', url: origin });
  }
  // Credentials go to the realm only over https, or over http when the registry itself was configured plain.
  const allowed = realm.protocol === 'https:' || (realm.protocol === 'http:' && origin.startsWith('http:'));
  if (!allowed) {
    throw new CondaError(`Refused the token realm ${maskUrl(realm)} of ${maskUrl(origin)}: it is not https.`, { code: 'CG_BAD_RESPONSE', url: origin });
  }
  if (at.service) realm.searchParams.set('service', at.service);
  // The token spec allows several scope parameters; the token then covers the repositories granted.
  for (const scope of scopes) realm.searchParams.append('scope', scope);
  const what = scopes.length > 1 ? `${scopes[0]} and ${scopes.length - 1} more repositories` : scopes[0];
  const headers = new Headers({ accept: 'application/json', 'user-agent': userAgent() });
  if (asker.credentials?.startsWith('Basic ')) {
    if (realmMayHaveCredentials(realm.hostname, new URL(origin).hostname)) headers.set('authorization', asker.credentials);
    else deps.log(`oci: not sending credentials for ${new URL(origin).host} to the token realm on ${realm.host} (another site)`);
  }
  const started = Date.now();
  const res = await deps.http.send({ url: realm, method: 'GET', headers, signal: asker.signal }, ctx);
  if (res.status !== 200) {
    await discardBody(res);
    deps.log(`oci: token service ${maskUrl(realm.origin + realm.pathname)} answered ${res.status} for ${what}`);
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
  deps.log(`oci: token for ${what} on ${origin} (${asker.credentials ? 'with credentials' : 'anonymous'}), valid ${lifetime} s`);
  return { token, expiresAt: expiryOf(started, lifetime) };
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

/** The token service's refusal as the answer to the request that needed the token. */
export function refusal(err: TokenRefused): Response {
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
