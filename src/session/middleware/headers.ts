/** Default headers (User-Agent, Accept, Accept-Encoding) under any the caller set. */
import { userAgent } from '../../version.js';
import { withRequest } from '../pipeline.js';
import type { Middleware } from '../../core/types.js';

export const headersMiddleware: Middleware = (req, _ctx, next) => {
  if (!/^https?:$/.test(req.url.protocol)) return next(req);
  const headers = withRequest(req, {}).headers;
  // An internal hint for the oci:// adapter (set by download()); it never goes on the wire.
  headers.delete('x-expected-sha256');
  if (!headers.has('user-agent')) headers.set('user-agent', userAgent());
  if (!headers.has('accept')) headers.set('accept', '*/*');
  if (!headers.has('accept-encoding')) headers.set('accept-encoding', 'gzip, deflate, br');
  return next(withRequest(req, { headers }));
};
