/**
 * A smithy request handler for the AWS SDK that sends through the session's undici
 * dispatcher, so S3 traffic obeys our proxy, TLS and timeout settings (the SDK's own
 * handler ignores them).
 */
import type { Readable } from 'node:stream';
import { request } from '../../util/undici.js';
import type { RouteProvider } from '../../core/adapter.js';

/** The fields of smithy's HttpRequest that we use. */
export interface SdkHttpRequest {
  method: string;
  protocol: string;
  hostname: string;
  port?: number;
  path: string;
  query?: Record<string, string | string[] | null | undefined>;
  headers: Record<string, string>;
  body?: unknown;
}

/** smithy's HttpResponse shape (it is checked by duck typing). */
export interface SdkHttpResponse {
  statusCode: number;
  reason?: string;
  headers: Record<string, string>;
  body: Readable;
}

function escapeUri(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The query string exactly as SigV4 signed it (sorted keys, RFC 3986 escaping). */
export function queryString(query: SdkHttpRequest['query']): string {
  if (!query) return '';
  const parts: string[] = [];
  for (const name of Object.keys(query).sort()) {
    const value = query[name];
    const key = escapeUri(name);
    if (Array.isArray(value)) for (const v of value) parts.push(`${key}=${escapeUri(v)}`);
    else if (typeof value === 'string') parts.push(`${key}=${escapeUri(value)}`);
    else parts.push(key);
  }
  return parts.join('&');
}

export function urlOf(req: SdkHttpRequest): URL {
  const port = req.port ? `:${req.port}` : '';
  const qs = queryString(req.query);
  return new URL(`${req.protocol}//${req.hostname}${port}${req.path}${qs ? `?${qs}` : ''}`);
}

export function createUndiciRequestHandler(dispatchers: RouteProvider) {
  return {
    metadata: { handlerProtocol: 'http/1.1' },
    async handle(req: SdkHttpRequest, options?: { abortSignal?: unknown }): Promise<{ response: SdkHttpResponse }> {
      const url = urlOf(req);
      const signal = options?.abortSignal instanceof AbortSignal ? options.abortSignal : null;
      const body = typeof req.body === 'string' || req.body instanceof Uint8Array ? req.body : undefined;
      const res = await request(url, {
        method: req.method as 'GET',
        headers: req.headers,
        body,
        dispatcher: dispatchers.forUrl(url).dispatcher,
        signal,
      });
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(res.headers)) {
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
      }
      return { response: { statusCode: res.statusCode, headers, body: res.body } };
    },
    updateHttpClientConfig(): void {
      // Timeouts and pools come from the session's dispatcher.
    },
    httpHandlerConfigs(): Record<string, never> {
      return {};
    },
    destroy(): void {
      // The dispatchers belong to the session and close with it.
    },
  };
}
