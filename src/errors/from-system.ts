/**
 * Classify errors from Node, undici and the OS into our codes, so that one place
 * decides what is a timeout, a TLS failure, a proxy failure or a full disk.
 */
import type { ErrorCode } from './codes.js';

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT', 'CERT_NOT_YET_VALID', 'CERT_SIGNATURE_FAILURE', 'CERT_UNTRUSTED',
  'ERR_SSL_WRONG_VERSION_NUMBER', 'EPROTO', 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', 'ERR_TLS_HANDSHAKE_TIMEOUT',
  'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE', 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'HOSTNAME_MISMATCH',
]);
const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT', 'ESOCKETTIMEDOUT',
]);
const DISK_FULL = new Set(['ENOSPC', 'EDQUOT']);
const PERMISSION = new Set(['EACCES', 'EPERM', 'EROFS']);
/** Local filesystem and descriptor failures: never "check your network". EMFILE/ENFILE also come from connect(). */
const FILESYSTEM = new Set([
  'EISDIR', 'ENOTDIR', 'ENOENT', 'EEXIST', 'ENOTEMPTY', 'EXDEV', 'EMFILE', 'ENFILE', 'EBUSY', 'ETXTBSY',
  'ENAMETOOLONG', 'ELOOP', 'EIO', 'EFBIG', 'EBADF', 'ESTALE', 'EMLINK', 'EOVERFLOW', 'ENOSYS', 'ENOTSUP',
]);

/** The `code` of an error or of the first error in its cause chain that has one. */
export function systemCodeOf(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 6 && current; depth++) {
    if (typeof current === 'object' && current !== null) {
      const code = (current as { code?: unknown }).code;
      if (typeof code === 'string' && !code.startsWith('CG_')) return code;
      current = (current as { cause?: unknown }).cause;
    } else break;
  }
  return undefined;
}

/** Map a low-level error to our code; undefined when it is not a known system failure. */
export function fromSystemError(err: unknown): ErrorCode | undefined {
  const code = systemCodeOf(err);
  const message = err instanceof Error ? err.message : '';
  if (code && TLS_CODES.has(code)) return 'CG_TLS';
  if (code?.startsWith('ERR_SSL_') || code?.startsWith('ERR_TLS_')) return 'CG_TLS';
  if (/certificate|self[- ]signed|SSL routines/i.test(message)) return 'CG_TLS';
  if (code && TIMEOUT_CODES.has(code)) return 'CG_TIMEOUT';
  if (code && DISK_FULL.has(code)) return 'CG_DISK_FULL';
  if (code && PERMISSION.has(code)) return 'CG_PERMISSION';
  if (code && FILESYSTEM.has(code)) return 'CG_FILESYSTEM';
  if (/Proxy response|proxy/i.test(message) && /\(40[37]\)|tunnel|Proxy/i.test(message)) return 'CG_PROXY';
  if (code === 'ABORT_ERR' || (err instanceof Error && err.name === 'AbortError')) return 'CG_ABORTED';
  if (code && /^(ECONNRESET|ECONNREFUSED|ECONNABORTED|EPIPE|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|ENETDOWN|UND_ERR_SOCKET|UND_ERR_CLOSED|UND_ERR_RES_CONTENT_LENGTH_MISMATCH|UND_ERR_DESTROYED|ERR_STREAM_PREMATURE_CLOSE|UND_ERR_ABORTED|ERR_HTTP_PARSER|HPE_.*)$/.test(code)) {
    return 'CG_CONNECTION';
  }
  return undefined;
}

/** Transport failures worth another attempt. */
export function isRetryableTransportError(err: unknown): boolean {
  const mapped = fromSystemError(err);
  return mapped === 'CG_CONNECTION' || mapped === 'CG_TIMEOUT';
}
