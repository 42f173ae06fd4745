/**
 * GatewayError: the base of every error this library throws. It carries a stable
 * `code`, a `hint`, a masked `url`, retry facts and JSON-safe details. Secrets are
 * masked inside the object itself, so `String`, `stack`, `util.inspect` and
 * `JSON.stringify` are all safe to print.
 */
import { inspect } from 'node:util';
import { ERROR_CODES, type ErrorCode, type ErrorFamily } from './codes.js';
import { SafeUrl, maskUrl } from '../redact/safe-url.js';
import { redactText } from '../redact/redact-text.js';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

const BRAND = Symbol.for('conda-gateway.error');

export interface GatewayErrorOptions {
  code: ErrorCode;
  url?: string | URL | SafeUrl;
  hint?: string;
  cause?: unknown;
  attempts?: number;
  elapsedMs?: number;
  details?: Record<string, JsonValue | undefined>;
  /** Literal secrets known to the thrower (passwords, tokens) to mask in the message and cause. */
  secrets?: readonly string[];
}

export interface GatewayErrorJson {
  error: string;
  code: ErrorCode;
  family: ErrorFamily;
  message: string;
  hint?: string;
  url?: string;
  attempts: number;
  elapsedMs?: number;
  details: Record<string, JsonValue>;
  cause?: string;
}

export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly url: SafeUrl | undefined;
  attempts: number;
  elapsedMs: number | undefined;
  readonly details: Readonly<Record<string, JsonValue>>;

  constructor(message: string, options: GatewayErrorOptions) {
    const secrets = options.secrets ?? [];
    super(redactText(message, secrets));
    // `cause` is non-enumerable (as Error's own), and its text is masked in place.
    if (options.cause !== undefined) {
      Object.defineProperty(this, 'cause', {
        value: maskCause(options.cause, secrets),
        enumerable: false, writable: true, configurable: true,
      });
    }
    Object.defineProperty(this, BRAND, { value: true, enumerable: false });
    this.code = options.code;
    this.hint = options.hint === undefined ? ERROR_CODES[options.code].hint : redactText(options.hint, secrets);
    this.url = options.url === undefined ? undefined : SafeUrl.from(options.url);
    this.attempts = options.attempts ?? 1;
    this.elapsedMs = options.elapsedMs;
    const details: Record<string, JsonValue> = {};
    for (const [k, v] of Object.entries(options.details ?? {})) {
      if (v !== undefined) details[k] = typeof v === 'string' ? redactText(v, secrets) : v;
    }
    this.details = Object.freeze(details);
  }

  override get name(): string {
    return this.constructor.name;
  }

  get family(): ErrorFamily {
    return ERROR_CODES[this.code].family;
  }

  toJSON(): GatewayErrorJson {
    const json: GatewayErrorJson = {
      error: this.name,
      code: this.code,
      family: this.family,
      message: this.message,
      attempts: this.attempts,
      details: { ...this.details },
    };
    if (this.hint !== undefined) json.hint = this.hint;
    if (this.url !== undefined) json.url = this.url.toString();
    if (this.elapsedMs !== undefined) json.elapsedMs = Math.round(this.elapsedMs);
    if (this.cause instanceof Error) json.cause = redactText(`${this.cause.name}: ${this.cause.message}`);
    return json;
  }

  [inspect.custom](): string {
    const lines = [this.stack ?? `${this.name}: ${this.message}`];
    lines.push(`  code: ${this.code}`);
    if (this.url) lines.push(`  url: ${this.url.toString()}`);
    if (this.hint) lines.push(`  hint: ${this.hint}`);
    if (this.cause instanceof Error) lines.push(`  [cause]: ${this.cause.name}: ${this.cause.message}`);
    return lines.join('\n');
  }
}

/** Masks the message and stack of an error chain in place, so a cause never leaks a secret. */
function maskCause(cause: unknown, secrets: readonly string[], depth = 0): unknown {
  if (!(cause instanceof Error) || depth > 5 || (cause as { [BRAND]?: boolean })[BRAND]) return cause;
  try {
    cause.message = redactText(cause.message, secrets);
    if (cause.stack) cause.stack = redactText(cause.stack, secrets);
    // Node's own errors keep the raw input on the object (ERR_INVALID_URL's `input`), shown by inspect.
    for (const [key, value] of Object.entries(cause)) {
      if (typeof value !== 'string') continue;
      const masked = key === 'input' ? redactText(maskUrl(value), secrets) : redactText(value, secrets);
      (cause as unknown as Record<string, unknown>)[key] = masked;
    }
    if (cause.cause !== undefined) maskCause(cause.cause, secrets, depth + 1);
  } catch {
    // Frozen or exotic errors keep their text; they came from outside our request path.
  }
  return cause;
}

export function isGatewayError(value: unknown): value is GatewayError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true
    && typeof (value as { code?: unknown }).code === 'string';
}

export function hasCode(value: unknown, code: ErrorCode): value is GatewayError {
  return isGatewayError(value) && value.code === code;
}
