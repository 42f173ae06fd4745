/** Plugin contracts, mirroring conda's hooks: conda_auth_handlers, conda_session_headers, conda_request_headers. */
import type { AuthHandlerSpec } from '../auth/types.js';

/** conda's CondaRequestHeader. Names are compared case-insensitively and sent lowercased. */
export interface HeaderSpec {
  readonly name: string;
  readonly value: string;
}

/**
 * A plugin. Every part is optional.
 * @example
 * registry.register({ name: 'corp', sessionHeaders: (host) => host.endsWith('.corp.example') ? [{ name: 'X-Team', value: 'data' }] : [] })
 */
export interface GatewayPlugin {
  readonly name: string;
  /** conda_auth_handlers: chosen per channel by `channel_settings[].auth`. */
  readonly authHandlers?: readonly AuthHandlerSpec[];
  /** conda_session_headers: headers for every http(s) request to `host` (host includes the port). */
  sessionHeaders?(host: string): Iterable<HeaderSpec>;
  /** conda_request_headers: headers for one request path on `host`. */
  requestHeaders?(host: string, path: string): Iterable<HeaderSpec>;
}
