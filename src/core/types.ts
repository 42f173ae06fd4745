/**
 * The request pipeline's types. A GatewayRequest is not a WHATWG Request: its URL may
 * still carry credentials until the auth middleware has moved them into a header.
 */
import type { Headers, Response } from 'undici';
import type { Settings } from './settings.js';

export type HttpMethod = 'GET' | 'HEAD';

export interface GatewayRequest {
  readonly url: URL;
  readonly method: HttpMethod;
  readonly headers: Headers;
  readonly signal?: AbortSignal;
}

export interface RetryEvent {
  /** Masked URL. */
  readonly url: string;
  /** The attempt that failed (1-based). */
  readonly attempt: number;
  readonly delayMs: number;
  /** 'HTTP 503', 'ECONNRESET', … */
  readonly reason: string;
}

export type DebugLog = (message: string) => void;

/** Environment variables as read (process.env, or a test's own table). */
export type Env = Readonly<Record<string, string | undefined>>;

/** Read-only facts a middleware may use. */
export interface RequestContext {
  readonly settings: Settings;
  readonly channelName?: string;
  readonly log: DebugLog;
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly onRetry?: (event: RetryEvent) => void;
  /** Set by the retry middleware: 1 for the first try. */
  attempt: number;
}

export type Next = (req: GatewayRequest) => Promise<Response>;
export type Middleware = (req: GatewayRequest, ctx: RequestContext, next: Next) => Promise<Response>;

