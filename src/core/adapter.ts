/** The adapter contract: one transport per URL scheme, answering with a WHATWG Response. */
import type { Response } from 'undici';
import type { Settings } from './settings.js';
import type { DispatcherPool } from '../session/dispatchers.js';
import type { DebugLog, GatewayRequest, RequestContext } from './types.js';

export interface Adapter {
  /** URL protocols handled, with the colon: ['http:', 'https:']. */
  readonly schemes: readonly string[];
  send(req: GatewayRequest, ctx: RequestContext): Promise<Response>;
  close(): Promise<void>;
}

/** What an adapter may use from its session. */
export interface AdapterDeps {
  readonly settings: Settings;
  readonly dispatchers: DispatcherPool;
  readonly log: DebugLog;
}

export type AdapterFactory = (deps: AdapterDeps) => Adapter | Promise<Adapter>;
