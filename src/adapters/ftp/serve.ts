/**
 * One ftp:// request on a leased control connection, in named steps: probe the file (SIZE,
 * MDTM), decide the range, answer HEAD or 416 at once, else stream the body (REST offset)
 * and give the connection back to the pool when the transfer ends cleanly.
 */
import { Headers, type Response } from '../../util/undici.js';
import { CondaValueError } from '../../errors/classes.js';
import { maskUrl } from '../../redact/safe-url.js';
import {
  decideConditionalRange, httpDate, partialHeaders, unsatisfiableHeaders, type RangeDecision,
} from '../byte-range.js';
import { contentTypeFor } from '../localfs/content-type.js';
import { responseFromNode } from '../response.js';
import type { GatewayRequest } from '../../core/types.js';
import { cutError, FtpBody } from './body.js';
import type { FtpPool, Lease } from './pool.js';
import { ftpReplyCode, isUnsupportedCommand } from './replies.js';

export interface Target {
  readonly host: string;
  readonly port: number;
  /** Relative to the login directory, as conda (and RFC 1738) read it. */
  readonly path: string;
}

/** Where the answer goes: the request, and the pool the lease returns to under `key`. */
export interface ServeContext {
  readonly req: GatewayRequest;
  readonly pool: FtpPool;
  readonly key: string;
  readonly lease: Lease;
  readonly target: Target;
}

interface FileFacts {
  size?: number;
  lastModified?: string;
}

interface TransferPlan {
  status: 200 | 206;
  /** REST offset. */
  start: number;
  /** Bytes the body should have, when known. */
  expected?: number;
  /** Stop after this many bytes (a range that ends before the file does). */
  limit?: number;
}

export function directoryError(url: URL): CondaValueError {
  return new CondaValueError(`'${maskUrl(url)}' is a directory, not a file.`, {
    url, hint: 'Name a file inside the directory, e.g. .../noarch/repodata.json.',
  });
}

/** basic-ftp reports timeouts without a code; give them one so retries and messages see a timeout. */
export function withCode(err: unknown): unknown {
  if (err instanceof Error && !(err as { code?: unknown }).code && /^Timeout \(/.test(err.message)) {
    return Object.assign(err, { code: 'ETIMEDOUT' });
  }
  return err;
}

async function isDirectory(lease: Lease, path: string): Promise<boolean> {
  try {
    await lease.client.cd(path);
  } catch {
    return false;
  }
  await lease.client.cd(lease.home).catch(() => undefined);
  return true;
}

/** SIZE, read leniently: a reply without a number (ftp-srv says "213 File status" for 0 bytes) means unknown. */
async function sizeOf(lease: Lease, path: string): Promise<number | undefined> {
  const res = await lease.client.send(`SIZE ${await lease.client.protectWhitespace(path)}`);
  const m = /^213[ -]\s*(\d+)\s*$/.exec(res.message.trim().split(/\r?\n/).at(-1) ?? '');
  const n = m ? Number(m[1]) : Number.NaN;
  return Number.isSafeInteger(n) ? n : undefined;
}

/** SIZE and MDTM; a server without them is fine, a 550 on a directory is the caller's mistake. */
async function probe({ req, lease, target }: ServeContext): Promise<FileFacts> {
  const facts: FileFacts = {};
  try {
    facts.size = await sizeOf(lease, target.path);
  } catch (err) {
    const code = ftpReplyCode(err);
    if (code === undefined) throw withCode(err);
    if (!isUnsupportedCommand(code)) {
      if (code === 550 && await isDirectory(lease, target.path)) throw directoryError(req.url);
      throw err;
    }
  }
  try {
    const date = await lease.client.lastMod(target.path);
    if (Number.isFinite(date.getTime())) facts.lastModified = httpDate(date);
  } catch (err) {
    if (ftpReplyCode(err) === undefined) throw withCode(err);
  }
  return facts;
}

/** Status, offset and length for the range asked (If-Range checked against MDTM); sets the matching headers. */
function planTransfer(range: RangeDecision, size: number | undefined, headers: Headers): TransferPlan {
  if (range.kind === 'partial' && size !== undefined) {
    for (const [k, v] of Object.entries(partialHeaders(range.start, range.end, size))) headers.set(k, v);
    const expected = range.end - range.start + 1;
    return { status: 206, start: range.start, expected, limit: range.end < size - 1 ? expected : undefined };
  }
  if (size !== undefined) headers.set('content-length', String(size));
  return { status: 200, start: 0, expected: size };
}

/** RETR from the offset into a Node stream; the lease goes back to the pool only after a clean, complete transfer. */
async function streamBody(ctx: ServeContext, plan: TransferPlan, headers: Headers, statusText: string): Promise<Response> {
  const { req, pool, key, lease, target } = ctx;
  const body = new FtpBody(plan.limit, () => pool.discard(lease));
  const done = lease.client.downloadTo(body.sink, target.path, plan.start);
  try {
    await Promise.race([body.started, done]);
  } catch (err) {
    const code = ftpReplyCode(err);
    if ((code === 550 || code === 551) && await isDirectory(lease, target.path)) throw directoryError(req.url);
    throw withCode(err);
  }
  const shown = maskUrl(req.url);
  done.then(() => {
    body.finish(plan.expected, shown);
    if (body.limitReached) pool.discard(lease);
    else pool.release(key, lease);
  }, (err: unknown) => {
    pool.discard(lease);
    const reason = err instanceof Error ? err.message : String(err);
    body.fail(cutError(`FTP transfer of ${shown} failed after ${body.received} bytes: ${reason}`, withCode(err)));
  });
  return responseFromNode(body.out, { status: plan.status, statusText, headers });
}

/** Answer one request on a leased connection; owns the lease once a body is handed out. */
export async function serve(ctx: ServeContext): Promise<Response> {
  const { req, pool, key, lease, target } = ctx;
  const { size, lastModified } = await probe(ctx);
  const headers = new Headers({ 'content-type': contentTypeFor(target.path) });
  if (lastModified) headers.set('last-modified', lastModified);
  if (size !== undefined) headers.set('accept-ranges', 'bytes');
  const range: RangeDecision = size === undefined ? { kind: 'full' } : decideConditionalRange(req.headers, size, { lastModified });
  if (range.kind === 'unsatisfiable') {
    pool.release(key, lease);
    for (const [k, v] of Object.entries(unsatisfiableHeaders(size ?? 0))) headers.set(k, v);
    return responseFromNode(null, { status: 416, statusText: 'Range Not Satisfiable', headers });
  }
  const plan = planTransfer(range, size, headers);
  const statusText = plan.status === 206 ? 'Partial Content' : 'OK';
  if (req.method === 'HEAD') {
    pool.release(key, lease);
    return responseFromNode(null, { status: plan.status, statusText, headers });
  }
  return streamBody(ctx, plan, headers, statusText);
}
