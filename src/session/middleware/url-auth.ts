/**
 * Credentials carried in the URL: `user:pass@` becomes Basic auth and leaves the URL, so
 * it is never forwarded. An anaconda `/t/<token>/` stays in the path, where conda puts it.
 */
import { withRequest } from '../pipeline.js';
import type { Middleware } from '../../core/types.js';

export function basicAuthHeader(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

export const urlAuthMiddleware: Middleware = (req, _ctx, next) => {
  if (!req.url.username && !req.url.password) return next(req);
  const url = new URL(req.url.href);
  const headers = withRequest(req, {}).headers;
  if (!headers.has('authorization')) headers.set('authorization', basicAuthHeader(decode(url.username), decode(url.password)));
  url.username = '';
  url.password = '';
  return next(withRequest(req, { url, headers }));
};
