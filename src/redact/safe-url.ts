/**
 * SafeUrl: a URL whose every printed form is masked. The raw URL (with credentials)
 * is only reachable through the explicit `withCredentials()`.
 */
import { inspect } from 'node:util';
import { redactText } from './redact-text.js';

/** Mask a URL for display: drop `user:pass@`, `/t/<token>/` → `/t/<TOKEN>/`, signed params. */
export function maskUrl(url: string | URL): string {
  const text = typeof url === 'string' ? url : url.href;
  try {
    const parsed = new URL(text);
    parsed.username = '';
    parsed.password = '';
    return redactText(parsed.href);
  } catch {
    return redactText(text);
  }
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
