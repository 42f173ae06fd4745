/**
 * SafeUrl: a URL whose every printed form is masked. The raw URL (with credentials)
 * is only reachable through the explicit `withCredentials()`.
 */
import { inspect } from 'node:util';
import { redactText } from './redact-text.js';

/** Mask a URL for display: drop `user:pass@`, `/t/<token>/` → `/t/<TOKEN>/`, signed params. */
export function maskUrl(url: string | URL): string {
  const text = typeof url === 'string' ? url : url.href;
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    return maskUnparsed(text);
  }
  // Without a host (`s3:key:secret@bucket/x`, `ftp:/user:pw@h`) an '@' is still most likely userinfo.
  if (parsed.host === '' && /@/.test(parsed.href.split(/[?#]/, 1)[0] ?? '')) return maskUnparsed(parsed.href);
  parsed.username = '';
  parsed.password = '';
  return redactText(parsed.href);
}

/**
 * A malformed URL (a typo such as `https:///user:pw@host` or `ftp:user:pw@h`) has no
 * reliable userinfo boundary, so everything up to its last '@' before the query is masked.
 */
function maskUnparsed(text: string): string {
  const queryAt = text.search(/[?#]/);
  const head = queryAt < 0 ? text : text.slice(0, queryAt);
  const at = head.lastIndexOf('@');
  if (at < 0) return redactText(text);
  const scheme = /^\s*[a-z][a-z0-9+.-]*:\/*/i.exec(head)?.[0] ?? '';
  return redactText(`${scheme}<CREDENTIALS>@${text.slice(at + 1)}`);
}

export class SafeUrl {
  readonly #raw: string;
  readonly #masked: string;

  constructor(url: string | URL) {
    this.#raw = typeof url === 'string' ? url : url.href;
    this.#masked = maskUrl(this.#raw);
  }

  static from(url: string | URL | SafeUrl): SafeUrl {
    return url instanceof SafeUrl ? url : new SafeUrl(url);
  }

  /** The unmasked URL, credentials included. Never print it. */
  withCredentials(): string {
    return this.#raw;
  }

  toString(): string {
    return this.#masked;
  }

  toJSON(): string {
    return this.#masked;
  }

  [inspect.custom](): string {
    return `SafeUrl(${this.#masked})`;
  }
}
