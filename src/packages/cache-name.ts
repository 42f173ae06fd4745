/**
 * The package cache file name of a URL, taken as conda takes it: the raw last path segment
 * (conda's explicit-file pattern `(?P<fn>[^/\\#]+(\.tar\.bz2|\.conda))`), never
 * percent-decoded. A lock file is outside input, so a name that could leave the cache
 * folder — a separator, a `..`, a control character, in raw or percent-encoded form — or
 * that no filesystem takes, is refused before anything touches the disk.
 */
import { specError } from './spec-error.js';
import type { SpecOrigin } from './types.js';

/**
 * Longest cache file name, in UTF-8 bytes: NAME_MAX (255) less the longest suffix we add
 * beside it (`.partial.lock`), so every sibling we create fits too.
 */
export const MAX_FILE_NAME_BYTES = 240;

/** The raw last segment of the URL text (before `?` and `#`), split at `/` and `\` like conda. */
export function rawFileNameOf(urlText: string): string {
  const base = urlText.trim().replace(/[?#].*$/s, '');
  return base.split(/[/\\]/).pop() ?? '';
}

function decodedForCheck(name: string): string {
  try {
    return decodeURIComponent(name);
  } catch {
    // An invalid escape decodes nothing; check the valid %XX escapes one by one.
    return name.replace(/%[0-9a-fA-F]{2}/g, (m) => String.fromCharCode(parseInt(m.slice(1), 16)));
  }
}

/** Why this name is not a safe single file name, or undefined when it is. */
const PLAIN_NAME = /^[A-Za-z0-9_+=,@~!-]+(?:\.[A-Za-z0-9_+=,@~!-]+)*$/;

export function unsafeFileNameReason(name: string): string | undefined {
  // The common case (numpy-2.1.0-py312h1_0.conda): no escapes, separators, controls or '..'.
  if (name.length <= MAX_FILE_NAME_BYTES && PLAIN_NAME.test(name)) return undefined;
  if (Buffer.byteLength(name, 'utf8') > MAX_FILE_NAME_BYTES) return `longer than ${MAX_FILE_NAME_BYTES} bytes`;
  for (const [form, text] of [['', name], ['percent-encoded ', decodedForCheck(name)]] as const) {
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f-\u009f]/.test(text)) return `it holds a ${form}control character`;
    if (/[/\\]/.test(text)) return `it holds a ${form}path separator`;
    if (text.includes('..')) return `it holds a ${form}'..'`;
    if (/[\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/.test(text)) return `it holds a ${form}line or direction control character`;
  }
  return undefined;
}

/** Throws a CG_SPEC_INVALID error naming the file and line when the name is unsafe. */
export function checkCacheFileName(name: string, origin: SpecOrigin, shownUrl: () => string): void {
  const reason = unsafeFileNameReason(name);
  if (reason) {
    throw specError(origin, `refusing package URL '${shownUrl()}': its file name is not a safe cache file name (${reason})`,
      'A package URL must end in a plain file name such as numpy-2.1.0-py312h1_0.conda; this one could write outside the package cache.');
  }
}
