/** downloadText(): a small text resource (conda's download_text); no partial file, no checksum. */
import type { Settings } from '../core/settings.js';
import { defaultSettings } from '../config/load-settings.js';
import { httpErrorFromResponse } from '../errors/http-error.js';
import { createSession, type Session } from '../session/create-session.js';
import { getResponseInfo } from '../core/response-info.js';
import { toGatewayError } from '../session/map-error.js';
import type { DebugLog, RetryEvent } from '../core/types.js';

export interface DownloadTextOptions {
  settings?: Settings;
  session?: Session;
  signal?: AbortSignal;
  onRetry?: (event: RetryEvent) => void;
  log?: DebugLog;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export async function downloadText(url: string | URL, opts: DownloadTextOptions = {}): Promise<string> {
  const settings = opts.session?.settings ?? opts.settings ?? defaultSettings();
  const session = opts.session ?? createSession({ settings, onRetry: opts.onRetry, log: opts.log, sleep: opts.sleep });
  const started = performance.now();
  try {
    const res = await session.fetch(url, { signal: opts.signal });
    if (!res.ok) {
      throw await httpErrorFromResponse(res, {
        url: String(url), attempts: getResponseInfo(res)?.attempts, elapsedMs: performance.now() - started,
        channelAlias: settings.channelAlias,
      });
    }
    return await res.text();
  } catch (err) {
    throw toGatewayError(err, { url: String(url), elapsedMs: performance.now() - started, channelAlias: settings.channelAlias });
  } finally {
    if (!opts.session) await session.close();
  }
}
