/**
 * The demo's embedded channel server: static files from the demo channel on 127.0.0.1 with
 * ETag, Last-Modified, If-None-Match/If-Modified-Since (304) and Range (206). It can cut
 * the first transfer of a chosen file part-way, to show a resume.
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join, normalize, sep } from 'node:path';

export interface DemoServer {
  url: string;
  requests: Array<{ method: string; path: string; status: number }>;
  /** Cut the next transfer of `path` after `fraction` of its bytes. */
  cutOnce(path: string, fraction: number): void;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = { '.json': 'application/json', '.zst': 'application/zstd', '.msgpack': 'application/msgpack' };

export async function startDemoServer(root: string): Promise<DemoServer> {
  const cuts = new Map<string, number>();
  const requests: DemoServer['requests'] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://demo').pathname);
    const status = serve(root, path, req, res, cuts);
    requests.push({ method: req.method ?? 'GET', path, status });
  });
  server.keepAliveTimeout = 1000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    cutOnce: (path, fraction) => cuts.set(path, fraction),
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

function serve(root: string, path: string, req: IncomingMessage, res: ServerResponse, cuts: Map<string, number>): number {
  const full = normalize(join(root, path));
  let size: number;
  let mtime: Date;
  try {
    if (!full.startsWith(root + sep)) throw new Error('outside');
    const st = statSync(full);
    if (!st.isFile()) throw new Error('not a file');
    size = st.size;
    mtime = st.mtime;
  } catch {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'not found', path }));
    return 404;
  }
  const etag = `"${size.toString(16)}-${Math.floor(mtime.getTime() / 1000).toString(16)}"`;
  const lastModified = new Date(Math.floor(mtime.getTime() / 1000) * 1000).toUTCString();
  const ext = /\.[a-z]+$/.exec(full)?.[0] ?? '';
  const headers: Record<string, string> = {
    'content-type': TYPES[ext] ?? 'application/octet-stream', etag, 'last-modified': lastModified,
    'accept-ranges': 'bytes', 'cache-control': 'public, max-age=30',
  };
  if (req.headers['if-none-match'] === etag || (!req.headers['if-none-match'] && req.headers['if-modified-since'] === lastModified)) {
    res.writeHead(304, headers);
    res.end();
    return 304;
  }
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const ifRange = req.headers['if-range'];
  const start = range && (!ifRange || ifRange === etag || ifRange === lastModified) ? Number(range[1]) : 0;
  if (start >= size && size > 0) {
    res.writeHead(416, { ...headers, 'content-range': `bytes */${size}` });
    res.end();
    return 416;
  }
  const status = start > 0 ? 206 : 200;
  if (start > 0) headers['content-range'] = `bytes ${start}-${size - 1}/${size}`;
  headers['content-length'] = String(size - start);
  res.writeHead(status, headers);
  if (req.method === 'HEAD') {
    res.end();
    return status;
  }
  const cut = cuts.get(req.url ? decodeURIComponent(new URL(req.url, 'http://demo').pathname) : '');
  if (cut !== undefined && start === 0) {
    cuts.delete(decodeURIComponent(new URL(req.url ?? '/', 'http://demo').pathname));
    const stream = createReadStream(full, { start: 0, end: Math.max(0, Math.floor(size * cut) - 1) });
    stream.pipe(res, { end: false });
    stream.on('end', () => setTimeout(() => res.socket?.destroy(), 20));
    return status;
  }
  createReadStream(full, { start }).pipe(res);
  return status;
}
