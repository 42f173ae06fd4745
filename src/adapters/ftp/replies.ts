/**
 * FTP facts in HTTP terms: reply codes → statuses (so download() and CondaHTTPError work
 * unchanged), and the Basic Authorization header → FTP login.
 */
import { ConfigError } from '../../errors/classes.js';
import { maskUrl } from '../../redact/safe-url.js';

export interface FtpLogin {
  readonly user: string;
  readonly password: string;
  readonly anonymous: boolean;
}

const ANONYMOUS: FtpLogin = { user: 'anonymous', password: 'anonymous@', anonymous: true };

/** The login for a request: Basic credentials (from the URL, .netrc or a store), else anonymous. */
export function loginFrom(authorization: string | null, url: URL): FtpLogin {
  if (!authorization) return ANONYMOUS;
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization);
  if (!m?.[1]) {
    // conda: AuthenticationError("Invalid form of Authentication used.")
    throw new ConfigError(`Invalid form of Authentication used for '${maskUrl(url)}': FTP needs a user name and password.`, {
      code: 'CG_CREDENTIALS_INVALID', url,
      hint: 'Put user:password@ in the ftp:// URL or a machine entry in ~/.netrc; tokens do not work for FTP.',
    });
  }
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = colon < 0 ? decoded : decoded.slice(0, colon);
  const password = colon < 0 ? '' : decoded.slice(colon + 1);
  return { user, password, anonymous: false };
}

export interface MappedReply {
  status: number;
  statusText: string;
  error: string;
}

/**
 * 530/532 → 401 (failed login), 550/551 → 404, 553 → 400; transient 4xx replies → 503
 * (which the retry middleware retries); other permanent replies → 400 (not retried).
 */
export function statusForReply(code: number): MappedReply {
  if (code === 530 || code === 532 || code === 331 || code === 332) return { status: 401, statusText: 'Unauthorized', error: 'login failed' };
  if (code === 550 || code === 551) return { status: 404, statusText: 'Not Found', error: 'file does not exist' };
  if (code === 553) return { status: 400, statusText: 'Bad Request', error: 'file name not allowed' };
  if (code >= 400 && code < 500) return { status: 503, statusText: 'Service Unavailable', error: 'server busy' };
  return { status: 400, statusText: 'Bad Request', error: 'request refused' };
}

/** Reply codes that mean "this server has no SIZE/MDTM": the header is then left out. */
export function isUnsupportedCommand(code: number): boolean {
  return code === 500 || code === 501 || code === 502 || code === 504 || code === 402;
}

/** basic-ftp's FTPError, recognised without importing the library. */
export function ftpReplyCode(err: unknown): number | undefined {
  if (err instanceof Error && err.name === 'FTPError') {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'number') return code;
  }
  return undefined;
}
