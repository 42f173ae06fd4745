/**
 * One package URL as specs write it: `<url>[#<md5>|#sha256:<hex>|#md5:<hex>]`, checked
 * and turned into a PackageSpec with its cache file name.
 */
import { maskUrl } from '../redact/safe-url.js';
import { checkCacheFileName, rawFileNameOf } from './cache-name.js';
import { specError } from './spec-error.js';
import type { PackageSpec, SpecOrigin } from './types.js';

const PACKAGE_SUFFIXES = ['.conda', '.tar.bz2'];
const MD5 = /^[0-9a-fA-F]{32}$/;
const SHA256 = /^[0-9a-fA-F]{64}$/;

export function looksLikeUrl(text: string): boolean {
  return /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(text.trim());
}

export function isPackageFileName(name: string): boolean {
  return PACKAGE_SUFFIXES.some((s) => name.endsWith(s) && name.length > s.length);
}

/** The cache file name of a URL: its raw last path segment, as conda takes it (not percent-decoded). */
export function fileNameOf(url: URL | string): string {
  return rawFileNameOf(typeof url === 'string' ? url : url.pathname);
}

export function checkHex(kind: 'md5' | 'sha256', value: unknown, origin: SpecOrigin): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const ok = typeof value === 'string' && (kind === 'md5' ? MD5 : SHA256).test(value.trim());
  if (!ok) {
    throw specError(origin, `malformed ${kind} '${String(value)}': expected ${kind === 'md5' ? 32 : 64} hexadecimal characters`);
  }
  return value.trim().toLowerCase();
}

export function checkSize(value: unknown, origin: SpecOrigin): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw specError(origin, `malformed size '${String(value)}': expected a whole number of bytes`);
  }
  return value;
}

/** Parse `<url>#<fragment>`; the fragment holds md5 (bare or `md5:`) or `sha256:<hex>`. */
export function packageFromUrl(text: string, origin: SpecOrigin, extra: { md5?: unknown; sha256?: unknown; size?: unknown } = {}): PackageSpec {
  const raw = text.trim();
  const hashAt = raw.indexOf('#');
  const base = hashAt < 0 ? raw : raw.slice(0, hashAt);
  const fragment = hashAt < 0 ? '' : raw.slice(hashAt + 1).trim();
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw specError(origin, `not a URL: '${maskUrl(base)}'`);
  }
  const fileName = fileNameOf(base);
  checkCacheFileName(fileName, origin, () => maskUrl(base));
  if (!isPackageFileName(fileName)) {
    throw specError(origin, `'${maskUrl(base)}' is not a conda package URL (expected a name ending in .conda or .tar.bz2)`);
  }
  let md5Text: unknown = extra.md5;
  let sha256 = checkHex('sha256', extra.sha256, origin);
  if (fragment) {
    const m = /^(md5|sha256)[:=](.*)$/i.exec(fragment);
    if (m) {
      const kind = m[1]!.toLowerCase() as 'md5' | 'sha256';
      if (kind === 'md5') md5Text = m[2];
      else sha256 = checkHex(kind, m[2], origin);
    } else if (MD5.test(fragment)) {
      md5Text = fragment;
    } else if (SHA256.test(fragment)) {
      sha256 = fragment.toLowerCase();
    } else {
      throw specError(origin, `malformed checksum '#${fragment}': expected #<md5> (32 hex) or #sha256:<64 hex>`);
    }
  }
  // sha256 wins over md5, as in conda: beside a valid sha256 a malformed md5 is ignored.
  const md5 = sha256 && !(typeof md5Text === 'string' && MD5.test(md5Text.trim())) ? undefined : checkHex('md5', md5Text, origin);
  const size = checkSize(extra.size, origin);
  return {
    url: url.href, fileName, origin,
    ...(md5 ? { md5 } : {}), ...(sha256 ? { sha256 } : {}), ...(size !== undefined ? { size } : {}),
  };
}
