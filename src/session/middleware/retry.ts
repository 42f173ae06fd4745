/**
 * Retries with conda's budget and backoff. It sits outside auth and headers so every
 * attempt re-runs them. When the budget is spent on a retryable status, the last
 * response is returned (urllib3's raise_on_status=False); transport errors are thrown
 * as GatewayErrors carrying the attempt count.
 */
import type { Response } from 'undici';
import { isGatewayError } from '../../errors/gateway-error.js';
import { systemCodeOf } from '../../errors/from-system.js';
import { maskUrl } from '../../redact/safe-url.js';
import { delayFor, parseRetryAfter } from '../retry/backoff.js';
import { isRetryableError, isRetryableStatus } from '../retry/classify.js';
import { toGatewayError } from '../map-error.js';
import { setResponseInfo } from '../../core/response-info.js';
import type { Middleware } from '../../core/types.js';

export const retryMiddleware: Middleware = async (req, ctx, next) => {
  const maxRetries = ctx.settings.remoteMaxRetries;
  const started = performance.now();
  for (let attempt = 1; ; attempt++) {
    ctx.attempt = attempt;
    let res: Response | undefined;
    let error: unknown;
    try {
      res = await next(req);
    } catch (err) {
      error = err;
    }
    const canRetry = attempt <= maxRetries && !req.signal?.aborted;
    let reason: string;
    let retryAfterMs: number | undefined;
    if (res) {
      if (!canRetry || !isRetryableStatus(res.status)) {
        setResponseInfo(res, { attempts: attempt });
        return res;
      }
      reason = `HTTP ${res.status}`;
      retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
      await res.body?.cancel().catch(() => undefined);
    } else {
      const retryable = !isGatewayError(error) && isRetryableError(error);
      if (!canRetry || !retryable) {
        throw toGatewayError(error, {
          url: req.url, attempts: attempt, elapsedMs: performance.now() - started,
          channelAlias: ctx.settings.channelAlias, clientCert: ctx.settings.clientSslCert,
        });
      }
      reason = systemCodeOf(error) ?? (error instanceof Error ? error.name : 'error');
    }
    const delayMs = delayFor({
      retry: attempt, backoffFactor: ctx.settings.remoteBackoffFactor, retryAfterMs,
      retryAfterMaxMs: ctx.settings.remoteRetryAfterMaxSecs * 1000,
    });
    const url = maskUrl(req.url);
    ctx.log(`retry ${attempt}/${maxRetries} for ${url} after ${reason}, waiting ${delayMs} ms`);
    ctx.onRetry?.({ url, attempt, delayMs, reason });
    await ctx.sleep(delayMs, req.signal);
  }
};
