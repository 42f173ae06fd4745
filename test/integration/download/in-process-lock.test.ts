/**
 * Issue 15 item 8. conda's download() waits on the `.partial` lock (conda's lock timeout); two
 * download() calls for one target in the same process must behave as two processes do: the
 * waiter honours lockTimeoutMs, and once the writer is done it reuses the verified file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { download, isGatewayError } from '../../../src/index.js';
import { startFileServer } from '../../helpers/servers/http.js';
import { bytes, listDir, sha256, tempDir } from '../../helpers/fs.js';
import { testSettings } from '../../helpers/settings.js';

test('in one process: a waiter gives up after lockTimeoutMs, another waits and reuses the finished file', async (t) => {
  const server = await startFileServer(t);
  const body = bytes(300_000, 5);
  server.route('/slow.conda', (_req, res) => {
    res.writeHead(200, { 'content-length': String(body.length) });
    let offset = 0;
    const timer = setInterval(() => {
      res.write(body.subarray(offset, offset + 30_000));
      offset += 30_000;
      if (offset >= body.length) {
        clearInterval(timer);
        res.end();
      }
    }, 100);
  });
  const dir = await tempDir(t);
  const target = join(dir, 'slow.conda');
  const url = `${server.url}/slow.conda`;
  const opts = { sha256: sha256(body), settings: testSettings() };
  const writer = download(url, target, opts);
  await new Promise((r) => setTimeout(r, 150));

  const started = performance.now();
  await assert.rejects(download(url, target, { ...opts, lockTimeoutMs: 300 }),
    (e: unknown) => isGatewayError(e) && e.name === 'LockError' && /another download in this process/.test(e.message));
  const waitedMs = performance.now() - started;
  assert.ok(waitedMs < 900, `gave up after ${Math.round(waitedMs)} ms, not when the writer finished`);

  const patient = download(url, target, opts);
  const [first, second] = await Promise.all([writer, patient]);
  assert.equal(first.reused, false);
  assert.equal(second.reused, true, 'the waiter reuses the verified file instead of downloading again');
  assert.equal(server.requestsFor('/slow.conda').length, 1, 'one transfer in all');
  assert.deepEqual(await readFile(target), body);
  assert.deepEqual(await listDir(dir), ['slow.conda']);
});

test('an aborted in-process waiter stops waiting at once and does not block the next one', async (t) => {
  const server = await startFileServer(t);
  const body = bytes(100_000, 6);
  server.route('/slow.conda', (_req, res) => {
    res.writeHead(200, { 'content-length': String(body.length) });
    setTimeout(() => res.end(body), 600);
  });
  const dir = await tempDir(t);
  const target = join(dir, 'slow.conda');
  const url = `${server.url}/slow.conda`;
  const opts = { sha256: sha256(body), settings: testSettings() };
  const writer = download(url, target, opts);
  await new Promise((r) => setTimeout(r, 100));
  const controller = new AbortController();
  const aborted = download(url, target, { ...opts, signal: controller.signal });
  const next = download(url, target, opts);
  setTimeout(() => controller.abort(), 50);
  await assert.rejects(aborted, (e: unknown) => isGatewayError(e) && e.code === 'CG_ABORTED');
  const [a, b] = await Promise.all([writer, next]);
  assert.equal(a.reused, false);
  assert.equal(b.reused, true);
  assert.equal(server.requestsFor('/slow.conda').length, 1);
});
