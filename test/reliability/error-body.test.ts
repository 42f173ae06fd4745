/**
 * Issue 16 item 3 (error bodies): an endless 404 body used to be read whole before the 64 KiB
 * cut (>2 GB RSS in 14 s). Now at most 64 KiB is read and the rest cancelled: the download
 * fails at once with a typed CondaHTTPError, memory stays flat, and the server sees the client
 * go away after a bounded number of bytes.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { CondaHTTPError, download, downloadText, fetchRepodata } from '../../src/index.js';
import { startFileServer } from '../helpers/servers/http.js';
import { listDir, tempDir } from '../helpers/fs.js';
import { noSleep, testSettings } from '../helpers/settings.js';

const CHUNK = Buffer.alloc(256 * 1024, 0x7b); // '{{{{…': looks like the start of JSON, never ends

/** Write CHUNK until the client hangs up; record how much went out. */
function endless(res: ServerResponse, sent: { bytes: number; closed: boolean }): void {
  const pump = (): void => {
    while (!res.destroyed && sent.bytes < 8 * 1024 * 1024 * 1024) {
      sent.bytes += CHUNK.length;
      if (!res.write(CHUNK)) {
        res.once('drain', pump);
        return;
      }
    }
  };
  res.on('close', () => {
    sent.closed = true;
  });
  pump();
}

async function endlessServer(t: TestContext, status: number, headers: Record<string, string> = {}) {
  const server = await startFileServer(t);
  const sent = { bytes: 0, closed: false };
  server.route('/c/noarch/p-1-0.conda', (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    endless(res, sent);
  });
  return { server, sent };
}

async function untilClosed(sent: { closed: boolean }): Promise<void> {
  for (let i = 0; i < 100 && !sent.closed; i++) await new Promise((r) => setTimeout(r, 20));
}

for (const [label, headers] of [['chunked', {}], ['with a Content-Length of 10 GB', { 'content-length': String(10 * 1024 ** 3) }]] as const) {
  test(`an endless 404 body (${label}) gives a CondaHTTPError after reading at most 64 KiB; memory stays flat`, async (t) => {
    const { server, sent } = await endlessServer(t, 404, headers);
    const dir = await tempDir(t);
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    const started = performance.now();
    await assert.rejects(download(`${server.url}/c/noarch/p-1-0.conda`, join(dir, 'p-1-0.conda'), { settings: testSettings(), sleep: noSleep }),
      (e: unknown) => {
        assert.ok(e instanceof CondaHTTPError, String(e));
        assert.equal(e.status, 404);
        assert.equal(e.code, 'CG_HTTP_STATUS');
        assert.deepEqual(e.json, {}, 'a body over the cap is not parsed');
        return true;
      });
    const grewMiB = (process.memoryUsage().rss - rssBefore) / 1024 / 1024;
    await untilClosed(sent);
    t.diagnostic(`endless 404 (${label}): failed after ${Math.round(performance.now() - started)} ms, server wrote ${(sent.bytes / 1024 / 1024).toFixed(1)} MiB before the client left, RSS +${grewMiB.toFixed(1)} MiB`);
    assert.ok(sent.closed, 'the client closed the connection instead of reading on');
    assert.ok(sent.bytes < 64 * 1024 * 1024, `the server could only push socket buffers' worth (${sent.bytes} bytes)`);
    assert.ok(grewMiB < 96, `RSS grew by ${grewMiB.toFixed(1)} MiB`);
    assert.deepEqual(await listDir(dir), [], 'nothing left behind');
  });
}

test('downloadText and repodata get the same bounded error body', async (t) => {
  const server = await startFileServer(t);
  const sent = { bytes: 0, closed: false };
  for (const path of ['/text.json', '/ch/linux-64/repodata.json', '/ch/linux-64/repodata.json.zst']) {
    server.route(path, (_req, res) => {
      res.writeHead(403, { 'content-type': 'application/json' });
      endless(res, sent);
    });
  }
  await assert.rejects(downloadText(`${server.url}/text.json`, { settings: testSettings(), sleep: noSleep }),
    (e: unknown) => e instanceof CondaHTTPError && e.status === 403);
  const cacheDir = await tempDir(t);
  await assert.rejects(fetchRepodata(`${server.url}/ch`, 'linux-64', { cacheDir, settings: testSettings(), sleep: noSleep }),
    (e: unknown) => e instanceof CondaHTTPError && e.status === 403);
  await untilClosed(sent);
  assert.ok(sent.bytes < 128 * 1024 * 1024, `${sent.bytes} bytes pushed in all`);
});
