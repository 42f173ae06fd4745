/**
 * Turn the path of a file://, ftp:// or s3:// URL into the name the transport uses:
 * percent-decoded, refused when it hides `.`/`..` segments, an encoded `/`, or control
 * characters (CR/LF would inject FTP commands), so a URL never escapes where it points.
 */
import { CondaValueError } from '../errors/classes.js';
import { maskUrl } from '../redact/safe-url.js';

/** The decoded path of `url` (leading `/` kept), or a CG_INVALID_ARGUMENT error naming the masked URL. */
export function decodedPath(url: URL): string {
  const bad = (why: string): never => {
    throw new CondaValueError(`Invalid path in '${maskUrl(url)}': ${why}.`, {
      url, hint: 'Give the plain path of a file, without `..` segments, encoded slashes or control characters.',
    });
  };
  const segments = url.pathname.split('/');
  const decoded = segments.map((segment) => {
    let text: string;
    try {
      text = decodeURIComponent(segment);
    } catch {
      return bad('malformed percent-encoding');
    }
    if (text.includes('/') || text.includes('\\')) bad('an encoded path separator');
    if (text === '.' || text === '..') bad('a `.` or `..` segment');
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(text)) bad('a control character');
    return text;
  });
  return decoded.join('/');
}

const PATH_SCHEMES = /^\s*(file|ftp|s3):/i;

/**
 * Refuse, before parsing, what the URL parser would silently change in a file, ftp or
 * s3 URL: literal whitespace (it would become %20) and `.`/`..` segments (they would be
 * resolved away, so `chan/../../etc/passwd` would quietly name another file).
 */
export function assertPlainPathUrl(text: string): void {
  const m = PATH_SCHEMES.exec(text);
  if (!m) return;
  const bad = (why: string): never => {
    throw new CondaValueError(`Invalid ${m[1]!.toLowerCase()} URL '${maskUrl(text.trim())}': ${why}.`, {
      hint: 'Percent-encode spaces (%20) and give the path without `.` or `..` segments.',
    });
  };
  const trimmed = text.trim();
  if (/\s/.test(trimmed)) bad('it contains whitespace');
  const path = trimmed.replace(/^[a-z0-9]+:\/\/[^/]*/i, '').replace(/[?#].*$/, '');
  for (const segment of path.split(/[/\\]/)) {
    if (/^(\.|%2e){1,2}$/i.test(segment)) bad('it has a `.` or `..` path segment');
  }
}

/** A request URL from the caller: file/ftp/s3 paths checked first, a copy for URL objects, CG_INVALID_ARGUMENT when malformed. */
export function parseRequestUrl(url: string | URL): URL {
  if (url instanceof URL) return new URL(url.href);
  assertPlainPathUrl(url);
  try {
    return new URL(url);
  } catch (err) {
    throw new CondaValueError(`Malformed URL: '${maskUrl(String(url))}'.`, {
      cause: err, hint: 'Give an absolute URL such as https://conda.anaconda.org/conda-forge/noarch/repodata.json.',
    });
  }
}
