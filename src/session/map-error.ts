/**
 * Turn any failure below the session into a GatewayError with conda's class and wording.
 * The one place that decides how transport errors read.
 */
import { GatewayError, isGatewayError } from '../errors/gateway-error.js';
import { AbortedError, CondaError, CondaSSLError, DiskFullError, FilesystemError, NotWritableError, ProxyError } from '../errors/classes.js';
import { openFileLimit } from '../core/fd-pressure.js';
import { CondaHTTPError } from '../errors/http-error.js';
import { fromSystemError, systemCodeOf } from '../errors/from-system.js';
import { ERROR_CODES } from '../errors/codes.js';
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
  /** client_ssl_cert, when one is configured: TLS failures then point at it. */
  clientCert?: string | null;
}

// TLS alerts a server sends when it wants a client certificate, or does not accept the one given.
const CLIENT_CERT_ALERTS = /^ERR_SSL_(TLSV13_ALERT_CERTIFICATE_REQUIRED|SSLV3_ALERT_HANDSHAKE_FAILURE|SSLV3_ALERT_BAD_CERTIFICATE|SSLV3_ALERT_CERTIFICATE_UNKNOWN|SSLV3_ALERT_UNSUPPORTED_CERTIFICATE|SSLV3_ALERT_CERTIFICATE_(EXPIRED|REVOKED)|TLSV1_ALERT_UNKNOWN_CA|TLSV1_ALERT_ACCESS_DENIED)$/;

/** A sentence about client certificates when one is configured or the server's alert asks for one. */
function clientCertNote(err: unknown, ctx: MapErrorContext): string | undefined {
  if (ctx.clientCert) {
    return `A client certificate was presented (client_ssl_cert ${ctx.clientCert}): check that the server accepts it and that client_ssl_cert_key belongs to it.`;
  }
  if (CLIENT_CERT_ALERTS.test(systemCodeOf(err) ?? '')) {
    return 'The server may require a client certificate: set client_ssl_cert (and client_ssl_cert_key) to one it accepts.';
  }
  return undefined;
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
    case 'CG_TLS': {
      const note = clientCertNote(err, ctx);
      return new CondaSSLError(
        `Encountered an SSL error. Most likely a certificate verification issue.\n\nException: ${detail}\n`,
        note ? { ...common, hint: `${ERROR_CODES.CG_TLS.hint} ${note}` } : common);
    }
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
    case 'CG_FILESYSTEM':
      return filesystemError(err, detail, ctx, common);
    case 'CG_TIMEOUT':
      return new CondaHTTPError({ ...common, code: 'CG_TIMEOUT', channelAlias: ctx.channelAlias,
        hint: `Timed out (${systemCodeOf(err) ?? 'timeout'}). Raise remote_connect_timeout_secs or remote_read_timeout_secs if the server is slow.` });
    default: {
      if (systemCodeOf(err) === undefined && isProgrammingError(err)) {
        return new CondaError(`Unexpected internal error while fetching ${url.toString()}: ${detail}`,
          { ...common, code: 'CG_INTERNAL' });
      }
      // With TLS 1.3 a server refusing the client certificate just closes the connection after the handshake.
      const note = url.toString().startsWith('https:') && systemCodeOf(err) === 'UND_ERR_SOCKET' ? clientCertNote(err, ctx) : undefined;
      return new CondaHTTPError({ ...common, code: 'CG_CONNECTION', channelAlias: ctx.channelAlias,
        hint: `Connection failed (${systemCodeOf(err) ?? detail}). Check the host and your network; a retry may work.${note ? ` ${note}` : ''}` });
    }
  }
}

/** A JavaScript bug rather than a transport failure: shown as such, never as "connection failed". */
function isProgrammingError(err: unknown): boolean {
  return err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError || err instanceof SyntaxError;
}

type CommonOptions = { url: SafeUrl; attempts?: number; elapsedMs?: number; cause: unknown; secrets?: readonly string[] };

/** EMFILE/ENFILE name the open-file limit and how to raise it; other codes name the path. */
function filesystemError(err: unknown, detail: string, ctx: MapErrorContext, common: CommonOptions): FilesystemError {
  const code = systemCodeOf(err) ?? 'unknown';
  const where = ctx.path ? ` while writing ${ctx.path}` : ` while fetching ${common.url.toString()}`;
  const details = { path: ctx.path, systemCode: code };
  if (code === 'EMFILE' || code === 'ENFILE') {
    const limit = openFileLimit();
    const which = code === 'EMFILE' ? `this process's open-file limit${limit ? ` (${limit})` : ''}` : "the system's open-file table";
    return new FilesystemError(`Too many open files (${code})${where}: ${which} was reached and stayed full.`, {
      ...common, details,
      hint: code === 'EMFILE'
        ? 'Raise the open-file limit (`ulimit -n 4096` in the shell that runs it; on macOS also `sudo launchctl limit maxfiles 65536 200000`), or lower the parallelism (-j, fetch_threads).'
        : 'The whole system is out of file handles: raise fs.file-max (Linux) or close other programs, or lower the parallelism (-j, fetch_threads).',
    });
  }
  return new FilesystemError(`Filesystem error (${code})${where}: ${detail}`, {
    ...common, details,
    hint: `${ctx.path ? `Check ${ctx.path}` : 'Check the path'}: ${FS_HINTS[code] ?? 'its type, the filesystem it is on, and that nothing else holds it.'}`,
  });
}

const FS_HINTS: Record<string, string> = {
  EISDIR: 'a directory is in the way of a file; remove or rename it.',
  ENOTDIR: 'a file is in the way of a directory on the path; remove or rename it.',
  ENOENT: 'its directory does not exist or was removed while writing.',
  EXDEV: 'the temporary file and the target must be on the same filesystem.',
  EIO: 'the disk reported an I/O error; check the device.',
  ENAMETOOLONG: 'the name is too long for this filesystem.',
};
