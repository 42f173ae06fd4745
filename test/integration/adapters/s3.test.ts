import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { createProxy } from 'proxy';
import { CondaHTTPError, download, isGatewayError, loadSettings } from '../../../src/index.js';
import { createSession } from '../../../src/session/index.js';
import { startS3Server, type S3TestServer } from '../../helpers/servers/s3.js';
import { testCerts } from '../../helpers/certs.js';
import { bytes, listDir, sha256, tempDir } from '../../helpers/fs.js';
import { noSleep, testSettings } from '../../helpers/settings.js';

const SIZE = 600_000;
const KEY = 'channel/noarch/pkg-1.0-0.conda';
const BODY = bytes(SIZE, 5);

// One moto for the file (it takes about a second to start); each test uses its own sessions.
let server: S3TestServer;
before(async () => {
  server = await startS3Server(undefined);
  await server.putObject(KEY, BODY, 'application/octet-stream');
  await server.putObject('channel/noarch/repodata.json', '{"packages": {}}', 'application/json');
});
after(() => server.close());

function sessionFor(t: import('node:test').TestContext, env: Record<string, string> = server.env(), overrides = {}) {
  const logs: string[] = [];
  const session = createSession({ settings: testSettings(overrides, env), sleep: noSleep, log: (m) => logs.push(m) });
  t.after(() => session.close());
  return { session, logs };
}

function assertNoSecret(value: unknown, secret: string): void {
  const texts = value instanceof Error
    ? [String(value), value.stack ?? '', inspect(value, { depth: 5 }), JSON.stringify(value)]
    : [typeof value === 'string' ? value : JSON.stringify(value)];
  for (const text of texts) assert.ok(!text.includes(secret), `secret leaked in: ${text.slice(0, 300)}`);
}

test('GetObject answers 200 with Content-Type, Content-Length, Last-Modified and ETag (signature checked by moto)', async (t) => {
  const { session, logs } = sessionFor(t);
  const res = await session.fetch(`s3://${server.bucket}/${KEY}`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/octet-stream');
  assert.equal(res.headers.get('content-length'), String(SIZE));
  assert.match(res.headers.get('etag') ?? '', /^"[0-9a-f]{32}"$/);
  assert.ok(Number.isFinite(Date.parse(res.headers.get('last-modified') ?? '')));
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), BODY);
  const json = await session.fetch(`s3://${server.bucket}/channel/noarch/repodata.json`);
  assert.deepEqual(await json.json(), { packages: {} });
  assert.match(logs.join('\n'), /s3: region us-east-1 \(AWS_REGION\)/);
  assertNoSecret(logs.join('\n'), server.secretAccessKey);
});

test('HEAD uses HeadObject and sends no body', async (t) => {
  const { session } = sessionFor(t);
  const res = await session.fetch(`s3://${server.bucket}/${KEY}`, { method: 'HEAD' });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-length'), String(SIZE));
  assert.equal(res.body, null);
});

test('a missing key or bucket is a 404 with conda\'s JSON body; download() writes nothing', async (t) => {
  const { session } = sessionFor(t);
  const out = await tempDir(t);
  const missingKey = await session.fetch(`s3://${server.bucket}/channel/noarch/nope.conda`);
  assert.equal(missingKey.status, 404);
  const body = await missingKey.json() as Record<string, string>;
  assert.equal(body.error, 'error downloading file from s3');
  assert.equal(body.path, `s3://${server.bucket}/channel/noarch/nope.conda`);
  assert.match(body.exception!, /^NoSuchKey\(/);
  const missingBucket = await session.fetch('s3://no-such-bucket/x.conda');
  assert.equal(missingBucket.status, 404);
  assert.match(((await missingBucket.json()) as Record<string, string>).exception!, /^NoSuchBucket\(/);
  await assert.rejects(download(`s3://${server.bucket}/channel/noarch/nope.conda`, join(out, 'nope.conda'), { settings: testSettings({}, server.env()) }),
    (e: unknown) => e instanceof CondaHTTPError && e.status === 404 && /HTTP 404 .* for url <s3:\/\/conda-channel\/channel\/noarch\/nope\.conda>/.test(e.message));
  assert.deepEqual(await listDir(out), []);
});

test('a wrong secret key or an unknown key id is a 403, and the secret appears nowhere', async (t) => {
  const secret = 'wrong-secret-0123456789abcdefXYZ';
  const { session, logs } = sessionFor(t, server.env({ AWS_SECRET_ACCESS_KEY: secret }));
  const res = await session.fetch(`s3://${server.bucket}/${KEY}`);
  assert.equal(res.status, 403);
  const text = await res.text();
  assert.match(text, /SignatureDoesNotMatch/);
  assertNoSecret(text, secret);
  const out = await tempDir(t);
  const err = await download(`s3://${server.bucket}/${KEY}`, join(out, 'pkg.conda'), {
    settings: testSettings({}, server.env({ AWS_SECRET_ACCESS_KEY: secret })), log: (m) => logs.push(m),
  }).then(() => assert.fail('expected a failure'), (e: unknown) => e);
  assert.ok(err instanceof CondaHTTPError);
  assert.equal(err.status, 403);
  assert.match(err.message, /You do not have permission to access this resource/);
  assertNoSecret(err, secret);
  assertNoSecret(logs.join('\n'), secret);
  assert.deepEqual(await listDir(out), []);
  const unknown = sessionFor(t, server.env({ AWS_ACCESS_KEY_ID: 'AKIAUNKNOWNKEY000000' })).session;
  const denied = await unknown.fetch(`s3://${server.bucket}/${KEY}`);
  assert.equal(denied.status, 403);
  assert.match(await denied.text(), /InvalidAccessKeyId|AccessDenied/);
});

test('Range becomes a ranged GetObject answered 206 with Content-Range; past the end is 416 with the size', async (t) => {
  const { session } = sessionFor(t);
  const url = `s3://${server.bucket}/${KEY}`;
  const res = await session.fetch(url, { headers: { range: 'bytes=500000-' } });
  assert.equal(res.status, 206);
  assert.equal(res.headers.get('content-range'), `bytes 500000-${SIZE - 1}/${SIZE}`);
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), BODY.subarray(500000));
  const past = await session.fetch(url, { headers: { range: `bytes=${SIZE}-` } });
  assert.equal(past.status, 416);
  assert.equal(past.headers.get('content-range'), `bytes */${SIZE}`);
});

test('If-Range is honoured: a matching ETag gets the range, a stale one the whole object', async (t) => {
  const { session } = sessionFor(t);
  const url = `s3://${server.bucket}/${KEY}`;
  const etag = (await session.fetch(url, { method: 'HEAD' })).headers.get('etag')!;
  const fresh = await session.fetch(url, { headers: { range: 'bytes=10-', 'if-range': etag } });
  assert.equal(fresh.status, 206);
  await fresh.arrayBuffer();
  const stale = await session.fetch(url, { headers: { range: 'bytes=10-', 'if-range': '"0123456789abcdef0123456789abcdef"' } });
  assert.equal(stale.status, 200);
  assert.equal((await stale.arrayBuffer()).byteLength, SIZE);
});

test('a download cut part-way is resumed with a ranged GetObject', async (t) => {
  const out = await tempDir(t);
  const target = join(out, 'pkg.conda');
  server.cutNextResponse(200_000);
  const result = await download(`s3://${server.bucket}/${KEY}`, target, {
    sha256: sha256(BODY), size: SIZE, settings: testSettings({}, server.env()), sleep: noSleep,
  });
  assert.deepEqual(await readFile(target), BODY);
  assert.equal(result.attempts, 2, JSON.stringify(result));
  assert.ok(result.resumedFrom > 0 && result.resumedFrom <= 200_000, `resumed from ${result.resumedFrom}`);
  assert.deepEqual(await listDir(out), ['pkg.conda']);
});

test('a checksum mismatch over s3 is ChecksumMismatchError and leaves nothing behind', async (t) => {
  const out = await tempDir(t);
  await assert.rejects(download(`s3://${server.bucket}/${KEY}`, join(out, 'pkg.conda'), {
    sha256: 'c'.repeat(64), settings: testSettings({}, server.env()),
  }), (e: unknown) => isGatewayError(e) && e.code === 'CG_CHECKSUM_MISMATCH');
  assert.deepEqual(await listDir(out), []);
});

test('S3 requests go through the session\'s proxy settings', async (t) => {
  const seen: string[] = [];
  const proxy = createProxy(createServer());
  proxy.on('request', (req) => seen.push(`${req.method} ${req.url}`));
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => {
    proxy.closeAllConnections();
    proxy.close(() => r());
  }));
  const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  const { session } = sessionFor(t, server.env(), { proxyServers: { http: proxyUrl } });
  const res = await session.fetch(`s3://${server.bucket}/${KEY}`);
  assert.equal(res.status, 200);
  assert.equal((await res.arrayBuffer()).byteLength, SIZE);
  assert.ok(seen.some((line) => line.startsWith(`GET ${server.endpoint}/${server.bucket}/${KEY.split('/')[0]}`)), seen.join('\n'));
});

test('s3:// without a bucket or without a key is CG_INVALID_ARGUMENT before any request', async (t) => {
  const { session } = sessionFor(t);
  const out = await tempDir(t);
  const before = server.connections;
  for (const bad of ['s3://', 's3:///channel/x.conda', `s3://${server.bucket}`, `s3://${server.bucket}/channel/`, `s3://${server.bucket}/a%2F..%2Fb`]) {
    await assert.rejects(session.fetch(bad), (e: unknown) => isGatewayError(e) && e.code === 'CG_INVALID_ARGUMENT', bad);
    await assert.rejects(download(bad, join(out, 'x'), { settings: testSettings({}, server.env()) }),
      (e: unknown) => isGatewayError(e) && e.code === 'CG_INVALID_ARGUMENT', bad);
  }
  assert.equal(server.connections, before);
  assert.deepEqual(await listDir(out), []);
});

test('credentials and region come from a named profile in the settings\' home directory', async (t) => {
  const home = await tempDir(t, 'cg-home-');
  await mkdir(join(home, '.aws'));
  await writeFile(join(home, '.aws', 'credentials'),
    `[default]\naws_access_key_id = AKIAWRONGDEFAULT0000\naws_secret_access_key = nope\n\n[work]\naws_access_key_id = ${server.accessKeyId}\naws_secret_access_key = ${server.secretAccessKey}\n`);
  await writeFile(join(home, '.aws', 'config'), '[profile work]\nregion = us-east-1\n');
  const logs: string[] = [];
  const settings = loadSettings({ env: { AWS_PROFILE: 'work', AWS_ENDPOINT_URL_S3: server.endpoint }, homeDir: home, overrides: { remoteBackoffFactor: 0 } });
  const session = createSession({ settings, log: (m) => logs.push(m) });
  t.after(() => session.close());
  const res = await session.fetch(`s3://${server.bucket}/channel/noarch/repodata.json`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { packages: {} });
  assert.match(logs.join('\n'), /region us-east-1 \(.*config\).*credentials from profile work/);
  assertNoSecret(logs.join('\n'), server.secretAccessKey);
});

test('S3 over https obeys ssl_verify: an unknown CA is CondaSSLError, the CA bundle from settings works', async (t) => {
  const certs = await testCerts();
  const secure = await startS3Server(t, 'tls-channel', { tls: { key: certs.server.key, cert: certs.server.cert } });
  await secure.putObject('x/noarch/repodata.json', '{}', 'application/json');
  const url = `s3://${secure.bucket}/x/noarch/repodata.json`;
  const strict = sessionFor(t, secure.env(), { remoteMaxRetries: 0 }).session;
  await assert.rejects(strict.fetch(url), (e: unknown) => isGatewayError(e) && e.code === 'CG_TLS' && e.name === 'CondaSSLError');
  const trusting = sessionFor(t, secure.env(), { sslVerify: certs.caPath }).session;
  const res = await trusting.fetch(url);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), {});
});
