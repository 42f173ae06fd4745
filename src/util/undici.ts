/**
 * The parts of undici we use, loaded from their own modules instead of undici's index,
 * which also loads fetch's cache, cookies, WebSocket, EventSource and the mocks: about
 * half of a small command's start-up (see bench/startup.ts). Types still come from
 * 'undici'. undici is pinned to ~7.30 (package.json); test/unit/undici-lite.test.ts
 * checks these are the very classes undici exports.
 */
import { createRequire } from 'node:module';
import type * as Undici from 'undici';

const load = createRequire(import.meta.url);

// undici's index mixes request/stream/pipeline/connect/upgrade into every dispatcher; we
// use request, and ProxyAgent calls `client.connect()` for CONNECT tunnels: mix in those two
// (undici's index, when something else loads it, adds the rest).
type RequestOptions = Parameters<typeof Undici.request>[1] & { dispatcher: Undici.Dispatcher };
const apiRequest = load('undici/lib/api/api-request.js') as (this: Undici.Dispatcher, opts: object) => ReturnType<typeof Undici.request>;
const Dispatcher = load('undici/lib/dispatcher/dispatcher.js') as { prototype: Record<string, unknown> };
Dispatcher.prototype.request ??= apiRequest;
Dispatcher.prototype.connect ??= load('undici/lib/api/api-connect.js');

export const Agent: typeof Undici.Agent = load('undici/lib/dispatcher/agent.js');
/** Loaded when a proxy is first used (it also brings the SOCKS5 client). */
export function proxyAgentClass(): typeof Undici.ProxyAgent {
  return load('undici/lib/dispatcher/proxy-agent.js') as typeof Undici.ProxyAgent;
}
export const buildConnector: typeof Undici.buildConnector = load('undici/lib/core/connect.js');
export const Headers: typeof Undici.Headers = (load('undici/lib/web/fetch/headers.js') as { Headers: typeof Undici.Headers }).Headers;
export const Response: typeof Undici.Response = (load('undici/lib/web/fetch/response.js') as { Response: typeof Undici.Response }).Response;

/** undici's request(url, opts) for an explicit dispatcher (we never use the global one). */
export function request(url: string | URL, opts: RequestOptions): ReturnType<typeof Undici.request> {
  const parsed = typeof url === 'string' ? new URL(url) : url;
  const { dispatcher, ...rest } = opts;
  return apiRequest.call(dispatcher, {
    ...rest,
    origin: parsed.origin,
    path: `${parsed.pathname}${parsed.search}`,
    method: rest.method ?? 'GET',
  });
}

// The same names as types, so `Response` in an annotation is undici's class, as with 'undici'.
export type Agent = Undici.Agent;
export type ProxyAgent = Undici.ProxyAgent;
export type Headers = Undici.Headers;
export type Response = Undici.Response;
export type Dispatcher = Undici.Dispatcher;
