/**
 * ftp:// adapter on basic-ftp (loaded with the adapter, on the first ftp URL): anonymous or
 * Basic-header login, passive mode, SIZE → Content-Length, MDTM → Last-Modified, Range →
 * REST → 206, reply codes as HTTP statuses, streamed bodies, connections reused per session.
 */
import { createHash } from 'node:crypto';
import { Headers, Response } from 'undici';
import { CondaDependencyError, CondaValueError } from '../../errors/classes.js';
import { maskUrl } from '../../redact/safe-url.js';
import { redactText } from '../../redact/redact-text.js';
import {
  decideConditionalRange, httpDate, partialHeaders, unsatisfiableHeaders, type RangeDecision,
} from '../byte-range.js';
import { contentTypeFor } from '../localfs/content-type.js';
import { jsonResponse, responseFromNode } from '../response.js';
import type { Adapter, AdapterDeps } from '../../core/adapter.js';
import { decodedPath } from '../../core/url-path.js';
import { cutError, FtpBody } from './body.js';
import { FtpPool, type Lease } from './pool.js';
import { ftpReplyCode, isUnsupportedCommand, loginFrom, statusForReply, type FtpLogin } from './replies.js';
import type { GatewayRequest } from '../../core/types.js';

export const DEFAULT_FTP_PORT = 21;

interface Target {
  readonly host: string;
  readonly port: number;
  /** Relative to the login directory, as conda (and RFC 1738) read it. */
  readonly path: string;
}

/** Host, port and path of an ftp:// URL, or a CG_INVALID_ARGUMENT error. */
export function ftpTarget(url: URL): Target {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!host) {
    throw new CondaValueError(`'${maskUrl(url)}' has no host.`, { url, hint: 'Write ftp://host[:port]/path/to/file.' });
  }
  const port = url.port ? Number(url.port) : DEFAULT_FTP_PORT;
  return { host, port: port || DEFAULT_FTP_PORT, path: decodedPath(url).replace(/^\//, '') };
}

function directoryError(url: URL): CondaValueError {
  return new CondaValueError(`'${maskUrl(url)}' is a directory, not a file.`, {
    url, hint: 'Name a file inside the directory, e.g. .../noarch/repodata.json.',
  });
}

/** basic-ftp reports timeouts without a code; give them one so retries and messages see a timeout. */
function withCode(err: unknown): unknown {
  if (err instanceof Error && !(err as { code?: unknown }).code && /^Timeout \(/.test(err.message)) {
    return Object.assign(err, { code: 'ETIMEDOUT' });
  }
  return err;
}

function timeoutAfter<T>(promise: Promise<T>, ms: number, what: string, onTimeout: () => void): Promise<T> {
  if (!(ms > 0)) return promise;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(Object.assign(new Error(`${what} timed out after ${ms} ms`), { code: 'ETIMEDOUT' }));
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export async function createFtpAdapter(deps: AdapterDeps): Promise<Adapter> {
  let ftp: typeof import('basic-ftp');
  try {
    ftp = await import('basic-ftp');
  } catch (err) {
    throw new CondaDependencyError(
      'basic-ftp is required for FTP channels. Please install it with `npm install basic-ftp`.', { cause: err });
  }
  const { settings, log } = deps;
  const connectMs = Math.round(settings.remoteConnectTimeoutSecs * 1000);
  const readMs = Math.round(settings.remoteReadTimeoutSecs * 1000);
  const pool = new FtpPool();

  async function connect(target: Target, login: FtpLogin): Promise<{ client: import('basic-ftp').Client; home: string }> {
    // Like conda's patched ftplib: data connections go to the control connection's host only.
    const client = new ftp.Client(readMs, { allowSeparateTransferHost: false });
    try {
      await timeoutAfter(client.access({ host: target.host, port: target.port, user: login.user, password: login.password, secure: false }),
        connectMs, `FTP login to ${target.host}:${target.port}`, () => client.close());
      const home = await client.pwd().catch(() => '/');
      log(`ftp: connected to ${target.host}:${target.port} as ${login.anonymous ? 'anonymous' : login.user}`);
      return { client, home };
    } catch (err) {
      client.close();
      throw withCode(err);
    }
  }

  function replyResponse(req: GatewayRequest, code: number, err: unknown, secrets: readonly string[]): Response {
    const mapped = statusForReply(code);
    const text = err instanceof Error ? err.message : String(err);
    if (req.method === 'HEAD') {
      return new Response(null, { status: mapped.status, statusText: mapped.statusText, headers: new Headers({ 'content-type': 'application/json' }) });
    }
    return jsonResponse(mapped.status, {
      error: mapped.error, path: maskUrl(req.url), exception: redactText(`FTPError(${code}, '${text}')`, secrets),
    }, mapped.statusText);
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

  /** Answer one request on a leased connection; owns the lease once a body is handed out. */
  async function serve(req: GatewayRequest, key: string, lease: Lease, target: Target): Promise<Response> {
    const { client } = lease;
    const { path } = target;
    let size: number | undefined;
    try {
      size = await sizeOf(lease, path);
    } catch (err) {
      const code = ftpReplyCode(err);
      if (code === undefined) throw withCode(err);
      if (!isUnsupportedCommand(code)) {
        if (code === 550 && await isDirectory(lease, path)) throw directoryError(req.url);
        throw err;
      }
    }
    let lastModified: string | undefined;
    try {
      const date = await client.lastMod(path);
      if (Number.isFinite(date.getTime())) lastModified = httpDate(date);
    } catch (err) {
      if (ftpReplyCode(err) === undefined) throw withCode(err);
    }
    const headers = new Headers({ 'content-type': contentTypeFor(path) });
    if (lastModified) headers.set('last-modified', lastModified);
    if (size !== undefined) headers.set('accept-ranges', 'bytes');
    const range: RangeDecision = size === undefined ? { kind: 'full' } : decideConditionalRange(req.headers, size, { lastModified });
    if (range.kind === 'unsatisfiable') {
      pool.release(key, lease);
      for (const [k, v] of Object.entries(unsatisfiableHeaders(size ?? 0))) headers.set(k, v);
      return responseFromNode(null, { status: 416, statusText: 'Range Not Satisfiable', headers });
    }
    let status = 200;
    let start = 0;
    let expected = size;
    let limit: number | undefined;
    if (range.kind === 'partial' && size !== undefined) {
      status = 206;
      start = range.start;
      expected = range.end - range.start + 1;
      if (range.end < size - 1) limit = expected;
      for (const [k, v] of Object.entries(partialHeaders(range.start, range.end, size))) headers.set(k, v);
    } else if (size !== undefined) {
      headers.set('content-length', String(size));
    }
    const statusText = status === 206 ? 'Partial Content' : 'OK';
    if (req.method === 'HEAD') {
      pool.release(key, lease);
      return responseFromNode(null, { status, statusText, headers });
    }

    const body = new FtpBody(limit, () => pool.discard(lease));
    const done = client.downloadTo(body.sink, path, start);
    try {
      await Promise.race([body.started, done]);
    } catch (err) {
      const code = ftpReplyCode(err);
      if ((code === 550 || code === 551) && await isDirectory(lease, path)) throw directoryError(req.url);
      throw withCode(err);
    }
    const shown = maskUrl(req.url);
    done.then(() => {
      body.finish(expected, shown);
      if (body.limitReached) pool.discard(lease);
      else pool.release(key, lease);
    }, (err: unknown) => {
      pool.discard(lease);
      const reason = err instanceof Error ? err.message : String(err);
      body.fail(cutError(`FTP transfer of ${shown} failed after ${body.received} bytes: ${reason}`, withCode(err)));
    });
    return responseFromNode(body.out, { status, statusText, headers });
  }

  return {
    schemes: ['ftp:'],
    async send(req) {
      req.signal?.throwIfAborted();
      const target = ftpTarget(req.url);
      if (target.path === '' || target.path.endsWith('/')) throw directoryError(req.url);
      const login = loginFrom(req.headers.get('authorization'), req.url);
      const secrets = login.anonymous ? [] : [login.password];
      const key = `${target.host}:${target.port}:${createHash('sha256').update(`${login.user}\0${login.password}`).digest('hex')}`;
      for (let round = 0; ; round++) {
        let lease: Lease;
        try {
          lease = await pool.acquire(key, () => connect(target, login));
        } catch (err) {
          const code = ftpReplyCode(err);
          if (code !== undefined) return replyResponse(req, code, err, secrets);
          throw err;
        }
        try {
          return await serve(req, key, lease, target);
        } catch (err) {
          const code = ftpReplyCode(err);
          // A refusal (550, 530 …) or our own error leaves the connection usable; anything else does not.
          if ((code !== undefined && code !== 421) || err instanceof CondaValueError) pool.release(key, lease);
          else pool.discard(lease);
          // An idle connection the server dropped meanwhile: try once on a fresh one.
          if (lease.reused && round === 0 && (code === undefined || code === 421) && !(err instanceof CondaValueError)) continue;
          if (code !== undefined) return replyResponse(req, code, err, secrets);
          throw err;
        }
      }
    },
    async close() {
      pool.close();
    },
  };
}
