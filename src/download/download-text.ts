/** downloadText(): a small text resource (conda's download_text); no partial file, no checksum. */
import type { Response } from 'undici';
import type { Settings } from '../core/settings.js';
import { CondaError } from '../errors/classes.js';
import { httpErrorFromResponse } from '../errors/http-error.js';
import type { Session } from '../session/create-session.js';
import { withSession } from '../session/with-session.js';
import { getResponseInfo, discardBody } from '../core/response-info.js';
import { toGatewayError } from '../session/map-error.js';
import type { DebugLog, RetryEvent } from '../core/types.js';

export interface DownloadTextOptions {
  settings?: Settings;
  session?: Session;
  signal?: AbortSignal;
  onRetry?: (event: RetryEvent) => void;
  log?: DebugLog;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /**
   * Most bytes of (decoded) body to read into memory; a longer body, or one whose
   * Content-Encoding inflates past this, is a CG_BAD_RESPONSE error. @default DEFAULT_MAX_TEXT_BYTES
   */
  maxBytes?: number;
}

/** Default cap on a text body read into memory: 256 MiB, several times the largest real lock file. */
export const DEFAULT_MAX_TEXT_BYTES = 256 * 1024 * 1024;

export async function downloadText(url: string | URL, opts: DownloadTextOptions = {}): Promise<string> {
  return withSession(opts, async (session, settings) => {
    const started = performance.now();
    try {
      const res = await session.fetch(url, { signal: opts.signal, onRetry: opts.onRetry });
      if (!res.ok) {
        throw await httpErrorFromResponse(res, {
          url: String(url), attempts: getResponseInfo(res)?.attempts, elapsedMs: performance.now() - started,
          channelAlias: settings.channelAlias,
        });
      }
      return await readCapped(res, opts.maxBytes ?? DEFAULT_MAX_TEXT_BYTES, String(url));
    } catch (err) {
      throw toGatewayError(err, { url: String(url), elapsedMs: performance.now() - started, channelAlias: settings.channelAlias });
    }
  });
}

/** The body as text, refusing it once more than `limit` decoded bytes arrived (nothing more is read). */
async function readCapped(res: Response, limit: number, url: string): Promise<string> {
  const declared = Number(res.headers.get('content-length'));
  const encoded = (res.headers.get('content-encoding') ?? 'identity') !== 'identity';
  const tooLarge = (seen: string): CondaError => new CondaError(
    `The body of ${url} is larger than the limit of ${limit} bytes (${seen}); refusing to read it into memory.`,
    { code: 'CG_BAD_RESPONSE', url, details: { limit }, hint: 'Raise the limit (maxBytes, or --max-spec-bytes for fetch) if this file is really that large.' });
  if (!encoded && Number.isFinite(declared) && declared > limit) {
    await discardBody(res);
    throw tooLarge(`Content-Length ${declared}`);
  }
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    total += chunk.byteLength;
    if (total > limit) {
      await res.body.cancel().catch(() => undefined);
      throw tooLarge(encoded ? 'after decoding its Content-Encoding' : 'as sent');
    }
    chunks.push(chunk);
  }
  return new TextDecoder().decode(Buffer.concat(chunks, total));
}
