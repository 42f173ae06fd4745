/** One request of a download: ask for the bytes from an offset, check the answer, stream it into the partial. */
import { pipeline } from 'node:stream/promises';
import type { Response } from 'undici';
import { ChecksumMismatchError, CondaError } from '../errors/classes.js';
import { httpErrorFromResponse } from '../errors/http-error.js';
import { getResponseInfo, nodeBodyOf } from '../core/response-info.js';
import { createHasher, type Hasher } from './hasher.js';
import { parseContentRange, rangeValidator } from './content-range.js';
import { emitProgress, RestartFromZero, type Job } from './job.js';
import type { LockedFile } from '../core/file-lock.js';
import { PartialWriter, TooLongError } from './partial-writer.js';

/** The hasher of the current attempt, owned by the caller (it drops it whatever happens). */
export interface HashSlot {
  hasher: Hasher | undefined;
}

export interface Fetched {
  total: number | undefined;
  offset: number;
  restartedAt0: boolean;
}

export async function fetchInto(job: Job, handle: LockedFile['handle'], offset: number, slot: HashSlot): Promise<Fetched> {
  const headers: Record<string, string> = { 'accept-encoding': 'identity' };
  // rattler's hint: an oci:// package (or mirror) whose sha256 is known is a blob fetched by
  // digest, with no manifest; the headers middleware keeps it off http(s) requests.
  if (job.expected.sha256) headers['x-expected-sha256'] = job.expected.sha256;
  if (offset > 0) {
    headers.range = `bytes=${offset}-`;
    if (job.validator) headers['if-range'] = job.validator;
  }
  const res = await job.session.fetch(job.url, { headers, signal: job.opts.signal });
  job.attempts += getResponseInfo(res)?.attempts ?? 1;

  let restartedAt0 = false;
  let start = offset;
  let total: number | undefined;
  const contentLength = parseLength(res.headers.get('content-length'));

  if (res.status === 416 && offset > 0) {
    await discard(res);
    const range = parseContentRange(res.headers.get('content-range'));
    if (range?.total === offset) return { total: offset, offset, restartedAt0 };
    throw new RestartFromZero('the server refused the resume range (416)');
  }
  if (!res.ok) {
    throw await httpErrorFromResponse(res, {
      url: job.safeUrl, attempts: job.attempts, elapsedMs: performance.now() - job.started,
      channelAlias: job.settings.channelAlias,
    });
  }
  let range: ReturnType<typeof parseContentRange>;
  if (res.status === 206) {
    // A 206 is only a slice: it must start where we asked (byte 0 when we asked for no range).
    range = parseContentRange(res.headers.get('content-range'));
    if (!range || range.start !== offset || range.end === undefined) {
      await discard(res);
      throw new RestartFromZero(`the server answered a different range (${res.headers.get('content-range') ?? 'none'})`);
    }
    total = range.total;
  } else {
    if (offset > 0) {
      // The server ignored Range (or If-Range found a changed file): start over cleanly.
      await slot.hasher?.drop();
      slot.hasher = undefined;
      await handle.truncate(0);
      start = 0;
      restartedAt0 = true;
    }
    total = contentLength;
  }

  if (job.expected.size !== undefined && total !== undefined && total !== job.expected.size) {
    await discard(res);
    throw new ChecksumMismatchError({
      url: job.safeUrl.toString(), target: job.target, check: 'size', expected: job.expected.size,
      actual: total, attempts: job.attempts,
    });
  }
  job.validator = rangeValidator(res.headers) ?? job.validator;
  total ??= job.expected.size;

  // Where to hash is chosen from the size now known (resumed attempts bring their hasher).
  const hasher = slot.hasher ??= createHasher(job.expected.md5 !== undefined, total);
  const body = await nodeBodyOf(res);
  const writer = new PartialWriter(handle, hasher, {
    start, limit: job.expected.size ?? total, onChunk: job.opts.onChunk,
    onWritten: (confirmed) => emitProgress(job, confirmed, total),
  });
  try {
    if (body) await pipeline(body, writer, { signal: job.opts.signal });
    else writer.destroy();
  } catch (err) {
    await writer.settled();
    await handle.truncate(writer.confirmed).catch(() => undefined);
    if (err instanceof TooLongError) {
      throw new ChecksumMismatchError({
        url: job.safeUrl.toString(), target: job.target, check: 'size', expected: err.limit,
        actual: `more than ${err.limit}`, attempts: job.attempts,
      });
    }
    throw err;
  }
  if (range?.end !== undefined && writer.confirmed < (range.total ?? range.end + 1)) {
    // The slice ended before the file did: keep the valid prefix and ask for the rest.
    const error = new CondaError(
      `The server sent bytes ${range.start}-${range.end} of ${range.total ?? '*'} and stopped (${writer.confirmed} bytes in hand) for ${job.safeUrl.toString()}.`,
      { code: 'CG_CONTENT_LENGTH_MISMATCH', url: job.safeUrl, attempts: job.attempts });
    throw Object.assign(error, { retryableShortBody: true });
  }
  const received = writer.confirmed - start;
  const announced = res.status === 206 ? undefined : contentLength;
  if (announced !== undefined && received !== announced) {
    const error = new CondaError(
      'Downloaded bytes did not match Content-Length\n' +
        `    url: ${job.safeUrl.toString()}\n    target_path: ${job.target}\n` +
        `    Content-Length: ${announced}\n    downloaded bytes: ${received}\n`,
      { code: 'CG_CONTENT_LENGTH_MISMATCH', url: job.safeUrl, attempts: job.attempts });
    if (received < announced) Object.assign(error, { retryableShortBody: true });
    throw error;
  }
  return { total: total ?? writer.confirmed, offset: start, restartedAt0 };
}

function parseLength(value: string | null): number | undefined {
  if (value === null || !/^\d+$/.test(value.trim())) return undefined;
  const n = Number(value.trim());
  return Number.isSafeInteger(n) ? n : undefined;
}

async function discard(res: Response): Promise<void> {
  await res.body?.cancel().catch(() => undefined);
}
