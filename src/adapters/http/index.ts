/**
 * HTTP(S) adapter on undici's `request` (faster than fetch for large bodies), with the
 * session's dispatcher for pools, proxies, TLS and timeouts. Bodies are decoded
 * (gzip, deflate, br) unless the caller asked for `identity`.
 */
import { STATUS_CODES } from 'node:http';
import { Readable, pipeline } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { Headers, request } from '../../util/undici.js';
import { ProxyError } from '../../errors/classes.js';
import { fromSystemError } from '../../errors/from-system.js';
import { registerWireBytes } from '../../core/response-info.js';
import { responseFromNode } from '../response.js';
import { markSlabBody } from '../../util/slab-reads.js';
import type { Adapter, AdapterDeps } from '../../core/adapter.js';

function decoderFor(encoding: string | null): (() => NodeJS.ReadWriteStream) | undefined {
  switch (encoding?.trim().toLowerCase()) {
    case 'gzip': case 'x-gzip': return createGunzip;
    case 'deflate': return createInflate;
    case 'br': return createBrotliDecompress;
    default: return undefined;
  }
}

/** An HTTP/1 body that ends when the server closes the connection: `Connection: close`, no Content-Length, not chunked. */
function closeDelimited(headers: Headers): boolean {
  return /close/i.test(headers.get('connection') ?? '') && !headers.has('content-length') &&
    !/chunked/i.test(headers.get('transfer-encoding') ?? '');
}

/** How much of a close-delimited body may wait in memory for a slow consumer before undici is paused. */
const UNPAUSED_BUFFER_BYTES = 32 << 20;

/**
 * undici 7 asserts (and we cut the connection) when a close-delimited body ends while its
 * parser is paused by backpressure (nodejs/undici#5360): a gzip repodata.json from a simple
 * server failed every time, as the decoder is slower than the network. So such a body is read
 * without pausing undici, up to UNPAUSED_BUFFER_BYTES waiting for the consumer.
 */
function unpausedBody(source: Readable): Readable {
  const queue: Buffer[] = [];
  let queued = 0;
  let ended = false;
  let failure: Error | undefined;
  let wanted = false;
  const out = new Readable({
    highWaterMark: 1 << 20,
    read() {
      wanted = true;
      flush();
    },
    destroy(err, done) {
      if (!source.destroyed) source.destroy();
      done(err);
    },
  });
  // Bytes received before a cut are handed on first, so a download can resume after them.
  const flush = (): void => {
    while (wanted && queue.length > 0) {
      const chunk = queue.shift()!;
      queued -= chunk.length;
      wanted = out.push(chunk);
    }
    if (queued <= UNPAUSED_BUFFER_BYTES && source.isPaused()) source.resume();
    if (queue.length > 0) return;
    if (failure) out.destroy(failure);
    else if (ended) out.push(null);
  };
  source.on('data', (chunk: Buffer) => {
    queue.push(chunk);
    queued += chunk.length;
    if (queued > UNPAUSED_BUFFER_BYTES) source.pause();
    flush();
  });
  source.on('end', () => {
    ended = true;
    flush();
  });
  source.on('error', (err) => {
    failure = err;
    flush();
  });
  return out;
}

/** What to do about a 407 (or a CONNECT's 401/403), naming where the proxy was configured (never its credentials). */
function proxyAuthHint(route: { proxy?: string; proxySource?: string }, status = 407): string {
  const where = route.proxySource ?? 'the proxy settings';
  let hasCredentials = false;
  try {
    const uri = new URL(route.proxy ?? '');
    hasCredentials = Boolean(uri.username || uri.password);
  } catch { /* parsed before use; treat as without credentials */ }
  return hasCredentials
    ? `The proxy refused the credentials in the proxy URL from ${where} (${status}): check the user and password, percent-encoded.`
    : `The proxy asked for credentials (${status}): put user:password (percent-encoded) in the proxy URL set in ${where}.`;
}

export function createHttpAdapter(deps: AdapterDeps): Adapter {
  return {
    schemes: ['http:', 'https:'],
    async send(req) {
      const route = deps.dispatchers.forUrl(req.url);
      const outgoing: Record<string, string> = {};
      req.headers.forEach((value, name) => {
        outgoing[name] = value;
      });
      let res: Awaited<ReturnType<typeof request>>;
      try {
        res = await request(req.url, {
          method: req.method, headers: outgoing, dispatcher: route.dispatcher, signal: req.signal ?? null,
        });
      } catch (err) {
        // A proxy that cannot be reached or refuses us is a proxy problem, not the channel's.
        if (route.proxy && (fromSystemError(err) === 'CG_PROXY' || /ECONNREFUSED|ENOTFOUND|EAI_AGAIN/.test(String((err as { code?: string }).code)))) {
          // undici reports a 407 to CONNECT as an error: it reads as the forward request's 407. Some
          // proxies (tinyproxy) answer a CONNECT with bad credentials 401 or 403: the same refusal.
          const refused = /\((40[137])\)/.exec(err instanceof Error ? err.message : '');
          const hint = refused ? proxyAuthHint(route, Number(refused[1]))
            : `Check the proxy set in ${route.proxySource ?? 'the proxy settings'}: is it running and reachable from here?`;
          throw new ProxyError(undefined, { cause: err, url: req.url, hint });
        }
        throw err;
      }
      const headers = new Headers();
      for (const [name, value] of Object.entries(res.headers)) {
        if (Array.isArray(value)) for (const v of value) headers.append(name, v);
        else if (value !== undefined) headers.set(name, value);
      }
      if (res.statusCode === 407) {
        await res.body.dump().catch(() => undefined);
        throw new ProxyError(undefined, { url: req.url, hint: proxyAuthHint(route) });
      }
      let body: Readable | null = closeDelimited(headers) ? unpausedBody(res.body) : res.body;
      let wire = 0;
      let counted = false;
      if (req.method === 'HEAD') {
        await res.body.dump().catch(() => undefined);
        body = null;
      } else {
        const decoder = decoderFor(headers.get('content-encoding'));
        const accepted = (req.headers.get('accept-encoding') ?? '').toLowerCase();
        if (decoder && accepted !== 'identity') {
          const decoded = decoder();
          // Counted for callers that bound the compression ratio (repodata).
          body.on('data', (chunk: Buffer) => {
            wire += chunk.length;
          });
          counted = true;
          body = pipeline(body, decoded, () => undefined) as unknown as Readable;
          headers.delete('content-length');
        } else {
          // undici's own body (or the in-order queue above): its reader may give slabs back.
          markSlabBody(body);
        }
      }
      const response = responseFromNode(body, {
        status: res.statusCode, statusText: STATUS_CODES[res.statusCode] ?? '', headers,
      });
      if (counted) registerWireBytes(response, () => wire);
      return response;
    },
    async close() {
      // The dispatchers belong to the session and are closed with it.
    },
  };
}
