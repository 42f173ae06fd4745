/** Sessions, the request pipeline and its contracts (middleware, adapters, response facts). */
export { createSession, getSession, closeSessions, parseRequestUrl } from './create-session.js';
export type { Session, SessionOptions, FetchInit } from './create-session.js';
export { getResponseInfo, nodeBodyOf } from '../core/response-info.js';
export type { ResponseInfo } from '../core/response-info.js';
export { delayFor, parseRetryAfter, BACKOFF_MAX_MS } from '../core/backoff.js';
export type { DelayInput } from '../core/backoff.js';
export { isRetryableStatus, RETRY_STATUSES } from './retry/classify.js';
export { selectProxy, selectProxyWithSource, shouldBypassProxy, environmentProxies } from './proxy.js';
export type { SelectedProxy } from './proxy.js';
export { toGatewayError } from './map-error.js';
export type { MapErrorContext } from './map-error.js';
export type { GatewayRequest, RequestContext, Middleware, Next, RetryEvent, HttpMethod, DebugLog } from '../core/types.js';
export { DEFAULT_ADAPTERS, supportedSchemes } from '../adapters/registry.js';
export type { Adapter, AdapterDeps, AdapterFactory, AdapterLoader, Route, RouteProvider } from '../core/adapter.js';
export { packageVersion, userAgent } from '../version.js';
