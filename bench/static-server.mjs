// A plain static file server for benchmarks, in its own process so it never shares an event loop with the client.
// Usage: node bench/static-server.mjs <root> [rate-MiB/s]   (prints the port on stdout)
// With a rate, every response shares one pacer: the total of all bodies leaves at most that fast,
// as through one link (loopback is free, so a ratio against fetch alone mostly measures the disk).
import { createServer } from 'node:http';
import { createReadStream, statSync } from 'node:fs';
import { once } from 'node:events';
import { join, normalize } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const root = process.argv[2];
const rate = Number(process.argv[3] ?? 0) * 1024 * 1024;
let nextFree = performance.now();

/** Wait for this chunk's turn on the link: chunks leave in order, `rate` bytes per second in all. */
async function pace(bytes) {
  const now = performance.now();
  nextFree = Math.max(now, nextFree) + (bytes / rate) * 1000;
  if (nextFree - now > 1) await sleep(nextFree - now);
}

async function paced(stream, res) {
  for await (const chunk of stream) {
    await pace(chunk.length);
    if (!res.write(chunk)) await once(res, 'drain');
  }
  res.end();
}

const server = createServer((req, res) => {
  const path = normalize(join(root, decodeURIComponent(new URL(req.url, 'http://x').pathname)));
  let st;
  try { st = statSync(path); } catch { res.writeHead(404); res.end(); return; }
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const start = m ? Number(m[1]) : 0;
  const headers = { 'content-length': String(st.size - start), 'accept-ranges': 'bytes', etag: `"${st.size}-${st.mtimeMs}"` };
  if (start) headers['content-range'] = `bytes ${start}-${st.size - 1}/${st.size}`;
  res.writeHead(start ? 206 : 200, headers);
  const body = createReadStream(path, { start, highWaterMark: rate ? 64 * 1024 : 1 << 20 });
  if (!rate) body.pipe(res);
  else paced(body, res).catch(() => res.destroy());
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
