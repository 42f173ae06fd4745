/** Compose middleware around a terminal handler: the first in the list runs outermost. */
import type { Response } from 'undici';
import { Headers as HeadersClass } from '../util/undici.js';
import type { GatewayRequest, Middleware, Next, RequestContext } from '../core/types.js';

export function compose(middlewares: readonly Middleware[], terminal: (req: GatewayRequest, ctx: RequestContext) => Promise<Response>) {
  return (req: GatewayRequest, ctx: RequestContext): Promise<Response> => {
    const run = (index: number): Next => (r) => {
      const mw = middlewares[index];
      return mw ? mw(r, ctx, run(index + 1)) : terminal(r, ctx);
    };
    return run(0)(req);
  };
}

/** A copy of a request with some fields replaced; headers are copied, never shared. */
export function withRequest(req: GatewayRequest, changes: Partial<GatewayRequest>): GatewayRequest {
  return {
    url: changes.url ?? new URL(req.url.href),
    method: changes.method ?? req.method,
    headers: changes.headers ?? new HeadersClass(req.headers),
    signal: 'signal' in changes ? changes.signal : req.signal,
  };
}
