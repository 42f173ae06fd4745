/**
 * A real channel server for repodata tests on 127.0.0.1: serves repodata.json, .json.zst and
 * sharded files per subdir with ETag, Last-Modified and Cache-Control, answers conditional
 * requests with 304, records requests, and can be switched per subdir to: no .zst, corrupt
 * .zst, truncated .zst, 404, a different status, or slow responses.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { TestContext } from 'node:test';
import { zstd } from '../../unit/repodata/fixtures.js';

export interface SubdirMode {
  /** No repodata.json.zst (404). */
  noZst?: boolean;
  /** .json.zst answers 200 with bytes that are not zstd. */
  corruptZst?: boolean;
  /** .json.zst answers 200 with a zstd stream cut short. */
  truncatedZst?: boolean;
  /** Every file of the subdir answers 404. */
  missing?: boolean;
  /** Status for repodata.json and .json.zst (e.g. 500). */
  status?: number;
  /** Delay before answering, in ms. */
  delayMs?: number;
  /** Status for the shard index (e.g. 404 or 501 for "no shards"). */
  shardIndexStatus?: number;
  /** Status for every shard. */
  shardStatus?: number;
}

export interface ServedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  status: number;
}

export interface ChannelServer {
  url: string;
  requests: ServedRequest[];
  /** Replace a subdir's repodata.json (object or raw text); .zst follows. */
  setRepodata(subdir: string, repodata: unknown): void;
  /** Files under a subdir, e.g. from shardedSubdir(). */
  setFiles(subdir: string, files: Map<string, Buffer>): void;
  mode(subdir: string, mode: SubdirMode): void;
  cacheControl: string;
  requestsFor(pathSuffix: string): ServedRequest[];
  clear(): void;
  close(): Promise<void>;
}

interface Entry { body: Buffer; etag: string; lastModified: string }

export async function startChannelServer(t: TestContext | undefined): Promise<ChannelServer> {
  const files = new Map<string, Entry>();
  const modes = new Map<string, SubdirMode>();
  const requests: ServedRequest[] = [];
  const sockets = new Set<Socket>();
  let clock = Date.UTC(2026, 10, 1);

  const put = (path: string, body: Buffer): void => {
    clock += 1000;
    files.set(path, {
      body, etag: `"${createHash('sha1').update(body).digest('hex').slice(0, 16)}"`, lastModified: new Date(clock).toUTCString(),
    });
  };

  const server = createServer((req, res) => {
    // A channel may also be reached under a name (`/<name>/<subdir>/...`), as through channel_alias.
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/t\/[^/]+(?=\/)/, '').replace(/^\/chan(?=\/)/, '');
    const subdir = path.split('/')[1] ?? '';
    const file = path.split('/').slice(2).join('/');
    const mode = modes.get(subdir) ?? {};
    const answer = (status: number, headers: Record<string, string> = {}, body?: Buffer): void => {
      requests.push({ method: req.method ?? 'GET', path, headers: req.headers, status });
      res.writeHead(status, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const respond = (): void => {
      let entry = files.get(path);
      const isRepodata = file === 'repodata.json' || file === 'repodata.json.zst';
      if (mode.missing) return answer(404, { 'content-type': 'application/json' }, Buffer.from('{"error":"not found"}'));
      if (isRepodata && mode.status) return answer(mode.status, {}, Buffer.from('error'));
      if (file === 'repodata_shards.msgpack.zst' && mode.shardIndexStatus) return answer(mode.shardIndexStatus);
      if (file.startsWith('shards/') && mode.shardStatus) return answer(mode.shardStatus);
      if (file === 'repodata.json.zst' && entry) {
        if (mode.noZst) entry = undefined;
        else if (mode.corruptZst) entry = { ...entry, body: Buffer.from('<html>this is not zstd</html>') };
        else if (mode.truncatedZst) entry = { ...entry, body: entry.body.subarray(0, Math.floor(entry.body.length / 2)) };
      }
      if (!entry) return answer(404, { 'content-type': 'application/json' }, Buffer.from('{"error":"not found"}'));
      const headers = { etag: entry.etag, 'last-modified': entry.lastModified, 'cache-control': api.cacheControl };
      const inm = req.headers['if-none-match'];
      const ims = req.headers['if-modified-since'];
      if ((inm !== undefined && inm === entry.etag) || (inm === undefined && ims === entry.lastModified)) {
        return answer(304, headers);
      }
      return answer(200, { ...headers, 'content-length': String(entry.body.length) }, entry.body);
    };
    if (mode.delayMs) setTimeout(respond, mode.delayMs);
    else respond();
  });
  server.keepAliveTimeout = 500;
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  const api: ChannelServer = {
    url: `http://127.0.0.1:${port}`,
    requests,
    cacheControl: 'public, max-age=30',
    setRepodata(subdir, repodata) {
      const text = Buffer.from(typeof repodata === 'string' ? repodata : JSON.stringify(repodata));
      put(`/${subdir}/repodata.json`, text);
      put(`/${subdir}/repodata.json.zst`, zstd(text));
    },
    setFiles(subdir, map) {
      for (const [name, body] of map) put(`/${subdir}/${name}`, body);
    },
    mode(subdir, mode) {
      modes.set(subdir, mode);
    },
    requestsFor(suffix) {
      return requests.filter((r) => r.path.endsWith(suffix));
    },
    clear() {
      requests.length = 0;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  t?.after(() => api.close());
  return api;
}
