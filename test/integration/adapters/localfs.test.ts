import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CondaHTTPError, download, isGatewayError } from '../../../src/index.js';
import { createSession } from '../../../src/session/index.js';
import { bytes, listDir, sha256, tempDir } from '../../helpers/fs.js';
import { noSleep, testSettings } from '../../helpers/settings.js';

const SIZE = 200_000;

async function channel(t: import('node:test').TestContext) {
  const root = await tempDir(t, 'cg-file-');
  const body = bytes(SIZE, 3);
  await mkdir(join(root, 'noarch'), { recursive: true });
  await writeFile(join(root, 'noarch', 'pkg-1.0-0.conda'), body);
  await writeFile(join(root, 'noarch', 'repodata.json'), '{"packages": {}}');
  const out = await tempDir(t, 'cg-out-');
  const session = createSession({ settings: testSettings() });
  t.after(() => session.close());
  return { root, body, out, session, url: pathToFileURL(join(root, 'noarch', 'pkg-1.0-0.conda')).href };
}

test('a local file is answered 200 with Content-Type, Content-Length and Last-Modified', async (t) => {
  const { root, body, session, url } = await channel(t);
  const res = await session.fetch(url);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-length'), String(SIZE));
  assert.equal(res.headers.get('content-type'), 'text/plain');
  const mtime = (await stat(join(root, 'noarch', 'pkg-1.0-0.conda'))).mtime;
  assert.equal(res.headers.get('last-modified'), new Date(Math.floor(mtime.getTime() / 1000) * 1000).toUTCString());
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), body);
  const json = await session.fetch(pathToFileURL(join(root, 'noarch', 'repodata.json')));
  assert.equal(json.headers.get('content-type'), 'application/json');
  assert.deepEqual(await json.json(), { packages: {} });
});

test('file://localhost/ and percent-encoded paths name the same local files', async (t) => {
  const { root, session } = await channel(t);
  await mkdir(join(root, 'with space', 'ünï'), { recursive: true });
  await writeFile(join(root, 'with space', 'ünï', 'a b.json'), '{}');
  const encoded = pathToFileURL(join(root, 'with space', 'ünï', 'a b.json')).href;
  assert.match(encoded, /with%20space/);
  assert.equal((await session.fetch(encoded)).status, 200);
  const viaLocalhost = encoded.replace('file:///', 'file://localhost/');
  const res = await session.fetch(viaLocalhost);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), '{}');
});

test('a missing file is a 404 with conda\'s JSON body, and download() writes nothing', async (t) => {
  const { root, out, session } = await channel(t);
  const missing = join(root, 'noarch', 'nope-1.0-0.conda');
  const res = await session.fetch(pathToFileURL(missing));
  assert.equal(res.status, 404);
  const body = await res.json() as Record<string, string>;
  assert.equal(body.error, 'file does not exist');
  assert.equal(body.path, missing);
  assert.match(body.exception!, /^FileNotFoundError\(2, 'No such file or directory'\)$/);
  await assert.rejects(download(pathToFileURL(missing), join(out, 'nope.conda'), { settings: testSettings() }),
    (e: unknown) => e instanceof CondaHTTPError && e.status === 404 && /HTTP 404 .* for url <file:\/\//.test(e.message));
  assert.deepEqual(await listDir(out), []);
});

test('a directory is a clear CG_INVALID_ARGUMENT error, and nothing is written', async (t) => {
  const { root, out, session } = await channel(t);
  await assert.rejects(session.fetch(pathToFileURL(join(root, 'noarch'))),
    (e: unknown) => isGatewayError(e) && e.code === 'CG_INVALID_ARGUMENT' && /is a directory/.test(e.message));
  await assert.rejects(download(pathToFileURL(join(root, 'noarch')), join(out, 'x'), { settings: testSettings() }),
    (e: unknown) => isGatewayError(e) && e.code === 'CG_INVALID_ARGUMENT');
  assert.deepEqual(await listDir(out), []);
});

test('HEAD answers the headers without a body', async (t) => {
  const { session, url } = await channel(t);
  const res = await session.fetch(url, { method: 'HEAD' });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-length'), String(SIZE));
  assert.equal(res.body, null);
});

test('Range is answered 206 with Content-Range; a range past the end is 416', async (t) => {
  const { body, session, url } = await channel(t);
  const res = await session.fetch(url, { headers: { range: 'bytes=1000-' } });
  assert.equal(res.status, 206);
  assert.equal(res.headers.get('content-range'), `bytes 1000-${SIZE - 1}/${SIZE}`);
  assert.equal(res.headers.get('content-length'), String(SIZE - 1000));
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), body.subarray(1000));
  const bounded = await session.fetch(url, { headers: { range: 'bytes=10-19' } });
  assert.equal(bounded.status, 206);
  assert.deepEqual(Buffer.from(await bounded.arrayBuffer()), body.subarray(10, 20));
  const suffix = await session.fetch(url, { headers: { range: 'bytes=-5' } });
  assert.deepEqual(Buffer.from(await suffix.arrayBuffer()), body.subarray(SIZE - 5));
  const past = await session.fetch(url, { headers: { range: `bytes=${SIZE}-` } });
  assert.equal(past.status, 416);
  assert.equal(past.headers.get('content-range'), `bytes */${SIZE}`);
});

test('If-Range with a stale validator gets the whole file; a matching ETag gets 304 for If-None-Match', async (t) => {
  const { session, url } = await channel(t);
  const first = await session.fetch(url, { method: 'HEAD' });
  const etag = first.headers.get('etag')!;
  assert.match(etag, /^"[0-9a-f-]+"$/);
  const stale = await session.fetch(url, { headers: { range: 'bytes=10-', 'if-range': '"something-else"' } });
  assert.equal(stale.status, 200);
  await stale.body?.cancel();
  const fresh = await session.fetch(url, { headers: { range: 'bytes=10-', 'if-range': etag } });
  assert.equal(fresh.status, 206);
  await fresh.body?.cancel();
  const cached = await session.fetch(url, { headers: { 'if-none-match': etag } });
  assert.equal(cached.status, 304);
});

test('a download cut part-way resumes from the kept .partial with a Range request', async (t) => {
  const { root, out } = await channel(t);
  const body = bytes(4 * 1024 * 1024, 9);
  const url = pathToFileURL(join(root, 'noarch', 'big-1.0-0.conda')).href;
  await writeFile(join(root, 'noarch', 'big-1.0-0.conda'), body);
  const target = join(out, 'pkg-1.0-0.conda');
  const controller = new AbortController();
  await assert.rejects(download(url, target, {
    sha256: sha256(body), settings: testSettings(), signal: controller.signal,
    onProgress: (p) => {
      if (p.bytes >= 50_000) controller.abort();
    },
  }), (e: unknown) => isGatewayError(e) && e.code === 'CG_ABORTED');
  const kept = (await stat(`${target}.partial`)).size;
  assert.ok(kept > 0 && kept < body.length, `kept ${kept} bytes`);
  assert.deepEqual(await listDir(out), ['pkg-1.0-0.conda.partial']);
  const result = await download(url, target, { sha256: sha256(body), settings: testSettings(), sleep: noSleep });
  assert.equal(result.resumedFrom, kept);
  assert.deepEqual(await readFile(target), body);
  assert.deepEqual(await listDir(out), ['pkg-1.0-0.conda']);
});

test('a checksum mismatch over file:// leaves nothing under the target name', async (t) => {
  const { out, url } = await channel(t);
  await assert.rejects(download(url, join(out, 'pkg.conda'), { sha256: 'a'.repeat(64), settings: testSettings() }),
    (e: unknown) => isGatewayError(e) && e.code === 'CG_CHECKSUM_MISMATCH');
  assert.deepEqual(await listDir(out), []);
});

test('file:// keeps working in offline mode', async (t) => {
  const { body, out, url } = await channel(t);
  const result = await download(url, join(out, 'pkg.conda'), { sha256: sha256(body), settings: testSettings({ offline: true }) });
  assert.equal(result.bytes, SIZE);
});

test('encoded slashes, NUL bytes and other hosts are refused with CG_INVALID_ARGUMENT', async (t) => {
  const { root, out, session } = await channel(t);
  const base = pathToFileURL(root).href;
  for (const bad of [`${base}/noarch%2F..%2F..%2Fetc%2Fpasswd`, `${base}/noarch/%2e%2e%2Fx`, `${base}/a%00b`, 'file://otherhost/etc/passwd']) {
    await assert.rejects(session.fetch(bad), (e: unknown) => isGatewayError(e) && e.code === 'CG_INVALID_ARGUMENT', bad);
    await assert.rejects(download(bad, join(out, 'x'), { settings: testSettings() }),
      (e: unknown) => isGatewayError(e) && e.code === 'CG_INVALID_ARGUMENT', bad);
  }
  assert.deepEqual(await listDir(out), []);
});

test('an unknown scheme such as gopher:// is CG_UNSUPPORTED_SCHEME, and nothing is written', async (t) => {
  const { out, session } = await channel(t);
  await assert.rejects(session.fetch('gopher://127.0.0.1/x'), (e: unknown) => isGatewayError(e) && e.code === 'CG_UNSUPPORTED_SCHEME');
  await assert.rejects(download('gopher://127.0.0.1/x', join(out, 'x'), { settings: testSettings() }),
    (e: unknown) => isGatewayError(e) && e.code === 'CG_UNSUPPORTED_SCHEME' && /file, ftp, s3/.test(e.message));
  assert.deepEqual(await listDir(out), []);
});

test('a file URL with literal spaces or `..` segments is refused before it is resolved, and nothing is written', async (t) => {
  const { root, out, session } = await channel(t);
  const base = pathToFileURL(root).href;
  for (const bad of [`${base}/with space/x.json`, `${base}/noarch/../noarch/pkg-1.0-0.conda`, `${base}/noarch/%2e%2e/noarch/repodata.json`, `${base}/./noarch/repodata.json`]) {
    await assert.rejects(session.fetch(bad), (e: unknown) => isGatewayError(e) && e.code === 'CG_INVALID_ARGUMENT', bad);
    await assert.rejects(download(bad, join(out, 'x'), { settings: testSettings() }),
      (e: unknown) => isGatewayError(e) && e.code === 'CG_INVALID_ARGUMENT', bad);
  }
  assert.deepEqual(await listDir(out), []);
});
