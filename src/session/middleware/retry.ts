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
import { parseRetryAfter } from '../../core/backoff.js';
import { RetryBudget } from '../../core/retry.js';
import { isRetryableError, isRetryableStatus } from '../retry/classify.js';
import { toGatewayError } from '../map-error.js';
import { setResponseInfo, discardBody } from '../../core/response-info.js';
import type { Middleware } from '../../core/types.js';

export const retryMiddleware: Middleware = async (req, ctx, next) => {
  const maxRetries = ctx.settings.remoteMaxRetries;
  const started = performance.now();
  const budget = new RetryBudget(ctx.settings, { log: ctx.log, onRetry: ctx.onRetry, sleep: ctx.sleep, signal: req.signal });
  for (let attempt = 1; ; attempt++) {
    ctx.attempt = attempt;
    let res: Response | undefined;
    let error: unknown;
    try {
      res = await next(req);
    } catch (err) {
      error = err;
    }
    let reason: string;
    let retryAfterMs: number | undefined;
    if (res) {
      if (!budget.canRetry || !isRetryableStatus(res.status)) {
        setResponseInfo(res, { attempts: attempt });
        return res;
      }
      reason = `HTTP ${res.status}`;
      retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
      await discardBody(res);
    } else {
      const retryable = !isGatewayError(error) && isRetryableError(error);
      if (!budget.canRetry || !retryable) {
        throw toGatewayError(error, {
          url: req.url, attempts: attempt, elapsedMs: performance.now() - started,
          channelAlias: ctx.settings.channelAlias, clientCert: ctx.settings.clientSslCert,
        });
      }
      reason = systemCodeOf(error) ?? (error instanceof Error ? error.name : 'error');
    }
    const url = maskUrl(req.url);
    await budget.spend({
      url, reason, retryAfterMs,
      message: (delayMs) => `retry ${attempt}/${maxRetries} for ${url} after ${reason}, waiting ${delayMs} ms`,
    });
  }
};
