import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { pathToFileURL } from 'node:url';
import { download, isGatewayError, loadSettings, type AuthHandler, type Settings } from '../../../src/index.js';
import { createSession } from '../../../src/session/index.js';
import { startFileServer } from '../../helpers/servers/http.js';
import { startFtpServer } from '../../helpers/servers/ftp.js';
import { startS3Server } from '../../helpers/servers/s3.js';
import { bytes, listDir, sha256, tempDir } from '../../helpers/fs.js';
import { testSettings } from '../../helpers/settings.js';

/** A TCP port that counts connections (stands in for an https server: nothing may connect). */
async function countingPort(t: import('node:test').TestContext) {
  const state = { connections: 0 };
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    state.connections++;
    sockets.add(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return { port: (server.address() as AddressInfo).port, state };
}

function offlineRefusal(url: string) {
  return (e: unknown): boolean => {
    assert.ok(isGatewayError(e), String(e));
    assert.equal(e.code, 'CG_OFFLINE');
    assert.equal(e.name, 'OfflineError');
    assert.match(e.message, /^EnforceUnusedAdapter called with url .+\.\nThis command is using a remote connection in offline mode\.$/);
    assert.ok(e.message.includes(url), e.message);
    return true;
  };
}

async function offlineSession(t: import('node:test').TestContext, settings: Settings) {
  const calls = { auth: 0, retries: 0 };
  const authHandler: AuthHandler = {
    authenticate(req) {
      calls.auth++;
      return req;
    },
  };
  const session = createSession({ settings, authHandler, onRetry: () => calls.retries++ });
  t.after(() => session.close());
  return { session, calls };
}

test('offline mode refuses http, https, ftp and s3 before auth, retries or any connection', async (t) => {
  const http = await startFileServer(t);
  http.setFile('/chan/noarch/repodata.json', '{}');
  const https = await countingPort(t);
  const ftp = await startFtpServer(t);
  await ftp.setFile('/chan/noarch/repodata.json', '{}');
  const s3 = await startS3Server(t);
  const { session, calls } = await offlineSession(t, testSettings({ offline: true, remoteMaxRetries: 3 }, s3.env()));
  const urls = [
    `${http.url}/chan/noarch/repodata.json`,
    `https://127.0.0.1:${https.port}/chan/noarch/repodata.json`,
    `${ftp.url}/chan/noarch/repodata.json`,
    `s3://${s3.bucket}/chan/noarch/repodata.json`,
  ];
  for (const url of urls) await assert.rejects(session.fetch(url), offlineRefusal(url));
  assert.equal(http.requests.length, 0);
  assert.equal(https.state.connections, 0);
  assert.equal(ftp.connections, 0);
  assert.equal(s3.connections, 0);
  assert.deepEqual(calls, { auth: 0, retries: 0 });
});

test('CONDA_OFFLINE=true refuses a download before any socket, writes nothing and masks credentials', async (t) => {
  const ftp = await startFtpServer(t);
  const settings = loadSettings({ env: { CONDA_OFFLINE: 'true' } });
  assert.equal(settings.offline, true);
  const out = await tempDir(t);
  const url = `ftp://alice:pa55-0ffline@127.0.0.1:${ftp.port}/chan/pkg.conda`;
  const err = await download(url, join(out, 'pkg.conda'), { sha256: 'a'.repeat(64), settings }).then(
    () => assert.fail('expected OfflineError'), (e: unknown) => e);
  assert.ok(isGatewayError(err) && err.code === 'CG_OFFLINE');
  for (const text of [String(err), inspect(err), JSON.stringify(err), err.stack ?? '']) assert.ok(!text.includes('pa55-0ffline'), text);
  assert.equal(ftp.connections, 0);
  assert.deepEqual(await listDir(out), []);
});

test('file:// keeps working in offline mode, through session.fetch and download()', async (t) => {
  const dir = await tempDir(t);
  const body = bytes(50_000, 2);
  await writeFile(join(dir, 'pkg.conda'), body);
  const url = pathToFileURL(join(dir, 'pkg.conda')).href;
  const { session, calls } = await offlineSession(t, testSettings({ offline: true }));
  const res = await session.fetch(url);
  assert.equal(res.status, 200);
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), body);
  assert.equal(calls.auth, 1);
  const out = await tempDir(t);
  const result = await download(url, join(out, 'pkg.conda'), { sha256: sha256(body), settings: testSettings({ offline: true }) });
  assert.equal(result.bytes, body.length);
});
