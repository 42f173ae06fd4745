/**
 * One request of a download: ask for the bytes from an offset, check the answer, stream it
 * into the partial, check the body was complete. One named step each.
 */
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import type { Response } from 'undici';
import { ChecksumMismatchError, CondaError, IncompleteBodyError } from '../errors/classes.js';
import { httpErrorFromResponse } from '../errors/http-error.js';
import { getResponseInfo, nodeBodyOf, discardBody } from '../core/response-info.js';
import { createHasher, type Hasher } from './hasher.js';
import { parseContentRange, rangeValidator, type ContentRange } from './content-range.js';
import { emitProgress, RestartFromZero, type Job } from './job.js';
import type { LockedFile } from '../core/file-lock.js';
import { PartialWriter, TooLongError } from './partial-writer.js';
import { SlabReturns } from '../util/slab-reads.js';

type Handle = LockedFile['handle'];

/** The hasher of the current attempt, owned by the caller (it drops it whatever happens). */
export interface HashSlot {
  hasher: Hasher | undefined;
}

export interface Fetched {
  total: number | undefined;
  offset: number;
  restartedAt0: boolean;
}

/** What the answer's status and headers promise: where its bytes start and how many there are. */
interface Answer {
  /** Where the body's first byte goes in the partial. */
  start: number;
  /** Total file size when known (announced, else expected). */
  total: number | undefined;
  restartedAt0: boolean;
  /** The slice a 206 answered. */
  range: ContentRange | undefined;
  /** Content-Length of a 200 answer. */
  announced: number | undefined;
}

export async function fetchInto(job: Job, handle: Handle, offset: number, slot: HashSlot): Promise<Fetched> {
  const res = await requestFrom(job, offset);
  const answer = await readAnswer(job, res, handle, offset, slot);
  if ('offset' in answer) return answer;
  const { start, total } = answer;
  // Where to hash is chosen from the size now known (resumed attempts bring their hasher).
  const hasher = slot.hasher ??= createHasher(job.expected.md5 !== undefined, total);
  const confirmed = await streamBody(job, handle, await nodeBodyOf(res), start, total, hasher);
  checkComplete(job, answer, confirmed);
  return { total: total ?? confirmed, offset: start, restartedAt0: answer.restartedAt0 };
}

/** Ask for the file from `offset` (with If-Range when we hold a validator). */
async function requestFrom(job: Job, offset: number): Promise<Response> {
  const headers: Record<string, string> = { 'accept-encoding': 'identity' };
  // rattler's hint: an oci:// package (or mirror) whose sha256 is known is a blob fetched by
  // digest, with no manifest; the headers middleware keeps it off http(s) requests.
  if (job.expected.sha256) headers['x-expected-sha256'] = job.expected.sha256;
  if (offset > 0) {
    headers.range = `bytes=${offset}-`;
    if (job.validator) headers['if-range'] = job.validator;
  }
  const res = await job.session.fetch(job.url, { headers, signal: job.opts.signal, onRetry: job.opts.onRetry });
  job.attempts += getResponseInfo(res)?.attempts ?? 1;
  return res;
}

/**
 * Judge the status and headers: a 416 at the end means the partial is complete (a Fetched is
 * returned), a wrong slice or refused range restarts from zero, a 200 to a resume starts over
 * in place, a size other than the expected one fails before any byte is written.
 */
async function readAnswer(job: Job, res: Response, handle: Handle, offset: number, slot: HashSlot): Promise<Answer | Fetched> {
  const contentLength = parseLength(res.headers.get('content-length'));
  if (res.status === 416 && offset > 0) {
    await discardBody(res);
    const range = parseContentRange(res.headers.get('content-range'));
    if (range?.total === offset) return { total: offset, offset, restartedAt0: false };
    throw new RestartFromZero('the server refused the resume range (416)');
  }
  if (!res.ok) {
    throw await httpErrorFromResponse(res, {
      url: job.safeUrl, attempts: job.attempts, elapsedMs: performance.now() - job.started,
      channelAlias: job.settings.channelAlias,
    });
  }
  const answer: Answer = { start: offset, total: undefined, restartedAt0: false, range: undefined, announced: undefined };
  if (res.status === 206) {
    // A 206 is only a slice: it must start where we asked (byte 0 when we asked for no range).
    const range = parseContentRange(res.headers.get('content-range'));
    if (!range || range.start !== offset || range.end === undefined) {
      await discardBody(res);
      throw new RestartFromZero(`the server answered a different range (${res.headers.get('content-range') ?? 'none'})`);
    }
    answer.range = range;
    answer.total = range.total;
  } else {
    if (offset > 0) {
      // The server ignored Range (or If-Range found a changed file): start over cleanly.
      await slot.hasher?.drop();
      slot.hasher = undefined;
      await handle.truncate(0);
      answer.start = 0;
      answer.restartedAt0 = true;
    }
    answer.total = contentLength;
    answer.announced = contentLength;
  }
  if (job.expected.size !== undefined && answer.total !== undefined && answer.total !== job.expected.size) {
    await discardBody(res);
    throw new ChecksumMismatchError({
      url: job.safeUrl.toString(), target: job.target, check: 'size', expected: job.expected.size,
      actual: answer.total, attempts: job.attempts,
    });
  }
  job.validator = rangeValidator(res.headers) ?? job.validator;
  // Checked equal above when both are known, so `total` is also the most the body may carry.
  answer.total ??= job.expected.size;
  return answer;
}

/**
 * Write the body into the partial from `start`, hashing as it goes, never past `limit` (the
 * known file size, also the total reported as progress). Returns the end of the bytes on disk;
 * on failure the partial is cut back to what was written.
 */
export async function streamBody(job: Job, handle: Handle, body: Readable | null, start: number, limit: number | undefined,
  hasher: Hasher): Promise<number> {
  // The socket's slabs may be reused once written, unless a caller's onChunk also sees the chunks.
  const returns = body && !job.opts.onChunk ? SlabReturns.for(body) : undefined;
  const writer = new PartialWriter(handle, hasher, {
    start, limit, onChunk: job.opts.onChunk, returns, onWritten: (confirmed) => emitProgress(job, confirmed, limit),
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
  return writer.confirmed;
}

/** A body that ended before its slice or its Content-Length did: kept, and resumed by the caller. */
function checkComplete(job: Job, answer: Answer, confirmed: number): void {
  const { range, announced, start } = answer;
  if (range?.end !== undefined && confirmed < (range.total ?? range.end + 1)) {
    // The slice ended before the file did: keep the valid prefix and ask for the rest.
    throw new IncompleteBodyError(
      `The server sent bytes ${range.start}-${range.end} of ${range.total ?? '*'} and stopped (${confirmed} bytes in hand) for ${job.safeUrl.toString()}.`,
      { url: job.safeUrl, attempts: job.attempts });
  }
  const received = confirmed - start;
  if (announced !== undefined && received !== announced) {
    const message = 'Downloaded bytes did not match Content-Length\n' +
      `    url: ${job.safeUrl.toString()}\n    target_path: ${job.target}\n` +
      `    Content-Length: ${announced}\n    downloaded bytes: ${received}\n`;
    // Fewer bytes: a prefix worth resuming. More: the server is wrong, and retrying will not help.
    if (received < announced) throw new IncompleteBodyError(message, { url: job.safeUrl, attempts: job.attempts });
    throw new CondaError(message, { code: 'CG_CONTENT_LENGTH_MISMATCH', url: job.safeUrl, attempts: job.attempts });
  }
}

function parseLength(value: string | null): number | undefined {
  if (value === null || !/^\d+$/.test(value.trim())) return undefined;
  const n = Number(value.trim());
  return Number.isSafeInteger(n) ? n : undefined;
}

