/**
 * Regression: undici 7's HTTP/1 parser asserts (uncatchably, crashing the process) when a
 * `Connection: close` response ends while its body is paused by backpressure
 * (nodejs/undici#5360, fixed only in undici 8). The session must survive it, and the body must
 * still arrive whole (the guard holds the FIN back until the body is read again).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { download } from '../../../src/index.js';
import { createSession } from '../../../src/session/index.js';
import { fromSystemError } from '../../../src/errors/from-system.js';
import { isRetryableError } from '../../../src/session/retry/classify.js';
import { bytes, sha256, tempDir } from '../../helpers/fs.js';
import { testSettings } from '../../helpers/settings.js';

async function closingServer(t: import('node:test').TestContext, body: Buffer) {
  let requests = 0;
  const sockets = new Set<Socket>();
  const server = createServer((sock) => {
    sockets.add(sock);
    sock.on('error', () => undefined);
    sock.once('data', (data) => {
      requests++;
      const range = /range: bytes=(\d+)-/i.exec(data.toString());
      const start = range ? Number(range[1]) : 0;
      const part = body.subarray(start);
      const status = start ? `206 Partial Content\r\nContent-Range: bytes ${start}-${body.length - 1}/${body.length}` : '200 OK';
      sock.write(`HTTP/1.1 ${status}\r\nContent-Length: ${part.length}\r\nETag: "c"\r\nConnection: close\r\n\r\n`);
      sock.end(part);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
  }));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/f`, requests: () => requests };
}

test('a Connection: close response whose body is read late does not crash the process', async (t) => {
  const body = bytes(64 * 1024, 5);
  const server = await closingServer(t, body);
  const session = createSession({ settings: testSettings() });
  t.after(() => session.close());
  const res = await session.fetch(server.url);
  await new Promise((r) => setTimeout(r, 300));
  // The server's FIN came while the body was paused: the guard holds it back until the body is
  // read again, so the whole body arrives and the process is still here.
  const got = Buffer.from(await res.arrayBuffer());
  assert.equal(got.length, body.length);
  assert.deepEqual(got, body);
});

test('should the paused-body assertion still fire, the guard cuts the connection with a retryable error', () => {
  // The fallback path (an undici whose parser the guard cannot see): the cut is a CG_CONNECTION that download() resumes.
  const cut = Object.assign(new Error('the server closed the connection while the response body was paused'), { code: 'UND_ERR_SOCKET' });
  assert.equal(fromSystemError(cut), 'CG_CONNECTION');
  assert.equal(isRetryableError(cut), true);
});

test('download() over Connection: close responses with a slow writer ends verified', async (t) => {
  const body = bytes(100_000, 6);
  const server = await closingServer(t, body);
  const dir = await tempDir(t);
  // Hold the first response unread long enough for the server's FIN to arrive while paused.
  const session = createSession({ settings: testSettings({ remoteMaxRetries: 10 }), sleep: async () => undefined });
  t.after(() => session.close());
  const first = await session.fetch(server.url);
  await new Promise((r) => setTimeout(r, 200));
  await first.arrayBuffer().catch(() => undefined);
  const result = await download(server.url, join(dir, 'f.bin'), {
    sha256: sha256(body), session,
    onProgress: () => {
      const until = Date.now() + 20;
      while (Date.now() < until) { /* a slow consumer: let backpressure pause the parser */ }
    },
  });
  assert.equal(result.sha256, sha256(body));
  assert.deepEqual(await readFile(join(dir, 'f.bin')), body);
});
