/**
 * The auth slot: credential sources (when the URL has none of its own) and the
 * channel's auth handler plugin, re-run on every attempt.
 */
import type { AuthHandler, CredentialSource } from '../../auth/types.js';
import { withRequest } from '../pipeline.js';
import { basicAuthHeader } from './url-auth.js';
import type { Middleware } from '../types.js';

export function createAuthMiddleware(handler: AuthHandler | undefined, sources: readonly CredentialSource[]): Middleware {
  return async (req, ctx, next) => {
    let current = req;
    if (sources.length && !req.headers.has('authorization')) {
      for (const source of sources) {
        const creds = await source.lookup(req.url);
        if (!creds) continue;
        const headers = withRequest(req, {}).headers;
        let url = req.url;
        if (creds.kind === 'basic') headers.set('authorization', basicAuthHeader(creds.username, creds.password));
        else if (creds.kind === 'bearer') headers.set('authorization', `Bearer ${creds.token}`);
        else if (creds.kind === 'conda-token' && !/\/t\/[^/]+\//.test(url.pathname)) {
          url = new URL(url.href);
          url.pathname = `/t/${creds.token}${url.pathname}`;
        }
        ctx.log(`credentials for ${req.url.host} from ${creds.source}`);
        current = withRequest(req, { headers, url });
        break;
      }
    }
    if (!handler) return next(current);
    const authCtx = { settings: ctx.settings, channelName: ctx.channelName, attempt: ctx.attempt };
    const authed = await handler.authenticate(current, authCtx);
    const res = await next(authed);
    if ((res.status === 401 || res.status === 407) && handler.onChallenge) {
      const again = await handler.onChallenge(res, authed, authCtx);
      if (again) {
        await res.body?.cancel().catch(() => undefined);
        return next(again);
      }
    }
    return res;
  };
}
