/** download() with a caller's session: retries reach each download's own onRetry; the session's adapters decide the schemes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Response } from 'undici';
import { download, isGatewayError, type RetryEvent } from '../../../src/index.js';
import { createSession } from '../../../src/session/index.js';
import type { Adapter, AdapterFactory } from '../../../src/core/adapter.js';
import { startFileServer, type Fault } from '../../helpers/servers/http.js';
import { dropAfterBytes, status } from '../../helpers/faults.js';
import { bytes, listDir, sha256, tempDir } from '../../helpers/fs.js';
import { noSleep, testSettings } from '../../helpers/settings.js';

/** Close the connection before any answer: a transport error the session's retry middleware retries. */
const resetBeforeAnswer: Fault = (_req, res) => {
  res.socket?.destroy();
  return true;
};

test('with a shared session, each download hears its own transport retries through its onRetry', async (t) => {
  const server = await startFileServer(t);
  const a = bytes(50_000, 1);
  const b = bytes(60_000, 2);
  server.setFile('/a.bin', a);
  server.setFile('/b.bin', b);
  server.script('/a.bin', [status(503)]);
  server.script('/b.bin', [resetBeforeAnswer, status(502), dropAfterBytes(10_000)]);
  const dir = await tempDir(t);
  const session = createSession({ settings: testSettings(), sleep: noSleep });
  t.after(() => session.close());
  const seenA: RetryEvent[] = [];
  const seenB: RetryEvent[] = [];
  const [ra, rb] = await Promise.all([
    download(`${server.url}/a.bin`, join(dir, 'a.bin'), { session, sha256: sha256(a), sleep: noSleep, onRetry: (e) => seenA.push(e) }),
    download(`${server.url}/b.bin`, join(dir, 'b.bin'), { session, sha256: sha256(b), sleep: noSleep, onRetry: (e) => seenB.push(e) }),
  ]);
  assert.deepEqual(await readFile(ra.path), a);
  assert.deepEqual(await readFile(rb.path), b);
  assert.deepEqual(seenA.map((e) => [e.url.endsWith('/a.bin'), e.reason]), [[true, 'HTTP 503']]);
  // b: a reset and a 502 retried inside the session, then a body cut short that download() resumes.
  assert.equal(seenB.length, 3);
  assert.ok(seenB.every((e) => e.url.endsWith('/b.bin')), JSON.stringify(seenB));
  assert.equal(seenB[1]!.reason, 'HTTP 502');
  assert.ok(seenB[0]!.reason !== 'HTTP 502' && !seenB[0]!.reason.startsWith('HTTP'), seenB[0]!.reason);
  assert.ok(!seenB[2]!.reason.startsWith('HTTP'), seenB[2]!.reason);
  // The resume asked for the rest only.
  assert.equal(server.requests.filter((r) => r.path === '/b.bin').at(-1)!.headers.range, 'bytes=10000-');
  assert.deepEqual(await listDir(dir), ['a.bin', 'b.bin']);
});

test('download() without a session reports the session retries once each (no double report)', async (t) => {
  const server = await startFileServer(t);
  const a = bytes(20_000, 3);
  server.setFile('/a.bin', a);
  server.script('/a.bin', [status(503), status(500)]);
  const dir = await tempDir(t);
  const seen: RetryEvent[] = [];
  await download(`${server.url}/a.bin`, join(dir, 'a.bin'), {
    settings: testSettings(), sha256: sha256(a), sleep: noSleep, onRetry: (e) => seen.push(e),
  });
  assert.deepEqual(seen.map((e) => [e.attempt, e.reason]), [[1, 'HTTP 503'], [2, 'HTTP 500']]);
});

const memAdapter: AdapterFactory = (): Adapter => ({
  schemes: ['mem:'],
  async send(req) {
    return new Response(`bytes of ${req.url.pathname}`, { status: 200, headers: { 'content-length': String(`bytes of ${req.url.pathname}`.length) } });
  },
  async close() {},
});

test("download() serves the schemes of the session's adapters, not only the built-in ones", async (t) => {
  const dir = await tempDir(t);
  const settings = testSettings();
  const session = createSession({ settings, adapters: { 'mem:': async () => memAdapter } });
  t.after(() => session.close());
  const body = 'bytes of /pkg.conda';
  const result = await download('mem:/pkg.conda', join(dir, 'pkg.conda'), { session, sha256: sha256(body) });
  assert.equal(await readFile(result.path, 'utf8'), body);
  assert.equal(result.unverified, false);
  // Without that session the scheme is refused before anything is written, naming what is served.
  await assert.rejects(download('mem:/pkg.conda', join(dir, 'other.conda'), { settings }), (e: unknown) => {
    assert.ok(isGatewayError(e) && e.code === 'CG_UNSUPPORTED_SCHEME');
    assert.match(e.message, /supported schemes: http, https, file, ftp, s3, oci\./);
    return true;
  });
  assert.deepEqual(await listDir(dir), ['pkg.conda']);
});
