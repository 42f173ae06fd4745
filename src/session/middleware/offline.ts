/** Offline mode: refuse every scheme but file://, before auth, retries or sockets. */
import { OfflineError } from '../../errors/classes.js';
import { maskUrl } from '../../redact/safe-url.js';
import type { Middleware } from '../../core/types.js';

export const offlineMiddleware: Middleware = (req, ctx, next) => {
  if (!ctx.settings.offline || req.url.protocol === 'file:') return next(req);
  throw new OfflineError(maskUrl(req.url));
};
