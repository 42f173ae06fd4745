import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encode } from '@msgpack/msgpack';
import { isGatewayError } from '../../../src/index.js';
import { assembleSubset, decodeZstd, dependencyName, parseShard, parseShardIndex, shardUrl } from '../../../src/repodata/index.js';
import { record, sha256Bytes, shardFile, shardIndexFile } from './fixtures.js';

test('match specs give their package name; virtual packages are skipped', () => {
  assert.equal(dependencyName('python >=3.8'), 'python');
  assert.equal(dependencyName('numpy>=1.21,<2'), 'numpy');
  assert.equal(dependencyName('conda-forge::libblas 3.9.* *_mkl'), 'libblas');
  assert.equal(dependencyName('Python_ABI 3.12.* *_cp312'), 'python_abi');
  assert.equal(dependencyName('__glibc >=2.17'), undefined);
  assert.equal(dependencyName('  '), undefined);
});

test('a shard index decodes to names and hex hashes', async () => {
  const hash = sha256Bytes(Buffer.from('numpy shard'));
  const index = await parseShardIndex(await decodeZstd(shardIndexFile('linux-64', { numpy: hash }, { extra_key: 1 })), 'https://x/linux-64/repodata_shards.msgpack.zst');
  assert.equal(index.shards.get('numpy'), hash.toString('hex'));
  assert.equal(index.info.subdir, 'linux-64');
});

test('a shard index with a hash that is not 32 bytes is a clear CG_REPODATA_INVALID error', async () => {
  const bad = encode({ version: 1, info: {}, shards: { numpy: Buffer.from('abcd') } });
  await assert.rejects(parseShardIndex(bad, 'https://x/linux-64/repodata_shards.msgpack.zst'), (err: unknown) =>
    isGatewayError(err) && err.code === 'CG_REPODATA_INVALID' && /numpy/.test(err.message));
  await assert.rejects(parseShardIndex(encode([1, 2]), 'https://x/i'), /expected a msgpack map/);
  await assert.rejects(parseShardIndex(Buffer.from([0xc1]), 'https://x/i'), /not valid msgpack/);
});

test('shard records get their sha256 and md5 back as hex', async () => {
  const r = { name: 'numpy', version: '2.1.0', subdir: 'linux-64', depends: ['python >=3.10'] };
  const shard = await parseShard(await decodeZstd(shardFile([r])), 'https://x/s');
  const rec = Object.values(shard['packages.conda'])[0]!;
  assert.equal(rec.sha256, record(r).sha256);
  assert.equal(rec.md5, record(r).md5);
  assert.deepEqual(rec.depends, ['python >=3.10']);
});

test('shard URLs resolve shards_base_url against the index URL, with or without a trailing slash', () => {
  const index = 'https://conda.example/chan/linux-64/repodata_shards.msgpack.zst';
  assert.equal(shardUrl(index, {}, 'ab'), 'https://conda.example/chan/linux-64/shards/ab.msgpack.zst');
  assert.equal(shardUrl(index, { shards_base_url: './shards' }, 'ab'), 'https://conda.example/chan/linux-64/shards/ab.msgpack.zst');
  assert.equal(shardUrl(index, { shards_base_url: 'https://cdn.example/s/' }, 'ab'), 'https://cdn.example/s/ab.msgpack.zst');
});

test('an assembled subset leaves out removed files', () => {
  const a = { packages: {}, 'packages.conda': { 'a-1-0.conda': record({ name: 'a', version: '1', subdir: 'noarch' }) as never }, removed: [] };
  const b = { packages: {}, 'packages.conda': { 'a-0-0.conda': record({ name: 'a', version: '0', subdir: 'noarch' }) as never }, removed: ['a-0-0.conda'] };
  const subset = assembleSubset('noarch', { base_url: 'https://files.example/' }, [a, b]);
  assert.deepEqual(Object.keys(subset['packages.conda']!), ['a-1-0.conda']);
  assert.equal(subset.info?.base_url, 'https://files.example/');
  assert.equal(subset.repodata_version, 2);
});

test('a closure cut from full indexes follows depends across subdirs', async () => {
  const { closureOf } = await import('../../../src/repodata/index.js');
  const { repodataOf } = await import('./fixtures.js');
  const linux = repodataOf('linux-64', [
    { name: 'app', version: '1', subdir: 'linux-64', depends: ['helper'] },
    { name: 'lib', version: '1', subdir: 'linux-64' },
    { name: 'unused', version: '1', subdir: 'linux-64' },
  ]);
  const noarch = repodataOf('noarch', [{ name: 'helper', version: '1', subdir: 'noarch', depends: ['lib >=1', '__unix'] }]);
  const [l, n] = closureOf([linux, noarch], ['App']);
  assert.deepEqual(Object.values(l!['packages.conda']!).map((r) => r.name).sort(), ['app', 'lib']);
  assert.deepEqual(Object.values(n!['packages.conda']!).map((r) => r.name), ['helper']);
  assert.deepEqual(l!.info, { subdir: 'linux-64' });
});

test('a closure over 80k records of one name is linear (issue 16 #4), not quadratic', async () => {
  const { closureOf } = await import('../../../src/repodata/index.js');
  const conda: Record<string, unknown> = {};
  for (let i = 0; i < 80_000; i++) conda[`big-${i}-0.conda`] = { name: 'big', version: String(i), build: '0', depends: ['dep'] };
  const started = process.hrtime.bigint();
  const [only] = closureOf([{ packages: {}, 'packages.conda': conda as never }], ['big']);
  // Quadratic copying took minutes; linear takes well under the test runner's patience.
  assert.ok(Number(process.hrtime.bigint() - started) / 1e9 < 20);
  assert.equal(Object.keys(only!['packages.conda']!).length, 80_000);
});
