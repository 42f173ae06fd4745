import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { fetchRepodata, isGatewayError, type RetryEvent } from '../../../src/index.js';
import { cachePaths } from '../../../src/repodata/index.js';
import { startFaultServer } from '../../helpers/fault-server.js';
import { tempDir } from '../../helpers/fs.js';
import { testSettings } from '../../helpers/settings.js';
import { repodataOf, zstd } from '../../unit/repodata/fixtures.js';

const INDEX = repodataOf('noarch', Array.from({ length: 2000 }, (_, i) => ({ name: `p${i}`, version: '1.0', subdir: 'noarch' })));
const TEXT = JSON.stringify(INDEX);

async function setup(t: Parameters<typeof startFaultServer>[0], withZst: boolean) {
  const server = await startFaultServer(t, { stallMs: 2000 });
  server.addFile('/chan/noarch/repodata.json', Buffer.from(TEXT));
  if (withZst) server.addFile('/chan/noarch/repodata.json.zst', zstd(TEXT));
  const cacheDir = await tempDir(t);
  const channel = `${server.url}/chan`;
  const paths = cachePaths(cacheDir, `${channel}/noarch`);
  const retries: RetryEvent[] = [];
  const waits: number[] = [];
  const fetch = (overrides: Parameters<typeof testSettings>[0] = {}) => fetchRepodata(channel, 'noarch', {
    cacheDir, settings: testSettings({ remoteReadTimeoutSecs: 0.3, localRepodataTtl: 0, ...overrides }),
    onRetry: (e) => retries.push(e), sleep: async (ms) => { waits.push(ms); },
  });
  const temps = async () => (await readdir(cacheDir)).filter((n) => n.endsWith('.tmp'));
  return { server, cacheDir, paths, fetch, retries, waits, temps };
}

test('a repodata.json body cut mid-stream and then stalled is downloaded again, with the session\'s backoff, and cached whole', async (t) => {
  const { server, paths, fetch, retries, waits, temps } = await setup(t, false);
  server.script('/chan/noarch/repodata.json', ['cut', 'stall']);
  const result = await fetch({ remoteMaxRetries: 3, remoteBackoffFactor: 1 });
  assert.equal(result.source, 'repodata.json');
  assert.deepEqual(result.repodata, INDEX);
  assert.equal(server.requestsFor('/chan/noarch/repodata.json'), 3);
  assert.deepEqual(retries.map((r) => r.reason), ['body interrupted', 'body read timed out']);
  assert.deepEqual(waits, [0, 2000], 'delayFor: 0 before the first retry, then factor·2^(n-1) s');
  assert.equal(await readFile(paths.data, 'utf8'), TEXT);
  assert.deepEqual(await temps(), []);
});

test('a repodata.json.zst body cut mid-stream is retried as .zst, not abandoned for .json', async (t) => {
  const { server, fetch, retries, temps } = await setup(t, true);
  server.script('/chan/noarch/repodata.json.zst', ['cut']);
  const result = await fetch({ remoteMaxRetries: 2 });
  assert.equal(result.source, 'repodata.json.zst');
  assert.deepEqual(result.repodata, INDEX);
  assert.equal(server.requestsFor('/chan/noarch/repodata.json.zst'), 2);
  assert.equal(server.requestsFor('/chan/noarch/repodata.json'), 0);
  assert.equal(retries.length, 1);
  assert.deepEqual(await temps(), []);
});

test('when remote_max_retries runs out the error is typed, counts the attempts, and the previous cache is untouched', async (t) => {
  const { server, paths, fetch, temps } = await setup(t, false);
  await fetch();
  const before = await readFile(paths.data);
  const stateBefore = await readFile(paths.state, 'utf8');
  server.replaceFile('/chan/noarch/repodata.json', Buffer.from(JSON.stringify({ ...INDEX, _version: 2 })));
  server.script('/chan/noarch/repodata.json', ['cut', 'stall', 'cut']);
  const err = await fetch({ remoteMaxRetries: 2 }).then(() => undefined, (e: unknown) => e);
  assert.ok(isGatewayError(err), String(err));
  assert.equal(err.code, 'CG_CONNECTION');
  assert.equal(err.attempts, 3);
  assert.ok((await readFile(paths.data)).equals(before), 'no partial index was cached');
  assert.equal(await readFile(paths.state, 'utf8'), stateBefore);
  assert.deepEqual(await temps(), []);
});

test('remote_max_retries 0 does not retry a cut body', async (t) => {
  const { server, paths, fetch, retries } = await setup(t, false);
  server.script('/chan/noarch/repodata.json', ['cut']);
  await assert.rejects(fetch({ remoteMaxRetries: 0 }), (e: unknown) => isGatewayError(e) && e.code === 'CG_CONNECTION');
  assert.equal(server.requestsFor('/chan/noarch/repodata.json'), 1);
  assert.equal(retries.length, 0);
  await assert.rejects(readFile(paths.data));
});

test('a shard index or shard cut mid-stream is downloaded again, not abandoned for the full index', async (t) => {
  const { shardedSubdir } = await import('../../unit/repodata/fixtures.js');
  const server = await startFaultServer(t);
  const files = new Map([
    ...[...shardedSubdir('linux-64', [{ name: 'python', version: '3.12.7', subdir: 'linux-64', depends: ['libdemo'] }, { name: 'libdemo', version: '2.4.0', subdir: 'linux-64' }])]
      .map(([name, body]) => [`/chan/linux-64/${name}`, body] as const),
    ...[...shardedSubdir('noarch', [{ name: 'tzdata', version: '2026a', subdir: 'noarch' }])].map(([name, body]) => [`/chan/noarch/${name}`, body] as const),
  ]);
  for (const [path, body] of files) server.addFile(path, body);
  const shardPaths = [...files.keys()].filter((p) => p.startsWith('/chan/linux-64/shards/'));
  assert.equal(shardPaths.length, 2);
  server.script('/chan/linux-64/repodata_shards.msgpack.zst', ['cut']);
  for (const p of shardPaths) server.script(p, ['cut']);
  const retries: RetryEvent[] = [];
  const result = await fetchRepodata(`${server.url}/chan`, 'linux-64', {
    cacheDir: await tempDir(t), packages: ['python'], onRetry: (e) => retries.push(e), sleep: async () => undefined,
    settings: testSettings({ repodataUseShards: true, remoteMaxRetries: 2 }),
  });
  assert.equal(result.source, 'shards');
  assert.deepEqual(Object.values(result.repodata['packages.conda'] ?? {}).map((r) => r.name).sort(), ['libdemo', 'python']);
  assert.equal(server.requestsFor('/chan/linux-64/repodata_shards.msgpack.zst'), 2);
  for (const p of shardPaths) assert.equal(server.requestsFor(p), 2);
  assert.equal(retries.length, 3);
  assert.equal(server.requestsFor('/chan/linux-64/repodata.json'), 0);
});
