/**
 * A real HTTP(S) file server for tests on 127.0.0.1:0: serves in-memory files with
 * ETag, Last-Modified and Range, records every request, and applies scripted faults
 * per path (one fault per request, in order; then normal service).
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createHash } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import type { TestContext } from 'node:test';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
}

export interface ServedFile {
  body: Buffer;
  etag?: string;
  lastModified?: string;
  contentType?: string;
}

/** A fault handles the request itself and returns true, or returns false to let normal service run. */
export type Fault = (req: IncomingMessage, res: ServerResponse, file: ServedFile | undefined, server: FileServer) => boolean | Promise<boolean>;

export interface FileServer {
  url: string;
  port: number;
  requests: RecordedRequest[];
  files: Map<string, ServedFile>;
  setFile(path: string, body: Buffer | string, extra?: Partial<ServedFile>): ServedFile;
  /** Faults for the next requests to `path`, one per request. */
  script(path: string, faults: Fault[]): void;
  /** A handler for a path that replaces normal service for every request. */
  route(path: string, handler: (req: IncomingMessage, res: ServerResponse) => void): void;
  requestsFor(path: string): RecordedRequest[];
  close(): Promise<void>;
}

export interface StartOptions {
  tls?: { key: string | Buffer; cert: string | Buffer; ca?: string | Buffer; requestCert?: boolean };
}

export function etagOf(body: Buffer): string {
  return `"${createHash('sha1').update(body).digest('hex').slice(0, 16)}"`;
}

export async function startFileServer(t: TestContext | undefined, options: StartOptions = {}): Promise<FileServer> {
  const files = new Map<string, ServedFile>();
  const scripts = new Map<string, Fault[]>();
  const routes = new Map<string, (req: IncomingMessage, res: ServerResponse) => void>();
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();

  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push({ method: req.method ?? 'GET', path, headers: req.headers });
    const route = routes.get(path);
    if (route) return route(req, res);
    const file = files.get(path);
    const fault = scripts.get(path)?.shift();
    if (fault && (await fault(req, res, file, server))) return;
    serveFile(req, res, file);
  };

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    handler(req, res).catch((err) => {
      res.destroy(err as Error);
    });
  };
  const http: Server = options.tls
    ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert, ca: options.tls.ca, requestCert: options.tls.requestCert ?? false, rejectUnauthorized: options.tls.requestCert ?? false }, listener)
    : createHttpServer(listener);
  http.keepAliveTimeout = 500;
  http.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  http.on('secureConnection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;

  const server: FileServer = {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    requests,
    files,
    setFile(path, body, extra = {}) {
      const buf = typeof body === 'string' ? Buffer.from(body) : body;
      const entry: ServedFile = { body: buf, etag: etagOf(buf), lastModified: new Date(1_700_000_000_000).toUTCString(), ...extra };
      files.set(path, entry);
      return entry;
    },
    script(path, faults) {
      scripts.set(path, [...(scripts.get(path) ?? []), ...faults]);
    },
    route(path, fn) {
      routes.set(path, fn);
    },
    requestsFor(path) {
      return requests.filter((r) => r.path === path);
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
  t?.after(() => server.close());
  return server;
}

/** Normal service: 404, 200, 206 with Content-Range, 416, If-Range, HEAD. */
export function serveFile(req: IncomingMessage, res: ServerResponse, file: ServedFile | undefined, override: { body?: Buffer } = {}): void {
  if (!file) {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'not found' }));
    return;
  }
  const body = override.body ?? file.body;
  const headers: Record<string, string> = {
    'content-type': file.contentType ?? 'application/octet-stream',
    'accept-ranges': 'bytes',
  };
  if (file.etag) headers.etag = file.etag;
  if (file.lastModified) headers['last-modified'] = file.lastModified;
  const range = req.headers.range;
  const ifRange = req.headers['if-range'];
  const ifRangeOk = !ifRange || ifRange === file.etag || ifRange === file.lastModified;
  if (range && ifRangeOk) {
    const m = /^bytes=(\d+)-(\d*)$/.exec(range);
    const start = m ? Number(m[1]) : NaN;
    const end = m && m[2] ? Math.min(Number(m[2]), body.length - 1) : body.length - 1;
    if (!m || start >= body.length) {
      res.writeHead(416, { ...headers, 'content-range': `bytes */${body.length}` });
      res.end();
      return;
    }
    res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${end}/${body.length}`, 'content-length': String(end - start + 1) });
    res.end(req.method === 'HEAD' ? undefined : body.subarray(start, end + 1));
    return;
  }
  res.writeHead(200, { ...headers, 'content-length': String(body.length) });
  res.end(req.method === 'HEAD' ? undefined : body);
}
