import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { CondaHTTPError, download, isGatewayError } from '../../../src/index.js';
import { createSession } from '../../../src/session/index.js';
import { startFtpServer } from '../../helpers/servers/ftp.js';
import { bytes, listDir, md5, sha256, tempDir } from '../../helpers/fs.js';
import { noSleep, testSettings } from '../../helpers/settings.js';

const SIZE = 400_000;
const PASSWORD = 's3cret-ftp';

async function setup(t: import('node:test').TestContext, settingsEnv: Record<string, string> = {}) {
  const server = await startFtpServer(t, { users: { alice: PASSWORD } });
  const body = bytes(SIZE, 11);
  await server.setFile('/pub/noarch/pkg-1.0-0.conda', body);
  const out = await tempDir(t, 'cg-out-');
  const settings = testSettings({}, settingsEnv);
  const session = createSession({ settings, sleep: noSleep });
  t.after(() => session.close());
  const path = '/pub/noarch/pkg-1.0-0.conda';
  return { server, body, out, settings, session, path, url: `${server.url}${path}` };
}

function assertNoSecret(err: unknown, secret: string): void {
  for (const text of [String(err), (err as Error).stack ?? '', inspect(err, { depth: 5 }), JSON.stringify(err)]) {
    assert.ok(!text.includes(secret), `secret leaked in: ${text.slice(0, 300)}`);
  }
}

test('anonymous FTP answers 200 with Content-Length (SIZE) and Last-Modified (MDTM), and streams the body', async (t) => {
  const { server, body, session, url } = await setup(t);
  const res = await session.fetch(url);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-length'), String(SIZE));
  const mtime = (await stat(join(server.root, 'pub/noarch/pkg-1.0-0.conda'))).mtime;
  assert.equal(res.headers.get('last-modified'), new Date(Math.floor(mtime.getTime() / 1000) * 1000).toUTCString());
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), body);
  assert.deepEqual(server.logins, [{ username: 'anonymous', ok: true }]);
});

test('one session reuses its FTP connection and closes it with the session', async (t) => {
  const { server, url } = await setup(t);
  const session = createSession({ settings: testSettings() });
  for (let i = 0; i < 3; i++) {
    const res = await session.fetch(url);
    await res.arrayBuffer();
    await new Promise((r) => setImmediate(r));
  }
  const head = await session.fetch(url, { method: 'HEAD' });
  assert.equal(head.body, null);
  assert.equal(server.connections, 1);
  await session.close();
  const again = createSession({ settings: testSettings() });
  t.after(() => again.close());
  await (await again.fetch(url)).arrayBuffer();
  assert.equal(server.connections, 2);
});

test('user:password in the URL logs in as that user; the password never shows up', async (t) => {
  const { server, body, out } = await setup(t);
  const logs: string[] = [];
  const url = `ftp://alice:${PASSWORD}@127.0.0.1:${server.port}/pub/noarch/pkg-1.0-0.conda`;
  const result = await download(url, join(out, 'pkg.conda'), { sha256: sha256(body), settings: testSettings(), log: (m) => logs.push(m) });
  assert.equal(result.bytes, SIZE);
  assert.deepEqual(server.logins, [{ username: 'alice', ok: true }]);
  assert.ok(!result.url.toString().includes(PASSWORD));
  assert.ok(!JSON.stringify(result).includes(PASSWORD));
  assert.ok(!logs.join('\n').includes(PASSWORD));
});

test('a wrong password is a 401 CondaHTTPError with conda\'s help text, without the password, and nothing is written', async (t) => {
  const { server, out, session } = await setup(t);
  const secret = 'wr0ng-Pa55word';
  const url = `ftp://alice:${secret}@127.0.0.1:${server.port}/pub/noarch/pkg-1.0-0.conda`;
  const res = await session.fetch(url);
  assert.equal(res.status, 401);
  const body = await res.text();
  assert.match(body, /login failed/);
  assert.ok(!body.includes(secret));
  const err = await download(url, join(out, 'pkg.conda'), { sha256: 'a'.repeat(64), settings: testSettings() }).then(
    () => assert.fail('expected a failure'), (e: unknown) => e);
  assert.ok(err instanceof CondaHTTPError);
  assert.equal(err.status, 401);
  assert.match(err.message, /^HTTP 401 UNAUTHORIZED for url <ftp:\/\/127\.0\.0\.1:\d+\/pub\/noarch\/pkg-1\.0-0\.conda>/);
  assert.match(err.message, /The credentials you have provided for this URL are invalid/);
  assertNoSecret(err, secret);
  assert.deepEqual(await listDir(out), []);
});

test('.netrc credentials are used for an FTP host', async (t) => {
  const home = await tempDir(t, 'cg-home-');
  const netrc = join(home, 'netrc');
  await writeFile(netrc, `machine 127.0.0.1 login alice password ${PASSWORD}\n`, { mode: 0o600 });
  const { server, body, out } = await setup(t);
  const result = await download(`${server.url}/pub/noarch/pkg-1.0-0.conda`, join(out, 'pkg.conda'), {
    sha256: sha256(body), settings: testSettings({}, { NETRC: netrc }),
  });
  assert.equal(result.bytes, SIZE);
  assert.deepEqual(server.logins, [{ username: 'alice', ok: true }]);
});

test('a missing file is a 404 with conda\'s JSON body; download() fails with CondaHTTPError and writes nothing', async (t) => {
  const { server, out, session } = await setup(t);
  const res = await session.fetch(`${server.url}/pub/noarch/nope.conda`);
  assert.equal(res.status, 404);
  const body = await res.json() as Record<string, string>;
  assert.equal(body.error, 'file does not exist');
  assert.match(body.exception!, /550/);
  await assert.rejects(download(`${server.url}/pub/noarch/nope.conda`, join(out, 'nope.conda'), { settings: testSettings() }),
    (e: unknown) => e instanceof CondaHTTPError && e.status === 404);
  assert.deepEqual(await listDir(out), []);
});

test('Range becomes REST and a 206 with Content-Range; a bounded range stops early', async (t) => {
  const { server, body, session, url, path } = await setup(t);
  const res = await session.fetch(url, { headers: { range: 'bytes=100000-' } });
  assert.equal(res.status, 206);
  assert.equal(res.headers.get('content-range'), `bytes 100000-${SIZE - 1}/${SIZE}`);
  assert.equal(res.headers.get('content-length'), String(SIZE - 100000));
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), body.subarray(100000));
  assert.deepEqual(server.reads.at(-1), { path, start: 100000 });
  const bounded = await session.fetch(url, { headers: { range: 'bytes=10-29' } });
  assert.equal(bounded.status, 206);
  assert.deepEqual(Buffer.from(await bounded.arrayBuffer()), body.subarray(10, 30));
  const past = await session.fetch(url, { headers: { range: `bytes=${SIZE}-` } });
  assert.equal(past.status, 416);
  assert.equal(past.headers.get('content-range'), `bytes */${SIZE}`);
  const stale = await session.fetch(url, { headers: { range: 'bytes=10-', 'if-range': 'Mon, 01 Jan 2001 00:00:00 GMT' } });
  assert.equal(stale.status, 200);
  await stale.arrayBuffer();
});

for (const mode of ['error', 'short'] as const) {
  test(`a transfer cut part-way (${mode === 'error' ? 'data connection broken' : 'ended early with 226'}) is resumed with REST`, async (t) => {
    const { server, body, out, path, url } = await setup(t);
    server.cutNext(path, { afterBytes: 150_000, mode });
    const target = join(out, 'pkg.conda');
    const result = await download(url, target, { sha256: sha256(body), md5: md5(body), settings: testSettings(), sleep: noSleep });
    assert.deepEqual(await readFile(target), body);
    assert.equal(result.bytes, SIZE);
    const reads = server.reads.filter((r) => r.path === path);
    assert.equal(reads.length, 2);
    assert.equal(reads[0]!.start, 0);
    assert.ok(reads[1]!.start > 0 && reads[1]!.start <= 150_000, `resumed at ${reads[1]!.start}`);
    assert.deepEqual(await listDir(out), ['pkg.conda']);
  });
}

test('a checksum mismatch over FTP is ChecksumMismatchError and leaves nothing behind', async (t) => {
  const { out, url } = await setup(t);
  await assert.rejects(download(url, join(out, 'pkg.conda'), { sha256: 'b'.repeat(64), settings: testSettings() }),
    (e: unknown) => isGatewayError(e) && e.code === 'CG_CHECKSUM_MISMATCH' && e.name === 'ChecksumMismatchError');
  assert.deepEqual(await listDir(out), []);
});

test('a directory is a clear CG_INVALID_ARGUMENT error', async (t) => {
  const { server, out, session } = await setup(t);
  for (const url of [`${server.url}/pub/noarch`, `${server.url}/pub/noarch/`, `${server.url}/`]) {
    await assert.rejects(session.fetch(url), (e: unknown) => isGatewayError(e) && e.code === 'CG_INVALID_ARGUMENT' && /directory/.test(e.message), url);
  }
  await assert.rejects(download(`${server.url}/pub/noarch`, join(out, 'x'), { settings: testSettings() }),
    (e: unknown) => isGatewayError(e) && e.code === 'CG_INVALID_ARGUMENT');
  assert.deepEqual(await listDir(out), []);
});

test('bad FTP URLs (no host, CR/LF, `..` hidden in an encoded slash) are refused before any connection', async (t) => {
  const { server, out, session } = await setup(t);
  for (const bad of ['ftp://', `${server.url}/pub%0D%0ADELE%20x`, `${server.url}/pub%2F..%2F..%2Fetc`]) {
    await assert.rejects(download(bad, join(out, 'x'), { settings: testSettings() }),
      (e: unknown) => isGatewayError(e) && e.code === 'CG_INVALID_ARGUMENT', bad);
  }
  await assert.rejects(session.fetch(`${server.url}/x`, { headers: { authorization: 'Bearer abc' } }),
    (e: unknown) => isGatewayError(e) && e.code === 'CG_CREDENTIALS_INVALID' && /Invalid form of Authentication/.test(e.message));
  assert.equal(server.connections, 0);
  assert.deepEqual(await listDir(out), []);
});

test('a server that never greets times out with CG_TIMEOUT after remote_connect_timeout_secs', async (t) => {
  const sockets = new Set<Socket>();
  const silent = createServer((s) => {
    sockets.add(s);
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  t.after(() => {
    for (const s of sockets) s.destroy();
    silent.close();
  });
  const port = (silent.address() as import('node:net').AddressInfo).port;
  const session = createSession({ settings: testSettings({ remoteConnectTimeoutSecs: 0.3, remoteMaxRetries: 1 }), sleep: noSleep });
  t.after(() => session.close());
  const started = Date.now();
  await assert.rejects(session.fetch(`ftp://127.0.0.1:${port}/x.conda`),
    (e: unknown) => isGatewayError(e) && e.code === 'CG_TIMEOUT' && e.attempts === 2);
  assert.ok(Date.now() - started < 5000);
  assert.equal(sockets.size, 2);
});

test('an empty file is a 200 with an empty body (ftp-srv answers SIZE without a number: no Content-Length)', async (t) => {
  const { server, session } = await setup(t);
  await server.setFile('/pub/empty.json', '');
  const res = await session.fetch(`${server.url}/pub/empty.json`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-length'), null);
  assert.equal(res.headers.get('content-type'), 'application/json');
  assert.equal((await res.arrayBuffer()).byteLength, 0);
});

test('parallel requests in one session each get their own connection, then share the idle ones', async (t) => {
  const { server, body, session, url } = await setup(t);
  const all = await Promise.all([0, 1, 2].map(async () => Buffer.from(await (await session.fetch(url)).arrayBuffer())));
  for (const got of all) assert.deepEqual(got, body);
  assert.equal(server.connections, 3);
  await new Promise((r) => setImmediate(r));
  await Promise.all([0, 1, 2].map(async () => (await session.fetch(url)).arrayBuffer()));
  assert.equal(server.connections, 3);
});

test('a body the reader cancels stops its transfer and the session goes on with a fresh connection', async (t) => {
  const { server, body, session, url } = await setup(t);
  const first = await session.fetch(url);
  const reader = first.body!.getReader();
  await reader.read();
  await reader.cancel();
  const second = await session.fetch(url);
  assert.deepEqual(Buffer.from(await second.arrayBuffer()), body);
  assert.equal(server.connections, 2);
});

test('a transfer that stalls hits remote_read_timeout_secs and is resumed', async (t) => {
  const { server, body, out, path, url } = await setup(t);
  server.cutNext(path, { afterBytes: 100_000, mode: 'stall' });
  const started = Date.now();
  const result = await download(url, join(out, 'pkg.conda'), {
    sha256: sha256(body), settings: testSettings({ remoteReadTimeoutSecs: 0.5 }), sleep: noSleep,
  });
  assert.equal(result.bytes, SIZE);
  assert.ok(Date.now() - started < 10_000);
  const reads = server.reads.filter((r) => r.path === path);
  assert.equal(reads.length, 2);
  assert.ok(reads[1]!.start > 0);
});
