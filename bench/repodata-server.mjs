// Channel server for bench/repodata.ts, in its own process: /<subdir>/repodata.json.zst from <root>/<file> with
// ETag, Last-Modified and Cache-Control, and 304 for If-None-Match. `big` maps to big.json.zst, anything else to small.json.zst.
// Usage: node bench/repodata-server.mjs <root>   (prints the port on stdout)
import { createServer } from 'node:http';
import { createReadStream, statSync } from 'node:fs';
import { join } from 'node:path';

const root = process.argv[2];
const server = createServer((req, res) => {
  const [, subdir, file] = new URL(req.url, 'http://x').pathname.split('/');
  if (file !== 'repodata.json.zst') { res.writeHead(404); res.end(); return; }
  const path = join(root, subdir === 'big' ? 'big.json.zst' : 'small.json.zst');
  const st = statSync(path);
  const etag = `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
  const headers = { etag, 'last-modified': st.mtime.toUTCString(), 'cache-control': 'public, max-age=30' };
  if (req.headers['if-none-match'] === etag) { res.writeHead(304, headers); res.end(); return; }
  res.writeHead(200, { ...headers, 'content-length': String(st.size), 'content-type': 'application/zstd' });
  createReadStream(path, { highWaterMark: 1 << 20 }).pipe(res);
});
server.keepAliveTimeout = 5000;
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
