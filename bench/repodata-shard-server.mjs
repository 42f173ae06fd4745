// Sharded channel for bench/repodata.ts over TLS, h2 offered (ALPN) with HTTP/1.1 allowed, every answer delayed.
// Usage: node bench/repodata-shard-server.mjs <dir> <key.pem> <cert.pem> <delayMs>   (prints the port on stdout)
// <dir> holds <subdir>/repodata_shards.msgpack.zst and <subdir>/shards/<hex>.msgpack.zst.
import { createSecureServer } from 'node:http2';
import { readFileSync } from 'node:fs';
import { join, normalize } from 'node:path';

const [dir, keyPath, certPath, delay] = process.argv.slice(2);
const server = createSecureServer({ key: readFileSync(keyPath), cert: readFileSync(certPath), allowHTTP1: true }, (req, res) => {
  setTimeout(() => {
    let body;
    try {
      body = readFileSync(join(dir, normalize(new URL(req.url, 'https://x').pathname)));
    } catch {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-length': String(body.length) }).end(body);
  }, Number(delay));
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
