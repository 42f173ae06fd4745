/** Sessions and the request pipeline. */
export { createSession, getSession, closeSessions, parseRequestUrl } from './create-session.js';
export type { Session, SessionOptions, FetchInit } from './create-session.js';
export { getResponseInfo, nodeBodyOf } from '../core/response-info.js';
export type { ResponseInfo } from '../core/response-info.js';
export { delayFor, parseRetryAfter, BACKOFF_MAX_MS } from './retry/backoff.js';
export { isRetryableStatus, RETRY_STATUSES } from './retry/classify.js';
export { selectProxy, selectProxyWithSource, shouldBypassProxy, environmentProxies } from './proxy.js';
export type { SelectedProxy } from './proxy.js';
export { toGatewayError } from './map-error.js';
export type { GatewayRequest, RequestContext, Middleware, Next, RetryEvent, HttpMethod } from '../core/types.js';
