/**
 * The auth slot: credential sources (when the URL has none of its own) and the
 * channel's auth handler plugin, re-run on every attempt. A header credential
 * (basic, bearer) and a conda token are applied independently, as conda adds both a
 * binstar token and .netrc Basic auth; S3 keys are left to the S3 adapter.
 */
import type { AuthHandler, CredentialSource, Credentials } from '../../auth/types.js';
import { withRequest } from '../pipeline.js';
import { basicAuthHeader } from './url-auth.js';
import type { GatewayRequest, Middleware, RequestContext } from '../../core/types.js';
import { discardBody } from '../../core/response-info.js';

function insertToken(url: URL, token: string, prefix = ''): URL {
  const out = new URL(url.href);
  const path = out.pathname;
  const at = prefix && path.startsWith(prefix) ? prefix.length : 0;
  out.pathname = `${path.slice(0, at)}/t/${token}${path.slice(at) || '/'}`;
  return out;
}

async function applySources(req: GatewayRequest, ctx: RequestContext, sources: readonly CredentialSource[]): Promise<GatewayRequest> {
  let header: Credentials | undefined;
  let token: Extract<Credentials, { kind: 'conda-token' }> | undefined;
  const wantHeader = !req.headers.has('authorization');
  const wantToken = !/\/t\/[^/]*/.test(req.url.pathname);
  for (const source of sources) {
    if ((header || !wantHeader) && (token || !wantToken)) break;
    const creds = await source.lookup(req.url);
    if (!creds) continue;
    if ((creds.kind === 'basic' || creds.kind === 'bearer') && wantHeader && !header) header = creds;
    else if (creds.kind === 'conda-token' && wantToken && !token) token = creds;
  }
  if (!header && !token) return req;
  const headers = withRequest(req, {}).headers;
  let url = req.url;
  if (header?.kind === 'basic') headers.set('authorization', basicAuthHeader(header.username, header.password));
  else if (header?.kind === 'bearer') headers.set('authorization', `Bearer ${header.token}`);
  if (token) url = insertToken(url, token.token, token.pathPrefix);
  for (const used of [header, token]) {
    if (used) ctx.log(`credentials for ${req.url.host} (${used.kind}) from ${used.source}`);
  }
  return withRequest(req, { headers, url });
}

export function createAuthMiddleware(handler: AuthHandler | undefined, sources: readonly CredentialSource[]): Middleware {
  return async (req, ctx, next) => {
    const current = sources.length ? await applySources(req, ctx, sources) : req;
    if (!handler) return next(current);
    const authCtx = { settings: ctx.settings, channelName: ctx.channelName, attempt: ctx.attempt };
    const authed = await handler.authenticate(current, authCtx);
    const res = await next(authed);
    if ((res.status === 401 || res.status === 407) && handler.onChallenge) {
      const again = await handler.onChallenge(res, authed, authCtx);
      if (again) {
        await discardBody(res);
        return next(again);
      }
    }
    return res;
  };
}
