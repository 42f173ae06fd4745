/**
 * `mirrors:` for every request of a session (repodata, shards, packages, a later-found
 * `shards_base_url`): the longest matching prefix maps the URL onto its mirrors, tried
 * in order of fewest failures. A transport error or an error status (not 416) moves on
 * to the next mirror at once; the last one's answer is what the caller (and the retry
 * middleware around this one, which picks mirrors again on each attempt) sees.
 */
import type { Response } from 'undici';
import { maskUrl } from '../../redact/safe-url.js';
import { MirrorSelector } from '../mirrors.js';
import { withRequest } from '../pipeline.js';
import type { Middleware } from '../../core/types.js';
import { discardBody } from '../../core/response-info.js';

function failed(res: Response): boolean {
  return res.status >= 400 && res.status !== 416;
}

export function createMirrorMiddleware(mirrors: Readonly<Record<string, readonly string[]>>): Middleware | undefined {
  if (!Object.keys(mirrors).length) return undefined;
  const selector = new MirrorSelector(mirrors);
  return async (req, ctx, next) => {
    const candidates = selector.candidates(req.url.href);
    if (candidates.length === 1 && candidates[0]!.isOriginal) return next(req);
    let lastError: unknown;
    for (let i = 0; i < candidates.length; i++) {
      const candidate = candidates[i]!;
      const last = i === candidates.length - 1;
      let res: Response;
      try {
        res = await next(withRequest(req, { url: new URL(candidate.url) }));
      } catch (err) {
        if (req.signal?.aborted || last) throw err;
        lastError = err;
        selector.recordFailure(candidate.base);
        ctx.log(`mirror ${maskUrl(candidate.base)} failed for ${maskUrl(req.url)} (${(err as { code?: string }).code ?? 'error'}); trying the next`);
        continue;
      }
      if (!failed(res) || last) return res;
      selector.recordFailure(candidate.base);
      ctx.log(`mirror ${maskUrl(candidate.base)} answered ${res.status} for ${maskUrl(req.url)}; trying the next`);
      await discardBody(res);
    }
    throw lastError;
  };
}
