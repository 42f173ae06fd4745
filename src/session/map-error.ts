/**
 * Turn any failure below the session into a GatewayError with conda's class and wording.
 * The one place that decides how transport errors read.
 */
import { GatewayError, isGatewayError } from '../errors/gateway-error.js';
import { AbortedError, CondaSSLError, DiskFullError, NotWritableError, ProxyError } from '../errors/classes.js';
import { CondaHTTPError } from '../errors/http-error.js';
import { fromSystemError, systemCodeOf } from '../errors/from-system.js';
import { SafeUrl } from '../redact/safe-url.js';
import { redactText } from '../redact/redact-text.js';

export interface MapErrorContext {
  url: string | URL | SafeUrl;
  attempts?: number;
  elapsedMs?: number;
  channelAlias?: string;
  secrets?: readonly string[];
  /** Path being written, for filesystem errors. */
  path?: string;
}

export function toGatewayError(err: unknown, ctx: MapErrorContext): GatewayError {
  if (isGatewayError(err)) {
    if (ctx.attempts !== undefined && err.attempts < ctx.attempts) err.attempts = ctx.attempts;
    if (ctx.elapsedMs !== undefined && err.elapsedMs === undefined) err.elapsedMs = ctx.elapsedMs;
    return err;
  }
  const code = fromSystemError(err);
  const url = SafeUrl.from(ctx.url);
  const common = { url, attempts: ctx.attempts, elapsedMs: ctx.elapsedMs, cause: err, secrets: ctx.secrets };
  const detail = redactText(err instanceof Error ? err.message : String(err), ctx.secrets);
  switch (code) {
    case 'CG_TLS':
      return new CondaSSLError(
        `Encountered an SSL error. Most likely a certificate verification issue.\n\nException: ${detail}\n`, common);
    case 'CG_PROXY':
      return new ProxyError(undefined, common);
    case 'CG_ABORTED':
      return new AbortedError(`Aborted while fetching ${url.toString()}.`, common);
    case 'CG_DISK_FULL':
      return new DiskFullError(`No space left on device while writing ${ctx.path ?? 'the download'}.`, {
        ...common, hint: `Free space${ctx.path ? ` where ${ctx.path} lives` : ''}, then run again: the partial download is kept and resumes.`,
        details: { path: ctx.path },
      });
    case 'CG_PERMISSION':
      return new NotWritableError(ctx.path ?? '<unknown>', common);
    case 'CG_TIMEOUT':
      return new CondaHTTPError({ ...common, code: 'CG_TIMEOUT', channelAlias: ctx.channelAlias,
        hint: `Timed out (${systemCodeOf(err) ?? 'timeout'}). Raise remote_connect_timeout_secs or remote_read_timeout_secs if the server is slow.` });
    default:
      return new CondaHTTPError({ ...common, code: 'CG_CONNECTION', channelAlias: ctx.channelAlias,
        hint: `Connection failed (${systemCodeOf(err) ?? detail}). Check the host and your network; a retry may work.` });
  }
}
