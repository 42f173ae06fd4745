/**
 * The download data path with files large enough to be hashed on a hashing thread
 * (over INLINE_HASH_MAX) and written in many batches: byte order, resume with a large
 * prefix, cancellation, and a hashing thread that dies.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { download, isGatewayError } from '../../../src/index.js';
import { createSession } from '../../../src/session/index.js';
import { after, before } from 'node:test';
import { hashPolicy, INLINE_HASH_MAX } from '../../../src/download/hasher.js';
import { crashHashThreadsForTest, hashThreadJobsForTest } from '../../../src/download/hash-thread.js';
import { startFileServer } from '../../helpers/servers/http.js';
import { dropAfterBytes } from '../../helpers/faults.js';
import { bytes, listDir, md5, sha256, tempDir } from '../../helpers/fs.js';
import { noSleep, testSettings } from '../../helpers/settings.js';

const BIG = INLINE_HASH_MAX * 3 + 12_345;

// The hashing thread (used for these sizes while several transfers run) is on for every
// download here, whatever the machine; the last test checks the inline path.
const defaultPolicy = hashPolicy.thread;
before(() => {
  hashPolicy.thread = 'always';
});
after(() => {
  hashPolicy.thread = defaultPolicy;
});

async function setup(t: import('node:test').TestContext, size = BIG) {
  const server = await startFileServer(t);
  const body = bytes(size, 11);
  server.setFile('/big.conda', body);
  const dir = await tempDir(t);
  return { server, body, dir, target: join(dir, 'big.conda'), url: `${server.url}/big.conda` };
}

/** A route that sends `first` bytes of `body` and then nothing until the client goes away. */
function stallAfter(server: Awaited<ReturnType<typeof startFileServer>>, path: string, body: Buffer, first: number): void {
  server.route(path, (_req, res) => {
    res.writeHead(200, { 'content-length': String(body.length), etag: '"stall"' });
    res.write(body.subarray(0, first));
  });
}

test('large files are hashed off the main thread, in order, while several share the hashing thread', async (t) => {
  const { server, body, dir } = await setup(t);
  const other = bytes(BIG + 777, 12);
  server.setFile('/other.conda', other);
  const [a, b] = await Promise.all([
    download(`${server.url}/big.conda`, join(dir, 'big.conda'), { sha256: sha256(body), md5: md5(body), settings: testSettings() }),
    download(`${server.url}/other.conda`, join(dir, 'other.conda'), { sha256: sha256(other), settings: testSettings() }),
  ]);
  assert.equal(a.sha256, sha256(body));
  assert.equal(a.md5, md5(body));
  assert.equal(b.sha256, sha256(other));
  assert.deepEqual(await readFile(join(dir, 'big.conda')), body);
  assert.deepEqual(await readFile(join(dir, 'other.conda')), other);
  assert.deepEqual(await listDir(dir), ['big.conda', 'other.conda']);
});

test('onChunk sees every byte in file order, with positions, before the rename', async (t) => {
  const { body, target, url } = await setup(t);
  const seen = Buffer.alloc(body.length);
  let next = 0;
  await download(url, target, {
    sha256: sha256(body), settings: testSettings(),
    onChunk: (chunk, position) => {
      assert.equal(position, next);
      seen.set(chunk, position);
      next += chunk.byteLength;
    },
  });
  assert.equal(next, body.length);
  assert.deepEqual(seen, body);
});

test('without a checksum a large file is still hashed and reported unverified', async (t) => {
  const { body, target, url } = await setup(t);
  const result = await download(url, target, { settings: testSettings() });
  assert.equal(result.unverified, true);
  assert.equal(result.sha256, sha256(body));
});

test('a large body cut mid-stream resumes; the kept prefix is hashed on the hashing thread', async (t) => {
  const { server, body, target, url } = await setup(t);
  server.script('/big.conda', [dropAfterBytes(INLINE_HASH_MAX + 100_001)]);
  const result = await download(url, target, { sha256: sha256(body), settings: testSettings(), sleep: noSleep });
  assert.ok(result.resumedFrom > 0, `resumed from ${result.resumedFrom}`);
  assert.equal(result.sha256, sha256(body));
  assert.deepEqual(await readFile(target), body);
});

test('cancelling a large download leaves a resumable partial within a second', async (t) => {
  const { server, body, dir, target } = await setup(t);
  stallAfter(server, '/stall.conda', body, INLINE_HASH_MAX + 50_000);
  const controller = new AbortController();
  let abortedAt = 0;
  const pending = download(`${server.url}/stall.conda`, target, {
    sha256: sha256(body), signal: controller.signal, settings: testSettings(),
    onProgress: (p) => {
      if (p.bytes >= INLINE_HASH_MAX && !abortedAt) {
        abortedAt = performance.now();
        controller.abort();
      }
    },
  });
  await assert.rejects(pending, (e: unknown) => isGatewayError(e) && e.code === 'CG_ABORTED');
  assert.ok(performance.now() - abortedAt < 1000, `settled ${Math.round(performance.now() - abortedAt)} ms after abort`);
  assert.deepEqual(await listDir(dir), ['big.conda.partial']);
  const kept = await readFile(`${target}.partial`);
  assert.ok(kept.length >= INLINE_HASH_MAX, `kept ${kept.length} bytes`);
  assert.deepEqual(kept, body.subarray(0, kept.length), 'the partial is a valid prefix');
  const resumed = await download(`${server.url}/big.conda`, target, { sha256: sha256(body), settings: testSettings() });
  assert.equal(resumed.resumedFrom, kept.length);
  assert.deepEqual(await readFile(target), body);
});

test('a hashing thread that dies is a typed error, never a hang, and the partial stays resumable', async (t) => {
  const { server, body, dir, target } = await setup(t);
  let crashed = false;
  const started = performance.now();
  // Bytes keep coming after the crash, so the next range handed to the dead thread fails.
  await assert.rejects(download(`${server.url}/big.conda`, target, {
    sha256: sha256(body), settings: testSettings(),
    onProgress: (p) => {
      if (p.bytes >= 1 << 20 && !crashed) {
        crashed = true;
        crashHashThreadsForTest();
      }
    },
  }), (e: unknown) => isGatewayError(e) && e.code === 'CG_WORKER_FAILED' && /hashing worker/.test(e.message));
  assert.ok(crashed);
  assert.ok(performance.now() - started < 10_000);
  assert.deepEqual(await listDir(dir), ['big.conda.partial']);
  const kept = await readFile(`${target}.partial`);
  assert.deepEqual(kept, body.subarray(0, kept.length), 'the partial is a valid prefix');
  // A fresh thread takes over: the rerun resumes and verifies.
  const again = await download(`${server.url}/big.conda`, target, { sha256: sha256(body), settings: testSettings() });
  assert.equal(again.sha256, sha256(body));
  assert.equal((await stat(target)).size, body.length);
});

test('with the hashing thread off, a large file is hashed inline through the same writer, resume included', async (t) => {
  const { server, body, target, url } = await setup(t);
  hashPolicy.thread = 'never';
  t.after(() => {
    hashPolicy.thread = 'always';
  });
  server.script('/big.conda', [dropAfterBytes(INLINE_HASH_MAX + 100_001)]);
  const result = await download(url, target, { sha256: sha256(body), md5: md5(body), settings: testSettings(), sleep: noSleep });
  assert.ok(result.resumedFrom > 0);
  assert.equal(result.md5, md5(body));
  assert.deepEqual(await readFile(target), body);
});

test('many plain-http downloads at once over reused keep-alive sockets, each reading into its own slabs, all verify byte for byte', async (t) => {
  const server = await startFileServer(t);
  const dir = await tempDir(t);
  const bodies = Array.from({ length: 24 }, (_, i) => bytes(300_000 + i * 170_001, 20 + i));
  // Each body dribbles out in pieces, so the sockets' reads interleave.
  bodies.forEach((body, i) => server.route(`/p${i}.conda`, (_req, res) => {
    res.writeHead(200, { 'content-length': String(body.length) });
    let at = 0;
    const next = (): void => {
      if (at >= body.length) return void res.end();
      res.write(body.subarray(at, at + 100_000));
      at += 100_000;
      setTimeout(next, 1);
    };
    next();
  }));
  const session = createSession({ settings: testSettings() });
  t.after(() => session.close());
  // 6 lanes of 4 downloads each: every socket is reused for several bodies.
  await Promise.all(Array.from({ length: 6 }, async (_, lane) => {
    for (let k = lane; k < bodies.length; k += 6) {
      const body = bodies[k]!;
      const result = await download(`${server.url}/p${k}.conda`, join(dir, `p${k}.conda`), { sha256: sha256(body), session });
      assert.equal(result.sha256, sha256(body));
      assert.deepEqual(await readFile(join(dir, `p${k}.conda`)), body);
    }
  }));
});

test("by default ('busy') a download alone hashes inline and concurrent large downloads use the hashing thread", async (t) => {
  const { server, body, dir } = await setup(t);
  const other = bytes(BIG + 99, 13);
  server.setFile('/other.conda', other);
  hashPolicy.thread = 'busy';
  t.after(() => {
    hashPolicy.thread = 'always';
  });
  const before = hashThreadJobsForTest();
  await download(`${server.url}/big.conda`, join(dir, 'alone.conda'), { sha256: sha256(body), settings: testSettings() });
  assert.equal(hashThreadJobsForTest(), before, 'a download alone is hashed inline');
  const [a, b] = await Promise.all([
    download(`${server.url}/big.conda`, join(dir, 'a.conda'), { sha256: sha256(body), settings: testSettings() }),
    download(`${server.url}/other.conda`, join(dir, 'b.conda'), { sha256: sha256(other), settings: testSettings() }),
  ]);
  assert.equal(a.sha256, sha256(body));
  assert.equal(b.sha256, sha256(other));
  assert.ok(hashThreadJobsForTest() > before, 'concurrent downloads use the hashing thread');
});
