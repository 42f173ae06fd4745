import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ociTarget, splitPackageFileName, v0Tag, v1NameAndTag } from '../../../src/adapters/oci/address.js';
import { parseChallenge } from '../../../src/adapters/oci/challenge.js';
import { TokenCache, expiryOf } from '../../../src/adapters/oci/tokens.js';
import { realmMayHaveCredentials } from '../../../src/adapters/oci/registry-client.js';

const u = (path: string) => new URL(`oci://ghcr.io/channel-mirrors/conda-forge/${path}`);

test('v0 package address: repository <channel>/<subdir>/<name>, tag <version>-<build> (ghcr.io/channel-mirrors)', () => {
  const t = ociTarget(u('osx-arm64/xtensor-0.25.0-h2ffa867_0.conda'), 'v0')!;
  assert.equal(t.registry, 'ghcr.io');
  assert.equal(t.repository, 'channel-mirrors/conda-forge/osx-arm64/xtensor');
  assert.equal(t.tag, '0.25.0-h2ffa867_0');
  assert.deepEqual(t.mediaTypes, ['application/vnd.conda.package.v2']);
  const bz2 = ociTarget(u('linux-64/_libgcc_mutex-0.1-conda_forge.tar.bz2'), 'v0')!;
  assert.equal(bz2.repository, 'channel-mirrors/conda-forge/linux-64/zzz_libgcc_mutex');
  assert.deepEqual(bz2.mediaTypes, ['application/vnd.conda.package.v1']);
  assert.equal(v0Tag('1.0+cuda!2', 'py_0=x'), '1.0__p__cuda__e__2-py_0__eq__x');
  assert.equal(ociTarget(u('noarch/ca-certificates-2024.2.2-hbcca054_0.conda'), 'v0')!.repository,
    'channel-mirrors/conda-forge/noarch/ca-certificates');
});

test('v0 repodata: <subdir>/repodata.json:latest, the layer picked by media type (json, zst, gz, bz2)', () => {
  const json = ociTarget(u('linux-64/repodata.json'), 'v0')!;
  assert.equal(json.repository, 'channel-mirrors/conda-forge/linux-64/repodata.json');
  assert.equal(json.tag, 'latest');
  assert.deepEqual(json.mediaTypes, ['application/vnd.conda.repodata.v1+json']);
  assert.equal(json.contentType, 'application/json');
  assert.deepEqual(ociTarget(u('linux-64/repodata.json.zst'), 'v0')!.mediaTypes, ['application/vnd.conda.repodata.v1+json+zst']);
  assert.equal(ociTarget(u('linux-64/repodata.json.zst'), 'v0')!.repository, 'channel-mirrors/conda-forge/linux-64/repodata.json');
  assert.deepEqual(ociTarget(u('linux-64/repodata.json.gz'), 'v0')!.mediaTypes, ['application/vnd.conda.repodata.v1+json+gzip']);
});

test('shards: the index is <subdir>/repodata_shards.msgpack.zst:latest; a shard is a blob by its sha256', () => {
  const index = ociTarget(u('linux-64/repodata_shards.msgpack.zst'), 'v0')!;
  assert.equal(index.repository, 'channel-mirrors/conda-forge/linux-64/repodata_shards.msgpack.zst');
  assert.equal(index.kind, 'shard-index');
  const hex = 'ab'.repeat(32);
  const shard = ociTarget(u(`linux-64/shards/${hex}.msgpack.zst`), 'v0')!;
  assert.equal(shard.digest, `sha256:${hex}`);
  assert.equal(shard.repository, 'channel-mirrors/conda-forge/linux-64/repodata_shards.msgpack.zst');
  assert.equal(ociTarget(u('linux-64/shards/not-a-hash.msgpack.zst'), 'v0'), undefined);
  assert.equal(ociTarget(u(`linux-64/shards/${hex}.msgpack.zst`), 'v1')!.repository,
    'channel-mirrors/conda-forge/linux-64/mrepodata_shards.msgpack.zst');
});

test('CEP v1: c-prefixed names, _→__ +→_P !→_N in tags, m-prefixed metadata, h<sha256> past the limits (both or neither)', () => {
  const t = ociTarget(u('linux-64/_libgcc_mutex-0.1-conda_forge.tar.bz2'), 'v1')!;
  assert.equal(t.repository, 'channel-mirrors/conda-forge/linux-64/c_libgcc_mutex');
  assert.equal(t.tag, '0.1-conda__forge');
  assert.equal(v1NameAndTag('libfoo', '1.0+cuda!2', 'py_0').tag, '1.0_Pcuda_N2-py__0');
  assert.equal(ociTarget(u('noarch/repodata.json'), 'v1')!.repository, 'channel-mirrors/conda-forge/noarch/mrepodata.json');
  const long = 'x'.repeat(70);
  const hashed = v1NameAndTag(long, '1', '0');
  const h = (s: string) => createHash('sha256').update(s).digest('hex');
  assert.equal(hashed.name, `h${h(`c${long}`)}`);
  assert.equal(hashed.tag, `h${h('1-0')}`);
});

test('file names split on the last two dashes; names with dashes keep them', () => {
  assert.deepEqual(splitPackageFileName('ca-certificates-2024.2.2-hbcca054_0.conda'),
    { name: 'ca-certificates', version: '2024.2.2', build: 'hbcca054_0', ext: '.conda' });
  assert.equal(splitPackageFileName('nodash.conda'), undefined);
  assert.equal(splitPackageFileName('a-1.conda'), undefined);
});

test('hostile URLs: no subdir, bad components, traversal and unknown files', () => {
  assert.throws(() => ociTarget(new URL('oci://ghcr.io/x.conda'), 'v0'), { code: 'CG_INVALID_ARGUMENT' });
  assert.throws(() => ociTarget(u('Linux-64/pkg-1-0.conda'), 'v0'), { code: 'CG_INVALID_ARGUMENT' });
  assert.throws(() => ociTarget(new URL('oci://ghcr.io/a/%2e%2e/linux-64/pkg-1-0.conda'), 'v0'), { code: 'CG_INVALID_ARGUMENT' });
  assert.throws(() => ociTarget(u('linux-64/pkg-1-0%0a.conda'), 'v0'), { code: 'CG_INVALID_ARGUMENT' });
  assert.throws(() => ociTarget(u('linux-64/pkg-1-b%2Fc.conda'), 'v0'), { code: 'CG_INVALID_ARGUMENT' });
  assert.equal(ociTarget(u('linux-64/channeldata.txt'), 'v0'), undefined);
});

test('WWW-Authenticate: Bearer with quoted params, Basic, several challenges, junk', () => {
  assert.deepEqual(parseChallenge('Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:a/b:pull"'), {
    scheme: 'bearer', params: { realm: 'https://ghcr.io/token', service: 'ghcr.io', scope: 'repository:a/b:pull' },
  });
  assert.deepEqual(parseChallenge('Basic realm="Registry Realm"'), { scheme: 'basic', params: { realm: 'Registry Realm' } });
  assert.equal(parseChallenge('Basic realm="x", Bearer realm="https://a/t"')?.scheme, 'bearer');
  assert.equal(parseChallenge('Bearer realm="https://a/t"')?.params.realm, 'https://a/t');
  assert.equal(parseChallenge('Negotiate abc'), undefined);
  assert.equal(parseChallenge(null), undefined);
});

test('token cache: one fetch for concurrent callers, reuse until 10% before expiry, invalidate only the refused token', async () => {
  let now = 1_000_000;
  const cache = new TokenCache(() => now);
  let fetches = 0;
  const fetch = async () => {
    fetches++;
    await new Promise((r) => setTimeout(r, 5));
    return { token: `tok${fetches}`, expiresAt: expiryOf(now, 300) };
  };
  const got = await Promise.all(Array.from({ length: 20 }, () => cache.obtain('k', fetch)));
  assert.deepEqual(new Set(got), new Set(['tok1']));
  assert.equal(fetches, 1);
  now += 269_000;
  assert.equal(cache.get('k'), 'tok1');
  now += 2_000;
  assert.equal(cache.get('k'), undefined, 'expired 30 s early');
  assert.equal(await cache.obtain('k', fetch), 'tok2');
  cache.invalidate('k', 'tok1');
  assert.equal(cache.get('k'), 'tok2');
  cache.invalidate('k', 'tok2');
  assert.equal(cache.get('k'), undefined);
  assert.deepEqual(cache.secrets(), ['tok1', 'tok2']);
  assert.equal(expiryOf(0, 5), 4000);
});

test('credentials go to a token realm of the same site only', () => {
  assert.ok(realmMayHaveCredentials('ghcr.io', 'ghcr.io'));
  assert.ok(realmMayHaveCredentials('auth.docker.io', 'registry-1.docker.io'));
  assert.ok(realmMayHaveCredentials('gitlab.com', 'registry.gitlab.com'));
  assert.ok(realmMayHaveCredentials('127.0.0.1', '127.0.0.1'));
  assert.ok(!realmMayHaveCredentials('evil.io', 'ghcr.io'));
  assert.ok(!realmMayHaveCredentials('attacker.example', 'registry.gitlab.com'));
  assert.ok(!realmMayHaveCredentials('10.0.0.1', '127.0.0.1'));
});
