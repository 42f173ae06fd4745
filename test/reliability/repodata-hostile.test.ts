/**
 * Hostile channels (issues 11 "bad input" and 16 #3, #6, #10): each attack against a real local
 * server, then the disk (no cache file, no temp file, nothing written outside) and the memory
 * (peak RSS growth sampled during the call) are checked.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { encode } from '@msgpack/msgpack';
import { fetchRepodata, isGatewayError, type FetchRepodataOptions } from '../../src/index.js';
import { cachePaths } from '../../src/repodata/index.js';
import { tempDir } from '../helpers/fs.js';
import { testSettings } from '../helpers/settings.js';
import { repodataOf, zstd } from '../unit/repodata/fixtures.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function serve(t: TestContext, routes: Record<string, Handler>): Promise<string> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const handler = routes[path];
    if (handler) handler(req, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/chan`;
}

/** Peak RSS growth (MB) while `fn` runs, sampled every 20 ms. */
async function peakGrowthMB<T>(fn: () => Promise<T>): Promise<{ value?: T; error?: unknown; growthMB: number }> {
  const base = process.memoryUsage().rss;
  let peak = base;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  try {
    return { value: await fn(), growthMB: (Math.max(peak, process.memoryUsage().rss) - base) / 2 ** 20 };
  } catch (error) {
    return { error, growthMB: (Math.max(peak, process.memoryUsage().rss) - base) / 2 ** 20 };
  } finally {
    clearInterval(timer);
  }
}

async function cacheFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => !f.endsWith('.lock')).sort();
}

function send(body: Buffer, headers: Record<string, string> = {}): Handler {
  return (_req, res) => {
    res.writeHead(200, { 'content-length': String(body.length), ...headers });
    res.end(body);
  };
}

const opts = (cacheDir: string, extra: Partial<FetchRepodataOptions> = {}): FetchRepodataOptions =>
  ({ cacheDir, settings: testSettings({ remoteMaxRetries: 0, repodataUseShards: true }), ...extra });

function code(err: unknown): string {
  return isGatewayError(err) ? err.code : `not a GatewayError: ${String(err)}`;
}

test('a .zst that decodes to something other than a JSON object is CG_REPODATA_INVALID and caches nothing', async (t) => {
  for (const body of ['[1, 2, 3]', '"a string"', '{"packages": [1]}', '{"packages": {"a-1-0.conda": 5}}', '{"a": 1', '{"a": 1} trailing']) {
    const channel = await serve(t, { '/chan/noarch/repodata.json.zst': send(zstd(body)) });
    const cacheDir = await tempDir(t);
    await assert.rejects(fetchRepodata(channel, 'noarch', opts(cacheDir)), (err) => code(err) === 'CG_REPODATA_INVALID', body);
    assert.deepEqual(await cacheFiles(cacheDir), [], body);
  }
});

test('repodata.json nested 200k levels deep is a typed error, not a stack overflow', async (t) => {
  const deep = Buffer.from(`{"x":${'['.repeat(200_000)}${']'.repeat(200_000)}}`);
  const channel = await serve(t, { '/chan/noarch/repodata.json': send(deep) });
  const cacheDir = await tempDir(t);
  await assert.rejects(fetchRepodata(channel, 'noarch', opts(cacheDir)), (err) => {
    assert.equal(code(err), 'CG_REPODATA_INVALID');
    assert.match((err as Error).message, /nested deeper than 64 levels/);
    return true;
  });
  assert.deepEqual(await cacheFiles(cacheDir), []);
});

test('a zstd index far larger than announced (a bomb) stops at the ratio limit: typed, temp removed, memory bounded', async (t) => {
  // 128 MB of JSON in a few KB of zstd.
  const bomb = zstd(Buffer.concat([Buffer.from('{"info":{"x":"'), Buffer.alloc(128 * 2 ** 20, 0x61), Buffer.from('"}}')]), 3);
  assert.ok(bomb.length < 64 * 1024);
  const channel = await serve(t, { '/chan/noarch/repodata.json.zst': send(bomb) });
  const cacheDir = await tempDir(t);
  const { error, growthMB } = await peakGrowthMB(() => fetchRepodata(channel, 'noarch', opts(cacheDir)));
  assert.equal(code(error), 'CG_REPODATA_TOO_LARGE');
  assert.match((error as Error).message, /ratio/);
  assert.match((error as { hint?: string }).hint ?? '', /limits\.max/);
  assert.deepEqual(await cacheFiles(cacheDir), []);
  assert.ok(growthMB < 150, `peak RSS grew ${growthMB.toFixed(0)} MB`);
});

test('a 1 MiB-class gzip repodata.json that inflates without end stops at the ratio limit, not as a 1 GiB temp file', async (t) => {
  const inflated = Buffer.concat([Buffer.from('{"info":{"x":"'), Buffer.alloc(128 * 2 ** 20, 0x20), Buffer.from('"}}')]);
  const gz = gzipSync(inflated, { level: 1 });
  const channel = await serve(t, { '/chan/noarch/repodata.json': send(gz, { 'content-encoding': 'gzip' }) });
  const cacheDir = await tempDir(t);
  const { error, growthMB } = await peakGrowthMB(() => fetchRepodata(channel, 'noarch', opts(cacheDir, {
    settings: testSettings({ remoteMaxRetries: 0, repodataUseZst: false }),
  })));
  assert.equal(code(error), 'CG_REPODATA_TOO_LARGE');
  assert.deepEqual(await cacheFiles(cacheDir), []);
  assert.ok(growthMB < 150, `peak RSS grew ${growthMB.toFixed(0)} MB`);
});

test('an endless repodata.json stops at limits.maxIndexBytes with nothing left on disk', async (t) => {
  let sent = 0;
  const channel = await serve(t, {
    '/chan/noarch/repodata.json': (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"packages":{');
      const record = Buffer.from(`${JSON.stringify(`p-1-${'0'.repeat(40)}.tar.bz2`)}:{"name":"p","version":"1","build":"0"},`.repeat(1000));
      const pump = (): void => {
        while (!res.destroyed && res.write(record)) sent += record.length;
        if (!res.destroyed) res.once('drain', pump);
      };
      res.on('close', () => undefined);
      pump();
    },
  });
  const cacheDir = await tempDir(t);
  const { error } = await peakGrowthMB(() => fetchRepodata(channel, 'noarch', opts(cacheDir, {
    settings: testSettings({ remoteMaxRetries: 0, repodataUseZst: false }), limits: { maxIndexBytes: 8 * 2 ** 20 },
  })));
  assert.equal(code(error), 'CG_REPODATA_TOO_LARGE');
  assert.match((error as Error).message, /over 8388608 bytes decoded/);
  assert.deepEqual(await cacheFiles(cacheDir), []);
  assert.ok(sent < 64 * 2 ** 20, `the server got to send ${sent} bytes`);
});

test('a shard index listing a million names is CG_REPODATA_TOO_LARGE, memory bounded, nothing cached', async (t) => {
  const shards: Record<string, Uint8Array> = {};
  const hash = new Uint8Array(32);
  for (let i = 0; i < 1_000_000; i++) shards[`p${i}`] = hash;
  const index = zstd(Buffer.from(encode({ version: 1, info: { subdir: 'noarch' }, shards })), 3);
  const channel = await serve(t, { '/chan/noarch/repodata_shards.msgpack.zst': send(index) });
  const cacheDir = await tempDir(t);
  const { error, growthMB } = await peakGrowthMB(() => fetchRepodata(channel, 'noarch', opts(cacheDir, { packages: ['p1'] })));
  assert.equal(code(error), 'CG_REPODATA_TOO_LARGE');
  assert.ok(growthMB < 200, `peak RSS grew ${growthMB.toFixed(0)} MB`);
  const paths = cachePaths(cacheDir, `${channel}/noarch`, 'repodata_shards.msgpack.zst');
  await assert.rejects(stat(paths.data));
  // With a lower name limit the same holds for a smaller index.
  const few: Record<string, Uint8Array> = { a: hash, b: hash, c: hash };
  const small = await serve(t, { '/chan/noarch/repodata_shards.msgpack.zst': send(zstd(Buffer.from(encode({ version: 1, info: {}, shards: few })))) });
  await assert.rejects(fetchRepodata(small, 'noarch', opts(await tempDir(t), { packages: ['a'], limits: { maxShardNames: 2 } })),
    (err) => code(err) === 'CG_REPODATA_TOO_LARGE' && /over 2 package names/.test((err as Error).message));
});

test('a 33 KiB zstd shard index that decodes to gigabytes stops at limits.maxShardIndexBytes', async (t) => {
  const bomb = zstd(Buffer.alloc(256 * 2 ** 20, 0), 3);
  assert.ok(bomb.length < 64 * 1024);
  const channel = await serve(t, { '/chan/noarch/repodata_shards.msgpack.zst': send(bomb) });
  const cacheDir = await tempDir(t);
  const { error, growthMB } = await peakGrowthMB(() => fetchRepodata(channel, 'noarch', opts(cacheDir, { packages: ['x'] })));
  assert.equal(code(error), 'CG_REPODATA_TOO_LARGE');
  assert.match((error as { hint?: string }).hint ?? '', /maxShardIndexBytes/);
  assert.ok(growthMB < 150, `peak RSS grew ${growthMB.toFixed(0)} MB`);
});

test('a planted .info.json symlink is never written through (issue 16 #6)', async (t) => {
  const body = Buffer.from(JSON.stringify(repodataOf('noarch', [{ name: 'a', version: '1', subdir: 'noarch' }])));
  const channel = await serve(t, { '/chan/noarch/repodata.json': send(body) });
  const cacheDir = await tempDir(t);
  const outside = await tempDir(t);
  const victim = join(outside, 'victim.txt');
  await writeFile(victim, 'precious');
  const paths = cachePaths(cacheDir, `${channel}/noarch`);
  await symlink(victim, paths.state);
  const missing = join(outside, 'created-through-link');
  await symlink(missing, `${paths.base}.fetch.lock`);
  await assert.rejects(fetchRepodata(channel, 'noarch', opts(cacheDir, { settings: testSettings({ remoteMaxRetries: 0, repodataUseZst: false }) })),
    (err) => code(err) === 'CG_FILESYSTEM' && /symbolic link/.test((err as Error).message));
  assert.equal(await readFile(victim, 'utf8'), 'precious');
  await assert.rejects(stat(missing), 'no file was created at the link target');
  assert.deepEqual((await readdir(outside)).sort(), ['victim.txt']);
});
