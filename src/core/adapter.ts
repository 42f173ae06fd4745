/** The adapter contract: one transport per URL scheme, answering with a WHATWG Response. */
import type { Response } from 'undici';
import type { Settings } from './settings.js';
import type { Dispatcher } from 'undici';
import type { DebugLog, GatewayRequest, RequestContext } from './types.js';

export interface Adapter {
  /** URL protocols handled, with the colon: ['http:', 'https:']. */
  readonly schemes: readonly string[];
  send(req: GatewayRequest, ctx: RequestContext): Promise<Response>;
  close(): Promise<void>;
}

/** How one URL is reached: the undici dispatcher to send through, and the proxy chosen for it. */
export interface Route {
  dispatcher: Dispatcher;
  /** The proxy URL used, if any (may hold credentials: never print it unmasked). */
  proxy?: string;
  /** Where the proxy was configured (`env:HTTPS_PROXY`, `proxy_servers.https (from …)`). */
  proxySource?: string;
}

/** Gives adapters the route for a URL; the session owns (and closes) the dispatchers behind it. */
export interface RouteProvider {
  forUrl(url: URL): Route;
}

/** What an adapter may use from its session. */
export interface AdapterDeps {
  readonly settings: Settings;
  readonly dispatchers: RouteProvider;
  readonly log: DebugLog;
  /**
   * URLs the session's owner is about to fetch (fetchPackages' packages), so an adapter can
   * prepare for them: the OCI adapter asks one registry token for many repositories. A
   * hint only: nothing is fetched because of it.
   */
  readonly expectedUrls?: readonly URL[];
}

export type AdapterFactory = (deps: AdapterDeps) => Adapter | Promise<Adapter>;

/** Loads an adapter's module on first use, so heavy clients cost nothing until their scheme appears. */
export type AdapterLoader = () => Promise<AdapterFactory>;
