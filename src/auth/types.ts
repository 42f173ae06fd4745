/** Auth contracts: handlers (conda_auth_handlers) and credential sources (URL, .netrc, stores). */
import type { Response } from 'undici';
import type { Settings } from '../core/settings.js';
import type { GatewayRequest } from '../core/types.js';

export interface AuthContext {
  readonly settings: Settings;
  readonly channelName?: string;
  readonly attempt: number;
}

/** conda's ChannelAuthBase: called on every attempt, returns the request to send. Must not log secrets. */
export interface AuthHandler {
  authenticate(req: GatewayRequest, ctx: AuthContext): GatewayRequest | Promise<GatewayRequest>;
  /** Given a 401/407, return a re-authenticated request to try once more. */
  onChallenge?(res: Response, req: GatewayRequest, ctx: AuthContext):
    GatewayRequest | undefined | Promise<GatewayRequest | undefined>;
}

/** conda_auth_handlers: a named handler constructed per channel. */
export interface AuthHandlerSpec {
  readonly name: string;
  create(channelName: string): AuthHandler;
}

/** Credentials found for a URL, and where they came from (printed with --verbose; the values never). */
export type Credentials =
  | { readonly kind: 'basic'; readonly username: string; readonly password: string; readonly source: string }
  | { readonly kind: 'bearer'; readonly token: string; readonly source: string }
  /** Goes into the path as `/t/<token>` after `pathPrefix` (default: at the start of the path). */
  | { readonly kind: 'conda-token'; readonly token: string; readonly source: string; readonly pathPrefix?: string }
  | { readonly kind: 's3'; readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string; readonly source: string };

/** A place credentials come from (.netrc, a credentials file, a token directory). */
export interface CredentialSource {
  readonly name: string;
  lookup(url: URL): Credentials | undefined | Promise<Credentials | undefined>;
}
