/**
 * Sessions: the request pipeline built once from one list
 * (offline → retry → mirrors → redirect → url-auth → auth → headers → adapter).
 */
import { Headers, type Response } from '../util/undici.js';
import type { Settings } from '../core/settings.js';
import { defaultSettings } from '../config/load-settings.js';
import { SafeUrl } from '../redact/safe-url.js';
import { sleep as defaultSleep } from '../util/sleep.js';
import { AdapterSet } from '../adapters/registry.js';
import { parseRequestUrl } from '../core/url-path.js';
import { withFdBackoff } from '../core/fd-pressure.js';
import { maskUrl } from '../redact/safe-url.js';
import type { AuthHandler, AuthHandlerSpec, CredentialSource } from '../auth/types.js';
import { defaultCredentialSources } from '../auth/credential-sources.js';
import { selectAuthHandlerName } from '../auth/select-handler.js';
import { channelNameFromUrl } from '../config/channels.js';
import type { PluginRegistry } from '../plugins/registry.js';
import type { AdapterLoader } from '../core/adapter.js';
import { DispatcherPool } from './dispatchers.js';
import { compose, withRequest } from './pipeline.js';
import { offlineMiddleware } from './middleware/offline.js';
import { retryMiddleware } from './middleware/retry.js';
import { createMirrorMiddleware } from './middleware/mirror.js';
import { redirectMiddleware } from './middleware/redirect.js';
import { urlAuthMiddleware } from './middleware/url-auth.js';
import { createAuthMiddleware } from './middleware/auth-handler.js';
import { headersMiddleware } from './middleware/headers.js';
import { setResponseInfo } from '../core/response-info.js';
import type { DebugLog, GatewayRequest, HttpMethod, Middleware, RequestContext, RetryEvent } from '../core/types.js';

export { parseRequestUrl };

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
  /** Extra header middleware, run after the defaults. */
  headerMiddleware?: readonly Middleware[];
  /**
   * Adapters for more URL protocols, or replacements of built-in ones, by protocol with the
   * colon (`{ 'oci:': async () => createOciAdapter }`); for this session only.
   * @default {} (http, https, file, ftp, s3)
   */
  adapters?: Readonly<Record<string, AdapterLoader>>;
  /** URLs about to be fetched through this session, a hint for adapters (see AdapterDeps.expectedUrls). */
  expectedUrls?: readonly URL[];
  /** Plugins: their session/request headers are sent on http(s); getSession takes auth handlers from them. */
  plugins?: PluginRegistry;
}

/**
 * conda's plugin headers (prepare_request): session headers, then request headers, then
 * the caller's own; they go under the caller's headers and over the defaults (User-Agent…).
 */
function pluginHeadersMiddleware(plugins: PluginRegistry): Middleware {
  return (req, _ctx, next) => {
    if (!/^https?:$/.test(req.url.protocol)) return next(req);
    const host = req.url.host;
    const extra = { ...plugins.sessionHeaders(host), ...plugins.requestHeaders(host, req.url.pathname) };
    const names = Object.keys(extra).filter((name) => !req.headers.has(name));
    if (!names.length) return next(req);
    const headers = withRequest(req, {}).headers;
    for (const name of names) headers.set(name, extra[name] as string);
    return next(withRequest(req, { headers }));
  };
}

export interface FetchInit {
  method?: HttpMethod;
  headers?: Record<string, string> | Headers;
  signal?: AbortSignal;
  /**
   * Hears this request's transport retries, after the session's own `onRetry` (a shared session
   * from getSession can then still tell each caller about its own retries).
   */
  onRetry?: (event: RetryEvent) => void;
}

/** The session's listener, then the request's. */
function bothListeners(session?: (event: RetryEvent) => void, request?: (event: RetryEvent) => void) {
  if (!session || !request) return session ?? request;
  return (event: RetryEvent): void => {
    session(event);
    request(event);
  };
}

export interface Session {
  readonly settings: Settings;
  /** URL schemes this session has an adapter for (built-in ones plus SessionOptions.adapters), without the colon. */
  readonly schemes: readonly string[];
  /** Fetch a URL of any supported scheme; resolves to a WHATWG Response (undici's class). */
  fetch(url: string | URL, init?: FetchInit): Promise<Response>;
  close(): Promise<void>;
}

export function createSession(options: SessionOptions = {}): Session {
  const settings = options.settings ?? defaultSettings();
  const log: DebugLog = options.log ?? (() => undefined);
  const dispatchers = new DispatcherPool(settings, log);
  const adapters = new AdapterSet({ settings, dispatchers, log, ...(options.expectedUrls ? { expectedUrls: options.expectedUrls } : {}) }, options.adapters);
  const mirrorMiddleware = createMirrorMiddleware(settings.mirrors);
  const middlewares: Middleware[] = [
    offlineMiddleware,
    retryMiddleware,
    // After retry (each attempt picks mirrors again), before auth (credentials are the mirror's).
    ...(mirrorMiddleware ? [mirrorMiddleware] : []),
    redirectMiddleware,
    urlAuthMiddleware,
    createAuthMiddleware(options.authHandler, options.credentialSources ?? defaultCredentialSources(settings, log)),
    ...(options.plugins ? [pluginHeadersMiddleware(options.plugins)] : []),
    headersMiddleware,
    ...(options.headerMiddleware ?? []),
  ];
  // Out of descriptors (a low ulimit -n, many parallel transfers): wait for others to close theirs.
  const run = compose(middlewares, (req, ctx) => withFdBackoff(async () => (await adapters.get(req.url)).send(req, ctx), {
    signal: req.signal, log, what: `fetching ${maskUrl(req.url)}`,
  }));
  let closed = false;

  return {
    settings,
    schemes: Object.freeze(adapters.schemes),
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
        sleep: options.sleep ?? defaultSleep, onRetry: bothListeners(options.onRetry, init.onRetry),
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

/**
 * Every option but `settings` shapes a session (its listeners, auth, adapters…), so a cached
 * session is reused only for the same values; typed so a new option cannot be forgotten here.
 */
const SHAPING_OPTIONS: Record<Exclude<keyof SessionOptions, 'settings'>, true> = {
  authHandler: true, credentialSources: true, channelName: true, sleep: true, onRetry: true, log: true,
  headerMiddleware: true, adapters: true, plugins: true, expectedUrls: true,
};

function sameShape(a: SessionOptions, b: SessionOptions): boolean {
  return (Object.keys(SHAPING_OPTIONS) as Array<keyof typeof SHAPING_OPTIONS>).every((name) => a[name] === b[name]);
}

interface CachedSession {
  options: SessionOptions;
  session: Session;
}

const sessionCache = new WeakMap<Settings, Map<string, CachedSession[]>>();

/**
 * conda's get_session: the channel's `channel_settings` entry (exact channel name, or a
 * same-scheme fnmatch of netloc + path; the last match wins) names an auth handler from
 * `plugins`; with one, the session is `handler::channel` and the default credential
 * sources are not used (conda's CondaHttpAuth is replaced). An unknown handler name falls
 * back to the default session, as in conda, and says so in the log. Sessions are reused
 * per settings object and key, and only for a caller passing the same option values (the same
 * log, listeners, adapters…; a caller with others gets a session of its own, cached as well):
 * give per-request listeners to fetch() instead. `closeSessions(settings)` releases them all.
 */
export function getSession(url: string | URL, options: SessionOptions & { settings: Settings }): Session {
  const parsed = parseRequestUrl(url);
  const settings = options.settings;
  const channelName = options.channelName ?? channelNameFromUrl(parsed, settings);
  let spec: AuthHandlerSpec | undefined;
  if (!options.authHandler && channelName !== undefined) {
    const handlerName = selectAuthHandlerName(parsed, channelName, settings.channelSettings);
    spec = handlerName ? options.plugins?.getAuthHandler(handlerName) : undefined;
    if (handlerName && !spec) {
      options.log?.(`channel_settings names auth handler '${handlerName}' for ${channelName}, but no plugin provides it: using default auth`);
    }
  }
  const key = options.authHandler ? `handler::${channelName ?? ''}`
    : spec ? `${spec.name.trim().toLowerCase()}::${channelName ?? ''}` : 'default';
  let byKey = sessionCache.get(settings);
  if (!byKey) {
    byKey = new Map();
    sessionCache.set(settings, byKey);
  }
  let variants = byKey.get(key);
  if (!variants) {
    variants = [];
    byKey.set(key, variants);
  }
  const cached = variants.find((v) => sameShape(v.options, options));
  if (cached) return cached.session;
  const authHandler = options.authHandler ?? spec?.create(channelName as string);
  const session = createSession({
    ...options, authHandler, channelName: authHandler ? channelName : options.channelName,
    credentialSources: options.credentialSources ?? (authHandler ? [] : undefined),
  });
  variants.push({ options: { ...options }, session });
  return session;
}

/** Close every cached session made for these settings. */
export async function closeSessions(settings: Settings): Promise<void> {
  const byKey = sessionCache.get(settings);
  if (!byKey) return;
  sessionCache.delete(settings);
  await Promise.all([...byKey.values()].flat().map((v) => v.session.close()));
}
