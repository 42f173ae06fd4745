/**
 * Reading an error response's body without trusting it: at most `cap` bytes are read (an
 * endless 404 body must not fill memory), the rest is cancelled. The parsed JSON object is
 * masked (URL credentials, tokens, the request's own secrets) before anyone sees it.
 */
import { redactText } from '../redact/redact-text.js';
import type { JsonValue } from './gateway-error.js';

export const MAX_ERROR_BODY = 64 * 1024;

export interface ErrorBodySource {
  readonly headers: { get(name: string): string | null };
  /** The body stream; when absent, text() is used (a small in-memory response). */
  readonly body?: ReadableStream<Uint8Array> | null;
  text(): Promise<string>;
}

/** The body as text when it fits in `cap` bytes, else undefined; the stream is released either way. */
export async function readCappedText(res: ErrorBodySource, cap = MAX_ERROR_BODY): Promise<string | undefined> {
  const body = res.body;
  const declared = Number(res.headers.get('content-length') ?? Number.NaN);
  if (body === undefined) {
    const text = await res.text();
    return text.length <= cap ? text : undefined;
  }
  if (body === null) return '';
  if (declared > cap) {
    await body.cancel().catch(() => undefined);
    return undefined;
  }
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > cap) return undefined;
      chunks.push(value);
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Every string (keys too) masked; the shape kept. */
export function maskJson(value: unknown, secrets: readonly string[], depth = 0): JsonValue {
  if (typeof value === 'string') return redactText(value, secrets);
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
  if (depth > 32) return null;
  if (Array.isArray(value)) return value.map((v) => maskJson(v, secrets, depth + 1));
  if (typeof value === 'object') {
    const out: Record<string, JsonValue> = {};
    for (const [k, v] of Object.entries(value)) out[redactText(k, secrets)] = maskJson(v, secrets, depth + 1);
    return out;
  }
  return null;
}

/** The literal secrets a URL carries (password, anaconda token), to mask wherever a server echoes them. */
export function secretsOfUrl(raw: string): string[] {
  const secrets: string[] = [];
  try {
    const url = new URL(raw);
    if (url.password) secrets.push(url.password, safeDecode(url.password));
  } catch { /* not a URL: only the token pattern below */ }
  const token = /\/t\/([^/?#\s]+)/.exec(raw)?.[1];
  if (token) secrets.push(token);
  return secrets.filter((s) => s.length >= 3);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
