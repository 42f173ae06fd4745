import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fetchRepodata, isGatewayError } from '../../../src/index.js';
import { cachePaths, fetchShardedSubset, parseState, serializeState } from '../../../src/repodata/index.js';
import { createSession } from '../../../src/session/create-session.js';
import { tempDir } from '../../helpers/fs.js';
import { testSettings } from '../../helpers/settings.js';
import { repodataOf, sha256Bytes, shardedSubdir, shardFile, shardIndexFile, type FixtureRecord } from '../../unit/repodata/fixtures.js';
import { startChannelServer } from './channel-server.js';

const LINUX: FixtureRecord[] = [
  { name: 'numpy', version: '2.1.0', subdir: 'linux-64', depends: ['python >=3.10', 'libblas >=3.9', '__glibc >=2.17'] },
  { name: 'python', version: '3.12.7', subdir: 'linux-64', depends: ['libdemo >=2', 'tzdata'] },
  { name: 'libdemo', version: '2.4.0', subdir: 'linux-64' },
  { name: 'unrelated', version: '1.0', subdir: 'linux-64' },
];
const NOARCH: FixtureRecord[] = [
  { name: 'tzdata', version: '2026a', subdir: 'noarch' },
  { name: 'libblas', version: '3.9.0', subdir: 'noarch' },
  { name: 'lonely', version: '0.1', subdir: 'noarch' },
];

async function setup(t: Parameters<typeof startChannelServer>[0]) {
  const server = await startChannelServer(t);
  server.setRepodata('linux-64', repodataOf('linux-64', LINUX));
  server.setRepodata('noarch', repodataOf('noarch', NOARCH));
  server.setFiles('linux-64', shardedSubdir('linux-64', LINUX));
  server.setFiles('noarch', shardedSubdir('noarch', NOARCH));
  const cacheDir = await tempDir(t);
  const fetch = (packages: string[], overrides: Parameters<typeof testSettings>[0] = {}, subdir = 'linux-64') =>
    fetchRepodata(server.url, subdir, { cacheDir, settings: testSettings({ remoteMaxRetries: 0, ...overrides }), packages });
  return { server, cacheDir, fetch };
}

const names = (repodata: { 'packages.conda'?: Record<string, { name: string }> }) =>
  Object.values(repodata['packages.conda'] ?? {}).map((r) => r.name).sort();

test('the dependency closure of the wanted names is fetched shard by shard, over the subdir and noarch', async (t) => {
  const { server, fetch } = await setup(t);
  const result = await fetch(['numpy']);
  assert.equal(result.source, 'shards');
  assert.equal(result.cacheResult, 'miss');
  assert.deepEqual(names(result.repodata), ['libdemo', 'numpy', 'python']);
  assert.equal(result.repodata.info?.subdir, 'linux-64');
  const rec = Object.values(result.repodata['packages.conda'] ?? {}).find((r) => r.name === 'numpy');
  assert.match(String(rec?.sha256), /^[0-9a-f]{64}$/);
  assert.equal(server.requests.filter((r) => r.path.includes('/shards/')).length, 5, 'numpy, python, libdemo, tzdata, libblas');
  assert.equal(server.requestsFor('/repodata.json').length + server.requestsFor('/repodata.json.zst').length, 0);
});

test('the subsets of several subdirs come from one closure', async (t) => {
  const { server, cacheDir } = await setup(t);
  const settings = testSettings();
  const session = createSession({ settings });
  t.after(() => session.close());
  const subsets = await fetchShardedSubset(server.url, ['linux-64', 'noarch'], ['python'], { cacheDir, settings, session });
  assert.ok(subsets);
  assert.deepEqual(names(subsets.get('linux-64')!.repodata), ['libdemo', 'python']);
  assert.deepEqual(names(subsets.get('noarch')!.repodata), ['tzdata']);
});

test('shards are cached by hash and never revalidated; the index is revalidated with a 304', async (t) => {
  const { server, fetch, cacheDir } = await setup(t);
  await fetch(['numpy']);
  server.clear();
  const hit = await fetch(['numpy']);
  assert.equal(hit.cacheResult, 'hit');
  assert.equal(server.requests.length, 0);

  const statePath = cachePaths(cacheDir, `${server.url}/linux-64`, 'repodata_shards.msgpack.zst').state;
  const { state } = parseState(await readFile(statePath, 'utf8'));
  assert.equal(state.has_shards?.value, true);
  state.refresh_ns = 0n;
  await writeFile(statePath, serializeState(state));
  const again = await fetch(['numpy']);
  assert.equal(again.cacheResult, 'revalidated');
  assert.deepEqual(server.requests.map((r) => `${r.path} ${r.status}`), ['/linux-64/repodata_shards.msgpack.zst 304']);
  assert.equal(server.requests.filter((r) => r.path.includes('/shards/')).length, 0);
  assert.ok((await readdir(join(cacheDir, 'shards'))).length >= 5);
});

test('a channel without a shard index falls back to repodata.json and does not probe again for a while', async (t) => {
  for (const status of [404, 501]) {
    const { server, fetch } = await setup(t);
    server.mode('linux-64', { shardIndexStatus: status });
    const result = await fetch(['numpy']);
    assert.equal(result.source, 'repodata.json.zst');
    assert.deepEqual(names(result.repodata), ['libdemo', 'numpy', 'python', 'unrelated']);
    server.clear();
    const again = await fetch(['numpy']);
    assert.equal(again.cacheResult, 'hit');
    assert.equal(server.requestsFor('/linux-64/repodata_shards.msgpack.zst').length, 0);
  }
});

test('repodata_use_shards false uses the full repodata even when names are given', async (t) => {
  const { server, fetch } = await setup(t);
  const result = await fetch(['numpy'], { repodataUseShards: false });
  assert.equal(result.source, 'repodata.json.zst');
  assert.equal(server.requests.filter((r) => r.path.includes('shards')).length, 0);
});

test('a shard host answering 404 falls back to the full repodata', async (t) => {
  const { server, fetch } = await setup(t);
  server.mode('noarch', { shardStatus: 404 });
  const result = await fetch(['numpy']);
  assert.equal(result.source, 'repodata.json.zst');
  assert.equal(names(result.repodata).length, 4);
});

test('a shard whose bytes do not match its hash is an error and is not cached', async (t) => {
  const { server, fetch, cacheDir } = await setup(t);
  const files = shardedSubdir('linux-64', LINUX);
  const [shardPath] = [...files.keys()].filter((k) => k.startsWith('shards/'));
  files.set(shardPath!, shardFile([{ name: 'evil', version: '6.6.6', subdir: 'linux-64' }]));
  server.setFiles('linux-64', files);
  await assert.rejects(fetch(['numpy', 'python', 'libdemo', 'unrelated']), (err: unknown) =>
    isGatewayError(err) && err.code === 'CG_REPODATA_INVALID' && /does not match|not the [0-9a-f]{64} that names it/.test(err.message));
  const cached: string[] = await readdir(join(cacheDir, 'shards')).catch(() => []);
  assert.ok(!cached.includes(shardPath!.slice('shards/'.length)));
  assert.deepEqual(cached.filter((f) => f.endsWith('.tmp')), []);
});

test('a shard index with a bad hash is a clear error and is not cached', async (t) => {
  const { server, fetch, cacheDir } = await setup(t);
  const { encode } = await import('@msgpack/msgpack');
  const { zstd } = await import('../../unit/repodata/fixtures.js');
  server.setFiles('linux-64', new Map([['repodata_shards.msgpack.zst', zstd(Buffer.from(encode({ version: 1, info: {}, shards: { numpy: 'nothex' } })))]]));
  await assert.rejects(fetch(['numpy']), (err: unknown) => isGatewayError(err) && err.code === 'CG_REPODATA_INVALID' && /numpy/.test(err.message));
  const paths = cachePaths(cacheDir, `${server.url}/linux-64`, 'repodata_shards.msgpack.zst');
  await assert.rejects(readFile(paths.data));
});

test('shards_base_url is honoured, relative or absolute', async (t) => {
  const { server, fetch } = await setup(t);
  const hashes: Record<string, Uint8Array> = {};
  const elsewhere = new Map<string, Buffer>();
  for (const name of ['numpy', 'python', 'libdemo']) {
    const file = shardFile(LINUX.filter((r) => r.name === name));
    hashes[name] = sha256Bytes(file);
    elsewhere.set(`${sha256Bytes(file).toString('hex')}.msgpack.zst`, file);
  }
  server.setFiles('cdn', elsewhere);
  server.setFiles('linux-64', new Map([['repodata_shards.msgpack.zst', shardIndexFile('linux-64', hashes, { shards_base_url: `${server.url}/cdn` })]]));
  const result = await fetch(['numpy']);
  assert.deepEqual(names(result.repodata), ['libdemo', 'numpy', 'python']);
  assert.equal(server.requestsFor('.msgpack.zst').filter((r) => r.path.startsWith('/cdn/')).length, 3);
});

test('offline, cached shards still answer; without them the full repodata path gives {}', async (t) => {
  const { server, fetch } = await setup(t);
  await fetch(['python']);
  server.clear();
  const cached = await fetch(['python'], { offline: true });
  assert.deepEqual(names(cached.repodata), ['libdemo', 'python']);
  const missing = await fetch(['numpy'], { offline: true });
  assert.equal(missing.source, 'none');
  assert.deepEqual(missing.repodata, {});
  assert.equal(server.requests.length, 0);
});
