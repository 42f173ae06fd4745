/**
 * Follow redirects (at most 30, like requests). On a change of origin the Authorization,
 * Cookie and URL credentials are dropped; a redirect from https to http is refused, and so is
 * any redirect to a scheme other than http(s): a hostile server must not make us read a local
 * file (file:), send .netrc passwords in clear (ftp:) or sign a request with the user's AWS keys (s3:).
 */
import { RedirectError } from '../../errors/classes.js';
import { maskUrl } from '../../redact/safe-url.js';
import { withRequest } from '../pipeline.js';
import { setResponseInfo, discardBody } from '../../core/response-info.js';
import type { Middleware } from '../../core/types.js';

export const MAX_REDIRECTS = 30;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** A refused target for the error text: masked, and an opaque URL (data:, javascript:) shows its scheme only. */
function describeForeignTarget(target: URL): string {
  if (!target.href.startsWith(`${target.protocol}//`)) return `${target.protocol}…`;
  const masked = maskUrl(target);
  return masked.length > 300 ? `${masked.slice(0, 300)}…` : masked;
}

export const redirectMiddleware: Middleware = async (req, _ctx, next) => {
  let current = req;
  const seen = new Set<string>();
  for (let hops = 0; ; hops++) {
    const res = await next(current);
    const location = res.headers.get('location');
    if (!REDIRECT_STATUSES.has(res.status) || !location || !/^https?:$/.test(current.url.protocol)) {
      setResponseInfo(res, { redirected: hops > 0 });
      return res;
    }
    await discardBody(res);
    if (hops >= MAX_REDIRECTS) {
      throw new RedirectError(`Exceeded ${MAX_REDIRECTS} redirects.`, { url: req.url });
    }
    let target: URL;
    try {
      target = new URL(location, current.url);
    } catch {
      throw new RedirectError(`The server sent an invalid redirect location for ${maskUrl(current.url)}.`, { url: current.url });
    }
    if (!/^https?:$/.test(target.protocol)) {
      throw new RedirectError(
        `Refused a redirect from ${maskUrl(current.url)} to ${describeForeignTarget(target)}: only redirects to http(s) are followed.`,
        { url: current.url });
    }
    if (current.url.protocol === 'https:' && target.protocol !== 'https:') {
      throw new RedirectError(
        `Refused a redirect from ${maskUrl(current.url)} to ${maskUrl(target)}: it would downgrade from https.`,
        { url: current.url });
    }
    const key = `${current.method} ${target.href}`;
    if (seen.has(key)) throw new RedirectError(`Redirect loop at ${maskUrl(target)}.`, { url: target });
    seen.add(key);
    const headers = withRequest(current, {}).headers;
    if (target.origin === current.url.origin) {
      // Same origin: credentials in the URL stay (requests keeps auth on same-host redirects).
      if (!target.username && current.url.username) {
        target.username = current.url.username;
        target.password = current.url.password;
      }
    } else {
      headers.delete('authorization');
      headers.delete('cookie');
      headers.delete('proxy-authorization');
      target.username = '';
      target.password = '';
    }
    const method = res.status === 303 ? 'GET' : current.method;
    current = withRequest(current, { url: target, headers, method });
  }
};
