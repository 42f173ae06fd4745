// A plain static file server for benchmarks, in its own process so it never shares an event loop with the client.
// Usage: node bench/static-server.mjs <root>   (prints the port on stdout)
import { createServer } from 'node:http';
import { createReadStream, statSync } from 'node:fs';
import { join, normalize } from 'node:path';

const root = process.argv[2];
const server = createServer((req, res) => {
  const path = normalize(join(root, decodeURIComponent(new URL(req.url, 'http://x').pathname)));
  let st;
  try { st = statSync(path); } catch { res.writeHead(404); res.end(); return; }
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const start = m ? Number(m[1]) : 0;
  const headers = { 'content-length': String(st.size - start), 'accept-ranges': 'bytes', etag: `"${st.size}-${st.mtimeMs}"` };
  if (start) headers['content-range'] = `bytes ${start}-${st.size - 1}/${st.size}`;
  res.writeHead(start ? 206 : 200, headers);
  createReadStream(path, { start, highWaterMark: 1 << 20 }).pipe(res);
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
