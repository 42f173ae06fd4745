/**
 * One network check of `repodata.json`: `.json.zst` first (when enabled and not known to be
 * missing), then `.json`; conditional headers from the state; the body decoded while it
 * streams into a temp file. A body cut off or stalled mid-stream is requested again from the
 * start (within remote_max_retries, with the session's backoff). conda's ZstdRepoInterface +
 * conda_http_errors.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { open, unlink } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Readable, Transform } from 'node:stream';
import type { Response } from 'undici';
import type { Settings } from '../core/settings.js';
import { GatewayError } from '../errors/gateway-error.js';
import { CondaHTTPError, httpErrorFromResponse } from '../errors/http-error.js';
import { maskUrl } from '../redact/safe-url.js';
import type { Session } from '../session/create-session.js';
import { getResponseInfo, nodeBodyOf, wireBytesOf, discardBody } from '../core/response-info.js';
import { toGatewayError } from '../session/map-error.js';
import { RetryBudget } from '../core/retry.js';
import type { RetryEvent } from '../core/types.js';
import { setHasFormat, shouldCheckFormat, stateFromResponse, type RepodataState } from './cache-state.js';
import { UnavailableInvalidChannel } from './errors.js';
import { budgetError, RepodataBodyGuard } from './body-guard.js';
import type { JsonShapeSummary } from './json-shape.js';
import type { RepodataLimits } from './limits.js';
import { prestartShapeWorker, ShapeWorkerSink } from './shape-sink.js';
import { createZstdDecoderInto, ZstdDecodeError, zstdBackend } from './zst.js';

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
  /** Wait between body retries (tests inject a no-op). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  onRetry?: (event: RetryEvent) => void;
  limits: RepodataLimits;
}

export type TransferOutcome =
  /** `state`: the previous state, plus what was learned about .zst on the way (has_zst). */
  | { kind: 'not-modified'; state: RepodataState }
  /** A complete, validated, decoded body in `tempPath`; `state` lacks the stat fields (set on commit). */
  | { kind: 'written'; tempPath: string; state: RepodataState; source: 'repodata.json.zst' | 'repodata.json'; summary: JsonShapeSummary }
  /** A 404 on a platform subdir: conda caches `{}`. */
  | { kind: 'empty'; state: RepodataState };

const SERVER_ERROR_TEXT =
  'A remote server error occurred when trying to retrieve this URL.\n\n' +
  'A 500-type error (e.g. 500, 501, 502, 503, etc.) indicates the server failed to\n' +
  'fulfill a valid request.  The problem may be spurious, and will resolve itself if you\n' +
  'try your request again.  If the problem persists, consider notifying the maintainer\n' +
  'of the remote server.\n';

/**
 * Validators to send: only when the cached data is trusted (else they were cleared). conda per
 * interface: ZstdRepoInterface (repodata_use_zst, for .json.zst and its .json fallback) sends
 * If-None-Match only; CondaRepoInterface and the shard index send If-Modified-Since too.
 */
export function conditionalHeaders(state: RepodataState, trusted: boolean, etagOnly = false): Record<string, string> {
  const headers: Record<string, string> = {};
  if (!trusted) return headers;
  if (state.etag) headers['if-none-match'] = state.etag;
  if (state.mod && !etagOnly) headers['if-modified-since'] = state.mod;
  return headers;
}

export async function transferRepodata(ctx: TransferContext, previous: RepodataState, trusted: boolean, tempPath: string): Promise<TransferOutcome> {
  const headers = conditionalHeaders(previous, trusted, ctx.settings.repodataUseZst);
  // Never cached, or large last time: the body will likely need the worker, start it now.
  if (previous.size === 0 || previous.size >= PRESTART_MIN_SIZE) prestartShapeWorker();
  const state: RepodataState = { ...previous };
  const retries = new BodyRetries(ctx);
  if (ctx.settings.repodataUseZst && shouldCheckFormat(state, 'zst')) {
    // Load the decoder while the request is under way (a native module: ~10 ms).
    void zstdBackend();
    const zstUrl = `${ctx.url}/repodata.json.zst`;
    for (;;) {
      const res = await send(ctx, zstUrl, headers);
      if (res.status === 304) return notModified(res, state);
      if (res.ok) {
        try {
          const summary = await writeBody(ctx, res, zstUrl, tempPath, 'zst');
          const next = stateFromResponse(ctx.cleanUrl, res.headers, state);
          setHasFormat(next, 'zst', true);
          return { kind: 'written', tempPath, state: next, source: 'repodata.json.zst', summary };
        } catch (err) {
          await unlink(tempPath).catch(() => undefined);
          if (!(err instanceof ZstdDecodeError)) {
            await retries.again(toGatewayError(err, errorContext(ctx, zstUrl, tempPath)), zstUrl);
            continue;
          }
          ctx.log(`Could not decompress ${maskUrl(zstUrl)} as zstd. Fall back to .json. (${err.message})`);
        }
      } else if (res.status >= 400 && res.status < 500 && res.status !== 416) {
        await discardBody(res);
      } else {
        // conda's conda_http_errors(url, repodata_fn) names repodata.json even for the .zst request.
        throw await repodataHttpError(ctx, res, 'repodata.json');
      }
      break;
    }
    setHasFormat(state, 'zst', false);
  }
  const jsonUrl = `${ctx.url}/repodata.json`;
  for (;;) {
    const res = await send(ctx, jsonUrl, headers);
    if (res.status === 304) return notModified(res, state);
    if (res.status === 404) {
      await discardBody(res);
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
    let summary: JsonShapeSummary;
    try {
      summary = await writeBody(ctx, res, jsonUrl, tempPath, 'plain');
    } catch (err) {
      await unlink(tempPath).catch(() => undefined);
      // A clean restart rather than a Range resume: the index has no checksum to verify a spliced body against.
      await retries.again(toGatewayError(err, errorContext(ctx, jsonUrl, tempPath)), jsonUrl);
      continue;
    }
    return { kind: 'written', tempPath, state: stateFromResponse(ctx.cleanUrl, res.headers, state), source: 'repodata.json', summary };
  }
}

/**
 * The retry budget of one transfer for bodies that broke off mid-stream (a cut connection or
 * a read stall): remote_max_retries in all, waits as the session's (delayFor). Anything
 * else, and a cancelled transfer, is thrown as it is.
 */
export class BodyRetries {
  readonly #budget: RetryBudget;

  constructor(readonly ctx: Pick<TransferContext, 'settings' | 'signal' | 'log' | 'sleep' | 'onRetry'>) {
    this.#budget = new RetryBudget(ctx.settings, { log: ctx.log, onRetry: ctx.onRetry, sleep: ctx.sleep, signal: ctx.signal });
  }

  /** Resolves (after the backoff) when `error` may be retried; otherwise throws it. */
  async again(error: GatewayError, url: string): Promise<void> {
    const interrupted = error.code === 'CG_CONNECTION' || error.code === 'CG_TIMEOUT';
    if (!interrupted || !this.#budget.canRetry) {
      error.attempts = Math.max(error.attempts, this.#budget.used + 1);
      throw error;
    }
    const reason = error.code === 'CG_TIMEOUT' ? 'body read timed out' : 'body interrupted';
    const max = this.ctx.settings.remoteMaxRetries;
    await this.#budget.spend({
      url: maskUrl(url), reason,
      message: (_delayMs, retry) => `${maskUrl(url)}: ${reason}; downloading it again (retry ${retry} of ${max})`,
    });
  }
}

async function notModified(res: Response, state: RepodataState): Promise<TransferOutcome> {
  await discardBody(res);
  return { kind: 'not-modified', state };
}

function errorContext(ctx: TransferContext, url: string, path?: string) {
  return { url, channelAlias: ctx.settings.channelAlias, path };
}

export async function send(ctx: TransferContext, url: string, headers: Record<string, string>): Promise<Response> {
  try {
    return await ctx.session.fetch(url, { headers, signal: ctx.signal, onRetry: ctx.onRetry });
  } catch (err) {
    throw toGatewayError(err, errorContext(ctx, url));
  }
}

/** conda_http_errors for everything but the 404 cases: the URL named is `<subdir>/<fn>`. */
export async function repodataHttpError(ctx: TransferContext, res: Response, fn: string): Promise<CondaHTTPError> {
  const url = `${ctx.url}/${fn}`;
  const info = getResponseInfo(res);
  return httpErrorFromResponse(res, {
    url, attempts: info?.attempts, elapsedMs: info?.elapsedMs, channelAlias: ctx.settings.channelAlias,
    help: repodataHelpText(res.status, ctx.url),
  });
}

/**
 * conda_http_errors' texts other than 401/403 (those are the download ones): the 5xx paragraph,
 * else the generic text with the repo.anaconda.com firewall paragraph for that host, then the
 * subdir URL as Python's repr prints it (masked here).
 */
export function repodataHelpText(status: number, subdirUrl: string): string | undefined {
  if (status === 401 || status === 403) return undefined;
  if (status >= 500 && status < 600) return SERVER_ERROR_TEXT;
  const generic = 'An HTTP error occurred when trying to retrieve this URL.\n' +
    'HTTP errors are often intermittent, and a simple retry will get you on your way.\n';
  const shown = `'${maskUrl(subdirUrl)}'`;
  if (subdirUrl.startsWith('https://repo.anaconda.com/')) {
    return `${generic}\nIf your current network has https://repo.anaconda.com blocked, please file\n` +
      `a support request with your network engineering team.\n\n${shown}\n`;
  }
  return `${generic}${shown}\n`;
}

/**
 * Bodies announced smaller than this are validated and written in this thread; larger ones, or
 * of unknown length, by a worker (shape-sink.ts), which costs a thread start (~30 ms) but
 * takes the validator off the decoding thread.
 */
export const WORKER_MIN_WIRE_BYTES = 2 << 20;

/** A cached index at least this large (decoded) is likely large again: its worker is started with the request. */
const PRESTART_MIN_SIZE = 4 * WORKER_MIN_WIRE_BYTES;

function wantsWorker(res: Response): boolean {
  const length = Number(res.headers.get('content-length') ?? NaN);
  return !(Number.isFinite(length) && length < WORKER_MIN_WIRE_BYTES);
}

/**
 * Stream the body (zstd-decoded for `.zst`) into a new temp file through the limits and the
 * shape validator; returns what the validator saw. The temp file is the caller's to remove.
 */
async function writeBody(ctx: TransferContext, res: Response, url: string, tempPath: string, kind: 'zst' | 'plain'): Promise<JsonShapeSummary> {
  const body = (await nodeBodyOf(res)) ?? Readable.from([]);
  let wire = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      wire += chunk.length;
      done(null, chunk);
    },
  });
  const wireBytes = kind === 'zst' ? () => wire : wireBytesOf(res);
  if (wantsWorker(res)) {
    const file = await open(tempPath, 'wx');
    let sink: ShapeWorkerSink | undefined;
    try {
      sink = new ShapeWorkerSink(url, file.fd, ctx.limits, wireBytes);
      const decoded = kind === 'zst' ? [counter, await zstdDecoder(ctx.limits, () => wire, sink.takeBuffer)] : [];
      await run(ctx, url, [body, ...decoded, sink]);
      return sink.summary!;
    } finally {
      // The worker writes to this descriptor: close it only once the thread has stopped (a
      // failure before the pipeline ran, e.g. loading the decoder, must stop it too).
      if (sink) {
        if (!sink.destroyed) sink.destroy();
        await sink.stopped;
      }
      await file.close();
    }
  }
  const decoded = kind === 'zst' ? [counter, await zstdDecoder(ctx.limits, () => wire)] : [];
  const guard = new RepodataBodyGuard(url, ctx.limits, wireBytes);
  const out = createWriteStream(tempPath, { flags: 'wx', highWaterMark: 1 << 20 });
  try {
    await run(ctx, url, [body, ...decoded, guard, out]);
    return guard.summary!;
  } catch (err) {
    // The file is opened asynchronously: wait until it is closed, so the caller's unlink finds it.
    if (!out.closed) await once(out, 'close').catch(() => undefined);
    throw err;
  }
}

function zstdDecoder(limits: RepodataLimits, wireBytes: () => number, outputBuffers?: () => Buffer): Promise<Transform> {
  return createZstdDecoderInto({ maxBytes: limits.maxIndexBytes, maxRatio: limits.maxRatio, ratioFloorBytes: limits.ratioFloorBytes, wireBytes }, outputBuffers);
}

async function run(ctx: TransferContext, url: string, streams: Array<NodeJS.ReadableStream | NodeJS.WritableStream>): Promise<void> {
  try {
    await pipeline(streams, { signal: ctx.signal });
  } catch (err) {
    throw budgetError(err, 'repodata.json', url, 'maxIndexBytes');
  }
}

