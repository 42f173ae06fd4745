/** Random faults (quick size): every download ends verified or as a typed error, never a corrupt file. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { download, isGatewayError } from '../../src/index.js';
import { startFaultServer } from '../helpers/fault-server.js';
import { startFileServer } from '../helpers/servers/http.js';
import { bytes, listDir, sha256, tempDir } from '../helpers/fs.js';
import { noSleep, testSettings } from '../helpers/settings.js';
import { runFaultTransfers, summarize } from './suites/faults.js';

test('200 downloads through random faults end verified or as a typed error, never corrupt or unverified', async (t) => {
  const counts = await runFaultTransfers({ transfers: 200, seed: 7, faultRate: 0.3 });
  const line = summarize(counts);
  t.diagnostic(line);
  console.log(line);
  assert.equal(counts.transfers, 200);
  assert.equal(counts.corrupt, 0);
  assert.equal(counts.unverified, 0);
  assert.equal(counts.badPartials, 0);
  assert.equal(counts.strayFiles, 0);
  assert.equal(counts.untypedErrors, 0);
  assert.equal(counts.verifiedFirstTry + counts.verifiedAfterRerun, 200, 'every transfer verifies, at the latest on a rerun');
  assert.equal(counts.retryAfterIgnored, 0);
  assert.ok(Object.values(counts.faultsInjected).reduce((a, b) => a + b, 0) > 200, 'faults were injected');
});

const settings = testSettings({ remoteReadTimeoutSecs: 0.2 });

test('a file republished between a cut and the resume is never spliced: without a checksum the result is wholly the new file', async (t) => {
  const oldBody = bytes(300_000, 41);
  const newBody = bytes(300_000, 42);
  const server = await startFaultServer(t, { beforeRequest: (_path, earlier) => {
    if (earlier === 1) server.replaceFile('/p.conda', newBody);
  } });
  server.addFile('/p.conda', oldBody);
  server.script('/p.conda', ['cut']);
  const dir = await tempDir(t);
  const result = await download(`${server.url}/p.conda`, join(dir, 'p.conda'), { settings, sleep: noSleep });
  assert.deepEqual(await readFile(join(dir, 'p.conda')), newBody);
  assert.equal(result.resumedFrom, 0);
  assert.deepEqual(await listDir(dir), ['p.conda']);
});

test('a file republished mid-download with a checksum of the old one ends as CG_CHECKSUM_MISMATCH with nothing on disk', async (t) => {
  const oldBody = bytes(300_000, 43);
  const server = await startFaultServer(t, { beforeRequest: (_path, earlier) => {
    if (earlier === 1) server.replaceFile('/p.conda', bytes(300_000, 44));
  } });
  server.addFile('/p.conda', oldBody);
  server.script('/p.conda', ['cut']);
  const dir = await tempDir(t);
  await assert.rejects(download(`${server.url}/p.conda`, join(dir, 'p.conda'), { sha256: sha256(oldBody), settings, sleep: noSleep }),
    (e: unknown) => isGatewayError(e) && e.code === 'CG_CHECKSUM_MISMATCH');
  assert.deepEqual(await listDir(dir), []);
});

test('endless 503s spend the retries and end as CondaHTTPError 503 with the attempt count', async (t) => {
  const body = bytes(10_000, 45);
  const server = await startFaultServer(t);
  server.addFile('/p.conda', body);
  server.script('/p.conda', Array(10).fill('status503'));
  const dir = await tempDir(t);
  await assert.rejects(download(`${server.url}/p.conda`, join(dir, 'p.conda'), { sha256: sha256(body), settings, sleep: noSleep }),
    (e: unknown) => isGatewayError(e) && e.code === 'CG_HTTP_STATUS' && e.attempts === settings.remoteMaxRetries + 1 && /HTTP 503/.test(e.message));
  assert.equal(server.requestsFor('/p.conda'), settings.remoteMaxRetries + 1);
  assert.deepEqual(await listDir(dir), []);
});

test('stalls past the read timeout on every attempt end as CG_TIMEOUT, keep a valid prefix, and the rerun resumes it', async (t) => {
  const body = bytes(200_000, 46);
  // undici's timers round sub-second read timeouts up to about a second: the stall outlasts that.
  const server = await startFaultServer(t, { stallMs: 4000 });
  const once = testSettings({ remoteReadTimeoutSecs: 0.2, remoteMaxRetries: 1 });
  server.addFile('/p.conda', body);
  server.script('/p.conda', ['stall', 'stall']);
  const dir = await tempDir(t);
  const target = join(dir, 'p.conda');
  await assert.rejects(download(`${server.url}/p.conda`, target, { sha256: sha256(body), settings: once, sleep: noSleep }),
    (e: unknown) => isGatewayError(e) && e.code === 'CG_TIMEOUT');
  assert.deepEqual(await listDir(dir), ['p.conda.partial']);
  const partial = await readFile(`${target}.partial`);
  assert.ok(partial.length > 0 && body.subarray(0, partial.length).equals(partial));
  const result = await download(`${server.url}/p.conda`, target, { sha256: sha256(body), settings, sleep: noSleep });
  assert.equal(result.resumedFrom, partial.length);
  assert.deepEqual(await readFile(target), body);
});

test('a body longer than the expected size stops with a size mismatch and leaves nothing', async (t) => {
  const body = bytes(50_000, 47);
  const server = await startFaultServer(t);
  server.addFile('/p.conda', body);
  server.script('/p.conda', ['tooLong']);
  const dir = await tempDir(t);
  await assert.rejects(download(`${server.url}/p.conda`, join(dir, 'p.conda'), { sha256: sha256(body), size: body.length, settings, sleep: noSleep }),
    (e: unknown) => isGatewayError(e) && e.code === 'CG_CHECKSUM_MISMATCH' && (e.details as { check?: string }).check === 'size');
  assert.deepEqual(await listDir(dir), []);
});

test('a 206 slice answered to a plain GET is never saved as the file', async (t) => {
  const body = bytes(100_000, 48);
  const server = await startFileServer(t);
  server.setFile('/p.conda', body);
  server.route('/p.conda', (_req, res) => {
    res.writeHead(206, { 'content-range': `bytes 5000-9999/${body.length}`, 'content-length': '5000' });
    res.end(body.subarray(5000, 10_000));
  });
  const dir = await tempDir(t);
  await assert.rejects(download(`${server.url}/p.conda`, join(dir, 'p.conda'), { settings, sleep: noSleep }),
    (e: unknown) => isGatewayError(e) && e.code === 'CG_BAD_RESPONSE');
  assert.deepEqual(await listDir(dir), []);
});

test('a server that answers ranges in slices is followed to the end of the file, without a checksum too', async (t) => {
  const body = bytes(100_000, 49);
  const server = await startFileServer(t);
  server.setFile('/p.conda', body);
  server.route('/p.conda', (req, res) => {
    const start = Number(/^bytes=(\d+)-/.exec(req.headers.range ?? '')?.[1] ?? 0);
    const end = Math.min(start + 29_999, body.length - 1);
    res.writeHead(206, { 'content-range': `bytes ${start}-${end}/${body.length}`, 'content-length': String(end - start + 1), etag: '"v1"' });
    res.end(body.subarray(start, end + 1));
  });
  const dir = await tempDir(t);
  await download(`${server.url}/p.conda`, join(dir, 'p.conda'), { settings, sleep: noSleep });
  assert.deepEqual(await readFile(join(dir, 'p.conda')), body);
  assert.equal(server.requestsFor('/p.conda').length, 4);
});
