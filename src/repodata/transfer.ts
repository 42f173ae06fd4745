/**
 * One network check of `repodata.json`: `.json.zst` first (when enabled and not known to be
 * missing), then `.json`; conditional headers from the state; the body decoded while it
 * streams into a temp file. conda's ZstdRepoInterface + conda_http_errors.
 */
import { createWriteStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Readable, type Transform } from 'node:stream';
import type { Response } from 'undici';
import type { Settings } from '../config/settings.js';
import { CondaHTTPError, httpErrorFromResponse } from '../errors/http-error.js';
import { maskUrl } from '../redact/safe-url.js';
import type { Session } from '../session/create-session.js';
import { getResponseInfo, nodeBodyOf } from '../session/response-info.js';
import { toGatewayError } from '../session/map-error.js';
import { setHasFormat, shouldCheckFormat, stateFromResponse, type RepodataState } from './cache-state.js';
import { UnavailableInvalidChannel } from './errors.js';
import { createZstdDecoder, ZstdDecodeError } from './zst.js';

export interface TransferContext {
  /** Subdir URL as requested (credentials kept for the session to use). */
  url: string;
  /** Subdir URL without credentials: what the state file records. */
  cleanUrl: string;
  channelUrl: string;
  subdir: string;
  session: Session;
  settings: Settings;
  signal?: AbortSignal;
  log: (message: string) => void;
}

export type TransferOutcome =
  /** `state`: the previous state, plus what was learned about .zst on the way (has_zst). */
  | { kind: 'not-modified'; state: RepodataState }
  /** A complete decoded body in `tempPath`; `state` lacks the stat fields (set on commit). */
  | { kind: 'written'; tempPath: string; state: RepodataState; source: 'repodata.json.zst' | 'repodata.json' }
  /** A 404 on a platform subdir: conda caches `{}`. */
  | { kind: 'empty'; state: RepodataState };

const SERVER_ERROR_TEXT =
  'A remote server error occurred when trying to retrieve this URL.\n\n' +
  'A 500-type error (e.g. 500, 501, 502, 503, etc.) indicates the server failed to\n' +
  'fulfill a valid request.  The problem may be spurious, and will resolve itself if you\n' +
  'try your request again.  If the problem persists, consider notifying the maintainer\n' +
  'of the remote server.\n';

/** Validators to send: only when the cached data is trusted (else they were cleared). */
export function conditionalHeaders(state: RepodataState, trusted: boolean): Record<string, string> {
  const headers: Record<string, string> = {};
  if (!trusted) return headers;
  if (state.etag) headers['if-none-match'] = state.etag;
  if (state.mod) headers['if-modified-since'] = state.mod;
  return headers;
}

export async function transferRepodata(ctx: TransferContext, previous: RepodataState, trusted: boolean, tempPath: string): Promise<TransferOutcome> {
  const headers = conditionalHeaders(previous, trusted);
  const state: RepodataState = { ...previous };
  if (ctx.settings.repodataUseZst && shouldCheckFormat(state, 'zst')) {
    const zstUrl = `${ctx.url}/repodata.json.zst`;
    const res = await send(ctx, zstUrl, headers);
    if (res.status === 304) return notModified(res, state);
    if (res.ok) {
      try {
        await writeBody(res, tempPath, await createZstdDecoder(), ctx.signal);
        const next = stateFromResponse(ctx.cleanUrl, res.headers, state);
        setHasFormat(next, 'zst', true);
        return { kind: 'written', tempPath, state: next, source: 'repodata.json.zst' };
      } catch (err) {
        await unlink(tempPath).catch(() => undefined);
        if (!(err instanceof ZstdDecodeError)) throw toGatewayError(err, errorContext(ctx, zstUrl, tempPath));
        ctx.log(`Could not decompress ${maskUrl(zstUrl)} as zstd. Fall back to .json. (${err.message})`);
      }
    } else if (res.status >= 400 && res.status < 500 && res.status !== 416) {
      await discard(res);
    } else {
      throw await repodataHttpError(ctx, res, 'repodata.json.zst');
    }
    setHasFormat(state, 'zst', false);
  }
  const jsonUrl = `${ctx.url}/repodata.json`;
  const res = await send(ctx, jsonUrl, headers);
  if (res.status === 304) return notModified(res, state);
  if (res.status === 404) {
    await discard(res);
    const noarch = ctx.subdir === 'noarch' || ctx.url.endsWith('/noarch');
    if (noarch && !ctx.settings.allowNonChannelUrls) {
      throw new UnavailableInvalidChannel({
        channelUrl: ctx.channelUrl, status: 404, reason: res.statusText || 'NOT FOUND',
        channelAlias: ctx.settings.channelAlias, repodataUrl: jsonUrl,
      });
    }
    ctx.log(`Unable to retrieve repodata (response: 404) for ${maskUrl(jsonUrl)}`);
    const empty = stateFromResponse(ctx.cleanUrl, { get: () => null }, state);
    return { kind: 'empty', state: empty };
  }
  if (!res.ok) throw await repodataHttpError(ctx, res, 'repodata.json');
  try {
    await writeBody(res, tempPath, undefined, ctx.signal);
  } catch (err) {
    await unlink(tempPath).catch(() => undefined);
    throw toGatewayError(err, errorContext(ctx, jsonUrl, tempPath));
  }
  return { kind: 'written', tempPath, state: stateFromResponse(ctx.cleanUrl, res.headers, state), source: 'repodata.json' };
}

async function notModified(res: Response, state: RepodataState): Promise<TransferOutcome> {
  await discard(res);
  return { kind: 'not-modified', state };
}

function errorContext(ctx: TransferContext, url: string, path?: string) {
  return { url, channelAlias: ctx.settings.channelAlias, path };
}

export async function send(ctx: TransferContext, url: string, headers: Record<string, string>): Promise<Response> {
  try {
    return await ctx.session.fetch(url, { headers, signal: ctx.signal });
  } catch (err) {
    throw toGatewayError(err, errorContext(ctx, url));
  }
}

/** conda_http_errors for everything but the 404 cases. */
export async function repodataHttpError(ctx: TransferContext, res: Response, fn: string): Promise<CondaHTTPError> {
  const url = `${ctx.url}/${fn}`;
  const info = getResponseInfo(res);
  const common = { url, attempts: info?.attempts, elapsedMs: info?.elapsedMs, channelAlias: ctx.settings.channelAlias };
  if (res.status >= 500) {
    await discard(res);
    return new CondaHTTPError({ ...common, status: res.status, reason: res.statusText, serverMessage: SERVER_ERROR_TEXT });
  }
  return httpErrorFromResponse(res, common);
}

/** Stream the body (through `decoder` when given) into a new temp file. */
export async function writeBody(res: Response, tempPath: string, decoder: Transform | undefined, signal?: AbortSignal): Promise<void> {
  const body = (await nodeBodyOf(res)) ?? Readable.from([]);
  const out = createWriteStream(tempPath, { flags: 'wx', highWaterMark: 1 << 20 });
  if (decoder) await pipeline(body, decoder, out, { signal });
  else await pipeline(body, out, { signal });
}

export async function discard(res: Response): Promise<void> {
  await res.body?.cancel().catch(() => undefined);
}
