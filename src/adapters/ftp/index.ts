/**
 * ftp:// adapter on basic-ftp (loaded with the adapter, on the first ftp URL): anonymous or
 * Basic-header login, passive mode, SIZE → Content-Length, MDTM → Last-Modified, Range →
 * REST → 206, reply codes as HTTP statuses, streamed bodies, connections reused per session.
 * This file logs in and picks a connection; serve.ts answers one request on it.
 */
import { createHash } from 'node:crypto';
import { Headers, Response } from '../../util/undici.js';
import { CondaDependencyError, CondaValueError } from '../../errors/classes.js';
import { maskUrl } from '../../redact/safe-url.js';
import { redactText } from '../../redact/redact-text.js';
import { jsonResponse } from '../response.js';
import type { Adapter, AdapterDeps } from '../../core/adapter.js';
import { decodedPath } from '../../core/url-path.js';
import type { DebugLog, GatewayRequest } from '../../core/types.js';
import { FtpPool, type Lease } from './pool.js';
import { ftpReplyCode, loginFrom, statusForReply, type FtpLogin } from './replies.js';
import { directoryError, serve, withCode, type Target } from './serve.js';

export const DEFAULT_FTP_PORT = 21;

/** Host, port and path of an ftp:// URL, or a CG_INVALID_ARGUMENT error. */
export function ftpTarget(url: URL): Target {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!host) {
    throw new CondaValueError(`'${maskUrl(url)}' has no host.`, { url, hint: 'Write ftp://host[:port]/path/to/file.' });
  }
  const port = url.port ? Number(url.port) : DEFAULT_FTP_PORT;
  return { host, port: port || DEFAULT_FTP_PORT, path: decodedPath(url).replace(/^\//, '') };
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

type BasicFtp = typeof import('basic-ftp');

/** What one adapter holds: the client library, its connections, and the session's timeouts and log. */
interface FtpAdapterState {
  readonly ftp: BasicFtp;
  readonly pool: FtpPool;
  readonly connectMs: number;
  readonly readMs: number;
  readonly log: DebugLog;
}

async function loadBasicFtp(): Promise<BasicFtp> {
  try {
    return await import('basic-ftp');
  } catch (err) {
    throw new CondaDependencyError(
      'basic-ftp is required for FTP channels. Please install it with `npm install basic-ftp`.', { cause: err });
  }
}

async function connect(state: FtpAdapterState, target: Target, login: FtpLogin): Promise<{ client: import('basic-ftp').Client; home: string }> {
  // Like conda's patched ftplib: data connections go to the control connection's host only.
  const client = new state.ftp.Client(state.readMs, { allowSeparateTransferHost: false });
  try {
    await timeoutAfter(client.access({ host: target.host, port: target.port, user: login.user, password: login.password, secure: false }),
      state.connectMs, `FTP login to ${target.host}:${target.port}`, () => client.close());
    const home = await client.pwd().catch(() => '/');
    state.log(`ftp: connected to ${target.host}:${target.port} as ${login.anonymous ? 'anonymous' : login.user}`);
    return { client, home };
  } catch (err) {
    client.close();
    throw withCode(err);
  }
}

/** An FTP refusal as conda shows it: the mapped HTTP status with a JSON body naming the reply. */
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

/** Lease a connection for the login and serve; an idle connection the server dropped is replaced once. */
async function send(state: FtpAdapterState, req: GatewayRequest): Promise<Response> {
  req.signal?.throwIfAborted();
  const target = ftpTarget(req.url);
  if (target.path === '' || target.path.endsWith('/')) throw directoryError(req.url);
  const login = loginFrom(req.headers.get('authorization'), req.url);
  const secrets = login.anonymous ? [] : [login.password];
  const key = `${target.host}:${target.port}:${createHash('sha256').update(`${login.user}\0${login.password}`).digest('hex')}`;
  const { pool } = state;
  for (let round = 0; ; round++) {
    let lease: Lease;
    try {
      lease = await pool.acquire(key, () => connect(state, target, login));
    } catch (err) {
      const code = ftpReplyCode(err);
      if (code !== undefined) return replyResponse(req, code, err, secrets);
      throw err;
    }
    try {
      return await serve({ req, pool, key, lease, target });
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
}

export async function createFtpAdapter(deps: AdapterDeps): Promise<Adapter> {
  const ftp = await loadBasicFtp();
  const { settings, log } = deps;
  const state: FtpAdapterState = {
    ftp, log, pool: new FtpPool(),
    connectMs: Math.round(settings.remoteConnectTimeoutSecs * 1000),
    readMs: Math.round(settings.remoteReadTimeoutSecs * 1000),
  };
  return {
    schemes: ['ftp:'],
    send: (req) => send(state, req),
    async close() {
      state.pool.close();
    },
  };
}
