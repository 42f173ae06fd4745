/**
 * Sessions: the request pipeline built once from one list
 * (offline → retry → redirect → url-auth → auth → headers → adapter).
 */
import { Headers, type Response } from 'undici';
import type { Settings } from '../config/settings.js';
import { defaultSettings } from '../config/load-settings.js';
import { CondaValueError } from '../errors/classes.js';
import { maskUrl } from '../redact/safe-url.js';
import { SafeUrl } from '../redact/safe-url.js';
import { sleep as defaultSleep } from '../util/sleep.js';
import { AdapterSet } from '../adapters/registry.js';
import type { AuthHandler, CredentialSource } from '../auth/types.js';
import { defaultCredentialSources } from '../auth/credential-sources.js';
import { DispatcherPool } from './dispatchers.js';
import { compose } from './pipeline.js';
import { offlineMiddleware } from './middleware/offline.js';
import { retryMiddleware } from './middleware/retry.js';
import { redirectMiddleware } from './middleware/redirect.js';
import { urlAuthMiddleware } from './middleware/url-auth.js';
import { createAuthMiddleware } from './middleware/auth-handler.js';
import { headersMiddleware } from './middleware/headers.js';
import { setResponseInfo } from './response-info.js';
import type { DebugLog, GatewayRequest, HttpMethod, Middleware, RequestContext, RetryEvent } from './types.js';

export interface SessionOptions {
  /** @default defaultSettings() */
  settings?: Settings;
  /** The channel's auth handler (chosen by channel_settings). */
  authHandler?: AuthHandler;
  /**
   * Where credentials come from when the URL carries none.
   * @default defaultCredentialSources(settings): credential store, anaconda tokens, .netrc
   */
  credentialSources?: readonly CredentialSource[];
  channelName?: string;
  /** Injectable for tests: how the retry middleware waits. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  onRetry?: (event: RetryEvent) => void;
  log?: DebugLog;
  /** Extra header middleware (plugins' session/request headers), run after the defaults. */
  headerMiddleware?: readonly Middleware[];
}

export interface FetchInit {
  method?: HttpMethod;
  headers?: Record<string, string> | Headers;
  signal?: AbortSignal;
}

export interface Session {
  readonly settings: Settings;
  /** Fetch a URL of any supported scheme; resolves to a WHATWG Response (undici's class). */
  fetch(url: string | URL, init?: FetchInit): Promise<Response>;
  close(): Promise<void>;
}

export function parseRequestUrl(url: string | URL): URL {
  if (url instanceof URL) return new URL(url.href);
  try {
    return new URL(url);
  } catch (err) {
    throw new CondaValueError(`Malformed URL: '${maskUrl(String(url))}'.`, {
      cause: err, hint: 'Give an absolute URL such as https://conda.anaconda.org/conda-forge/noarch/repodata.json.',
    });
  }
}

export function createSession(options: SessionOptions = {}): Session {
  const settings = options.settings ?? defaultSettings();
  const log: DebugLog = options.log ?? (() => undefined);
  const dispatchers = new DispatcherPool(settings);
  const adapters = new AdapterSet({ settings, dispatchers, log });
  const middlewares: Middleware[] = [
    offlineMiddleware,
    retryMiddleware,
    redirectMiddleware,
    urlAuthMiddleware,
    createAuthMiddleware(options.authHandler, options.credentialSources ?? defaultCredentialSources(settings)),
    headersMiddleware,
    ...(options.headerMiddleware ?? []),
  ];
  const run = compose(middlewares, async (req, ctx) => (await adapters.get(req.url)).send(req, ctx));
  let closed = false;

  return {
    settings,
    async fetch(input, init = {}) {
      const url = parseRequestUrl(input);
      const req: GatewayRequest = {
        url,
        method: init.method ?? 'GET',
        headers: new Headers(init.headers ?? {}),
        signal: init.signal,
      };
      const ctx: RequestContext = {
        settings, log, channelName: options.channelName, attempt: 1,
        sleep: options.sleep ?? defaultSleep, onRetry: options.onRetry,
      };
      const started = performance.now();
      const res = await run(req, ctx);
      setResponseInfo(res, { url: new SafeUrl(url), elapsedMs: performance.now() - started });
      return res;
    },
    async close() {
      if (closed) return;
      closed = true;
      await adapters.close();
      await dispatchers.close();
    },
  };
}

const sessionCache = new WeakMap<Settings, Map<string, Session>>();

/**
 * conda's get_session: one session per settings object and auth key, reused across calls.
 * Call `closeSessions(settings)` when done to release pooled connections.
 */
export function getSession(url: string | URL, options: SessionOptions & { settings: Settings }): Session {
  parseRequestUrl(url);
  const key = options.channelName && options.authHandler ? `handler::${options.channelName}` : 'default';
  let byKey = sessionCache.get(options.settings);
  if (!byKey) {
    byKey = new Map();
    sessionCache.set(options.settings, byKey);
  }
  let session = byKey.get(key);
  if (!session) {
    session = createSession(options);
    byKey.set(key, session);
  }
  return session;
}

/** Close every cached session made for these settings. */
export async function closeSessions(settings: Settings): Promise<void> {
  const byKey = sessionCache.get(settings);
  if (!byKey) return;
  sessionCache.delete(settings);
  await Promise.all([...byKey.values()].map((s) => s.close()));
}
