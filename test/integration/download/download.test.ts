import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile, chmod, stat, mkdir, rm } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { download, downloadText, isGatewayError, type DownloadProgress } from '../../../src/index.js';
import { startFileServer } from '../../helpers/servers/http.js';
import { dropAfterBytes, ignoreRange, status, wrongBytes, wrongContentRange, stall, longBody, redirect } from '../../helpers/faults.js';
import { bytes, listDir, md5, sha256, tempDir } from '../../helpers/fs.js';
import { noSleep, testSettings } from '../../helpers/settings.js';

const SIZE = 300_000;

/**
 * A directory this process cannot write: mode 0500 for a normal user; root writes through
 * modes, so as root a read-only tmpfs is mounted there (Linux), else the reason to skip.
 */
async function readOnlyDir(t: import('node:test').TestContext): Promise<string | { skip: string }> {
  const root = await tempDir(undefined);
  const dir = join(root, 'ro');
  await mkdir(dir);
  let mounted = false;
  // One hook, so the unmount (or chmod back) surely runs before the directory is removed.
  t.after(async () => {
    if (mounted) execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
    else await chmod(dir, 0o700);
    await rm(root, { recursive: true, force: true });
  });
  if (process.getuid?.() !== 0) {
    await chmod(dir, 0o500);
    return dir;
  }
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', dir], { stdio: 'ignore' });
    mounted = true;
    return dir;
  } catch (err) {
    return { skip: `running as root, which writes through mode 0500, and no read-only tmpfs can be mounted here (${(err as Error).message.split('\n')[0]})` };
  }
}

async function setup(t: import('node:test').TestContext) {
  const server = await startFileServer(t);
  const body = bytes(SIZE, 7);
  server.setFile('/pkg.conda', body);
  const dir = await tempDir(t);
  return { server, body, dir, target: join(dir, 'pkg.conda'), url: `${server.url}/pkg.conda` };
}

test('downloads, verifies sha256 and md5, and leaves only the target', async (t) => {
  const { body, dir, target, url } = await setup(t);
  const progress: DownloadProgress[] = [];
  const result = await download(url, target, {
    sha256: sha256(body), md5: md5(body), size: SIZE, settings: testSettings(), onProgress: (p) => progress.push(p),
  });
  assert.equal(result.bytes, SIZE);
  assert.equal(result.sha256, sha256(body));
  assert.equal(result.md5, md5(body));
  assert.equal(result.resumedFrom, 0);
  assert.equal(result.attempts, 1);
  assert.deepEqual(await listDir(dir), ['pkg.conda']);
  assert.deepEqual(await readFile(target), body);
  assert.ok(progress.length > 0);
  for (let i = 1; i < progress.length; i++) assert.ok(progress[i]!.bytes > progress[i - 1]!.bytes, 'progress never decreases');
  assert.deepEqual(progress.at(-1), { bytes: SIZE, total: SIZE });
});

test('checksums are accepted in upper case', async (t) => {
  const { body, target, url } = await setup(t);
  const result = await download(url, target, { sha256: sha256(body).toUpperCase(), settings: testSettings() });
  assert.equal(result.sha256, sha256(body));
});

test('a non-hex checksum is a clear error and touches nothing', async (t) => {
  const { dir, target, url, server } = await setup(t);
  await assert.rejects(download(url, target, { sha256: 'xyz' }), (e: unknown) =>
    isGatewayError(e) && e.code === 'CG_INVALID_ARGUMENT' && /sha256/.test(e.message));
  await assert.rejects(download(url, target, { size: -1 }), (e: unknown) => isGatewayError(e) && e.code === 'CG_INVALID_ARGUMENT');
  assert.deepEqual(await listDir(dir), []);
  assert.equal(server.requests.length, 0);
});

test('a body cut mid-stream is resumed with Range and If-Range', async (t) => {
  const { server, body, dir, target, url } = await setup(t);
  server.script('/pkg.conda', [dropAfterBytes(100_000)]);
  const result = await download(url, target, { sha256: sha256(body), settings: testSettings(), sleep: noSleep });
  assert.deepEqual(await readFile(target), body);
  const reqs = server.requestsFor('/pkg.conda');
  assert.equal(reqs.length, 2);
  assert.match(String(reqs[1]!.headers.range), /^bytes=\d+-$/);
  assert.equal(reqs[1]!.headers['if-range'], server.files.get('/pkg.conda')!.etag);
  assert.equal(result.bytes, SIZE);
  assert.deepEqual(await listDir(dir), ['pkg.conda']);
});

test('without a checksum a cut body is still resumed within the call (If-Range guards it)', async (t) => {
  const { server, body, target, url } = await setup(t);
  server.script('/pkg.conda', [dropAfterBytes(50_000)]);
  const result = await download(url, target, { settings: testSettings(), sleep: noSleep });
  assert.deepEqual(await readFile(target), body);
  assert.equal(result.unverified, true);
  assert.ok(server.requestsFor('/pkg.conda')[1]!.headers['if-range']);
});

test('a weak ETag is not used for If-Range; Last-Modified is', async (t) => {
  const { server, body, target, url } = await setup(t);
  server.files.get('/pkg.conda')!.etag = 'W/"weak"';
  server.script('/pkg.conda', [dropAfterBytes(10_000)]);
  await download(url, target, { sha256: sha256(body), settings: testSettings(), sleep: noSleep });
  const ranged = server.requestsFor('/pkg.conda').find((r) => r.headers.range);
  assert.ok(ranged);
  assert.equal(ranged.headers['if-range'], server.files.get('/pkg.conda')!.lastModified);
  assert.deepEqual(await readFile(target), body);
});

test('a kept .partial from an earlier run is resumed (prefix hashed first)', async (t) => {
  const { server, body, dir, target, url } = await setup(t);
  await writeFile(`${target}.partial`, body.subarray(0, 123_456));
  const result = await download(url, target, { sha256: sha256(body), size: SIZE, settings: testSettings() });
  assert.equal(result.resumedFrom, 123_456);
  assert.equal(server.requestsFor('/pkg.conda')[0]!.headers.range, 'bytes=123456-');
  assert.deepEqual(await readFile(target), body);
  assert.deepEqual(await listDir(dir), ['pkg.conda']);
});

test('a complete .partial is verified and renamed without any request', async (t) => {
  const { server, body, target, url } = await setup(t);
  await writeFile(`${target}.partial`, body);
  const result = await download(url, target, { sha256: sha256(body), size: SIZE, settings: testSettings() });
  assert.equal(server.requests.length, 0);
  assert.equal(result.attempts, 0);
  assert.deepEqual(await readFile(target), body);
});

test('a bad .partial is retried from scratch once', async (t) => {
  const { server, body, dir, target, url } = await setup(t);
  await writeFile(`${target}.partial`, Buffer.alloc(1000, 9));
  const result = await download(url, target, { sha256: sha256(body), size: SIZE, settings: testSettings() });
  assert.deepEqual(await readFile(target), body);
  assert.equal(result.resumedFrom, 0);
  const reqs = server.requestsFor('/pkg.conda');
  assert.equal(reqs.length, 2);
  assert.equal(reqs[1]!.headers.range, undefined);
  assert.deepEqual(await listDir(dir), ['pkg.conda']);
});

test('a server that ignores Range restarts cleanly from byte 0', async (t) => {
  const { server, body, target, url } = await setup(t);
  await writeFile(`${target}.partial`, body.subarray(0, 1000));
  server.script('/pkg.conda', [ignoreRange()]);
  const result = await download(url, target, { sha256: sha256(body), settings: testSettings() });
  assert.deepEqual(await readFile(target), body);
  assert.equal(result.resumedFrom, 0);
});

test('a wrong Content-Range restarts from byte 0', async (t) => {
  const { server, body, target, url } = await setup(t);
  await writeFile(`${target}.partial`, body.subarray(0, 1000));
  server.script('/pkg.conda', [wrongContentRange()]);
  await download(url, target, { sha256: sha256(body), settings: testSettings() });
  assert.deepEqual(await readFile(target), body);
  assert.equal(server.requestsFor('/pkg.conda').length, 2);
});

test('416 on a partial that is already whole verifies it', async (t) => {
  const { server, body, target, url } = await setup(t);
  await writeFile(`${target}.partial`, body);
  await download(url, target, { sha256: sha256(body), settings: testSettings() });
  assert.deepEqual(await readFile(target), body);
  assert.equal(server.requestsFor('/pkg.conda')[0]!.headers.range, `bytes=${SIZE}-`);
});

test('wrong bytes: ChecksumMismatchError with expected and actual, nothing left on disk', async (t) => {
  const { server, body, dir, target, url } = await setup(t);
  server.script('/pkg.conda', [wrongBytes()]);
  await assert.rejects(download(url, target, { sha256: sha256(body), settings: testSettings() }), (e: unknown) => {
    assert.ok(isGatewayError(e));
    assert.equal(e.name, 'ChecksumMismatchError');
    assert.equal(e.code, 'CG_CHECKSUM_MISMATCH');
    assert.equal(e.details.check, 'sha256');
    assert.equal(e.details.expected, sha256(body));
    assert.match(e.message, /Conda detected a mismatch between the expected content and downloaded content/);
    return true;
  });
  assert.deepEqual(await listDir(dir), []);
});

test('a Content-Length that contradicts the expected size fails before the body', async (t) => {
  const { body, dir, target, url } = await setup(t);
  await assert.rejects(download(url, target, { sha256: sha256(body), size: SIZE + 1, settings: testSettings() }), (e: unknown) =>
    isGatewayError(e) && e.code === 'CG_CHECKSUM_MISMATCH' && e.details.check === 'size');
  assert.deepEqual(await listDir(dir), []);
});

test('bytes past Content-Length are not part of the file', async (t) => {
  const { server, body, dir, target, url } = await setup(t);
  server.script('/pkg.conda', [longBody(5000)]);
  await download(url, target, { sha256: sha256(body), settings: testSettings({ remoteMaxRetries: 0 }), sleep: noSleep });
  assert.deepEqual(await readFile(target), body);
  assert.deepEqual(await listDir(dir), ['pkg.conda']);
});

test('a body longer than the expected size stops early with a size mismatch and leaves nothing', async (t) => {
  const { server, dir, target, url } = await setup(t);
  server.route('/chunked.bin', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.end(Buffer.alloc(SIZE + 10, 1));
  });
  await assert.rejects(download(`${server.url}/chunked.bin`, target, { sha256: 'a'.repeat(64), size: SIZE, settings: testSettings() }),
    (e: unknown) => isGatewayError(e) && e.code === 'CG_CHECKSUM_MISMATCH' && e.details.check === 'size');
  assert.deepEqual(await listDir(dir), []);
  void url;
});

test('404 deletes the partial and reads as conda does', async (t) => {
  const { dir, server } = await setup(t);
  const target = join(dir, 'missing.conda');
  await writeFile(`${target}.partial`, 'old bytes');
  await assert.rejects(download(`${server.url}/missing.conda`, target, { sha256: 'a'.repeat(64), settings: testSettings() }), (e: unknown) => {
    assert.ok(isGatewayError(e));
    assert.equal(e.name, 'CondaHTTPError');
    assert.match(e.message, /^HTTP 404 NOT FOUND for url <http:\/\/127\.0\.0\.1:\d+\/missing\.conda>\nElapsed: \d\d:\d\d\.\d{6}\n/);
    return true;
  });
  assert.deepEqual(await listDir(dir), []);
});

test('503 with Retry-After is retried; the delay honours Retry-After up to the cap', async (t) => {
  const { server, body, target, url } = await setup(t);
  server.script('/pkg.conda', [status(503, { retryAfter: 2 }), status(429, { retryAfter: 100 })]);
  const delays: number[] = [];
  const result = await download(url, target, {
    sha256: sha256(body), settings: testSettings({ remoteRetryAfterMaxSecs: 5 }), sleep: async (ms) => { delays.push(ms); },
  });
  assert.equal(result.attempts, 3);
  assert.deepEqual(delays, [2000, 5000]);
});

test('5xx after retries keeps a valid partial for resuming; connection refused reads HTTP 000', async (t) => {
  const { server, body, dir, target, url } = await setup(t);
  server.script('/pkg.conda', [dropAfterBytes(40_000), status(500), status(500)]);
  await assert.rejects(download(url, target, { sha256: sha256(body), settings: testSettings({ remoteMaxRetries: 1 }), sleep: noSleep }),
    (e: unknown) => isGatewayError(e) && e.code === 'CG_HTTP_STATUS');
  assert.deepEqual(await listDir(dir), ['pkg.conda.partial']);
  assert.equal((await stat(`${target}.partial`)).size, 40_000);
  const again = await download(url, target, { sha256: sha256(body), settings: testSettings() });
  assert.equal(again.resumedFrom, 40_000);
  assert.deepEqual(await readFile(target), body);

  const closed = join(dir, 'refused.bin');
  await assert.rejects(download('http://127.0.0.1:9/x.conda', closed, { settings: testSettings({ remoteMaxRetries: 1 }), sleep: noSleep }), (e: unknown) => {
    assert.ok(isGatewayError(e));
    assert.equal(e.code, 'CG_CONNECTION');
    assert.match(e.message, /^HTTP 000 CONNECTION FAILED for url <http:\/\/127\.0\.0\.1:9\/x\.conda>/);
    assert.equal(e.attempts, 2);
    return true;
  });
  assert.ok(!(await listDir(dir)).some((f) => f.startsWith('refused')), 'no empty .partial');
});

test('a stalled body times out with the read timeout', async (t) => {
  const { server, dir, target, url } = await setup(t);
  server.script('/pkg.conda', [stall(3000)]);
  await assert.rejects(download(url, target, { settings: testSettings({ remoteReadTimeoutSecs: 0.3, remoteMaxRetries: 0 }) }),
    (e: unknown) => isGatewayError(e) && (e.code === 'CG_TIMEOUT' || e.code === 'CG_CONNECTION'));
  assert.deepEqual(await listDir(dir), []);
});

test('an aborted download keeps a resumable partial and says CG_ABORTED', async (t) => {
  const { server, body, dir, target, url } = await setup(t);
  server.script('/pkg.conda', [dropAfterBytes(0)]);
  const controller = new AbortController();
  server.files.set('/slow.bin', { body });
  server.route('/slow.bin', (_req, res) => {
    res.writeHead(200, { 'content-length': String(body.length), etag: '"s"' });
    res.write(body.subarray(0, 60_000), () => controller.abort());
  });
  const slowTarget = join(dir, 'slow.bin');
  await assert.rejects(download(`${server.url}/slow.bin`, slowTarget, { sha256: sha256(body), signal: controller.signal, settings: testSettings() }),
    (e: unknown) => isGatewayError(e) && e.code === 'CG_ABORTED');
  assert.ok(!(await listDir(dir)).includes('slow.bin'));
  void target; void url;
});

test('path_conflict prevent refuses to overwrite; a verifying target is reused without a request', async (t) => {
  const { server, body, dir, target, url } = await setup(t);
  await writeFile(target, body);
  const reused = await download(url, target, { sha256: sha256(body), settings: testSettings({ pathConflict: 'prevent' }) });
  assert.equal(reused.reused, true);
  assert.equal(server.requests.length, 0);
  await writeFile(target, 'different');
  await assert.rejects(download(url, target, { sha256: sha256(body), settings: testSettings({ pathConflict: 'prevent' }) }),
    (e: unknown) => isGatewayError(e) && e.code === 'CG_PATH_CONFLICT');
  assert.equal(await readFile(target, 'utf8'), 'different');
  assert.deepEqual(await listDir(dir), ['pkg.conda']);
});

test('a missing target directory is a clear error', async (t) => {
  const { url, dir } = await setup(t);
  await assert.rejects(download(url, join(dir, 'nope', 'x.conda')), (e: unknown) => isGatewayError(e) && e.code === 'CG_PERMISSION');
});

test('a read-only target directory is a clear error (mode 0500, or a read-only mount as root)', async (t) => {
  const { url } = await setup(t);
  const readOnly = await readOnlyDir(t);
  if (typeof readOnly !== 'string') return t.skip(readOnly.skip);
  await assert.rejects(download(url, join(readOnly, 'x.conda'), { settings: testSettings() }),
    (e: unknown) => isGatewayError(e) && e.code === 'CG_PERMISSION');
  assert.deepEqual(await listDir(readOnly), []);
});

test('malformed URL and unsupported scheme are clear errors', async (t) => {
  const dir = await tempDir(t);
  await assert.rejects(download('not a url', join(dir, 'x')), (e: unknown) => isGatewayError(e) && e.code === 'CG_INVALID_ARGUMENT');
  await assert.rejects(download('gopher://example.com/x', join(dir, 'x')), (e: unknown) => isGatewayError(e) && e.code === 'CG_UNSUPPORTED_SCHEME');
  assert.deepEqual(await listDir(dir), []);
});

test('two concurrent downloads of one target transfer it once', async (t) => {
  const { server, body, dir, target, url } = await setup(t);
  const settings = testSettings();
  const [a, b] = await Promise.all([
    download(url, target, { sha256: sha256(body), settings }),
    download(url, target, { sha256: sha256(body), settings }),
  ]);
  assert.equal(server.requestsFor('/pkg.conda').length, 1);
  assert.equal([a.reused, b.reused].filter(Boolean).length, 1);
  assert.deepEqual(await listDir(dir), ['pkg.conda']);
});

test('redirects are followed; credentials are not sent to another host', async (t) => {
  const { server, body, dir } = await setup(t);
  const other = await startFileServer(t);
  other.setFile('/moved.conda', body);
  server.script('/pkg.conda', [redirect(`http://localhost:${other.port}/moved.conda`)]);
  const url = `http://user:s3cret@127.0.0.1:${server.port}/pkg.conda`;
  await download(url, join(dir, 'p.conda'), { sha256: sha256(body), settings: testSettings() });
  assert.match(String(server.requestsFor('/pkg.conda')[0]!.headers.authorization), /^Basic /);
  assert.equal(other.requestsFor('/moved.conda')[0]!.headers.authorization, undefined);
});

test('downloadText returns the body and raises CondaHTTPError on 404', async (t) => {
  const { server } = await setup(t);
  server.setFile('/hello.txt', 'hello world');
  assert.equal(await downloadText(`${server.url}/hello.txt`, { settings: testSettings() }), 'hello world');
  await assert.rejects(downloadText(`${server.url}/nope.txt`, { settings: testSettings() }), (e: unknown) => isGatewayError(e) && e.code === 'CG_HTTP_STATUS');
});
