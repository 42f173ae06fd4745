/**
 * oci:// against a real registry: Debian's docker-registry (CNCF distribution) on
 * 127.0.0.1 with token auth from a JWT token server, filled in the ghcr.io/channel-mirrors
 * layout. Requests go through a relay so the tests can see (and cut) them.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { shardedSubdir, zstd } from '../../unit/repodata/fixtures.js';
import { download, fetchPackages, fetchRepodata, isGatewayError, type GatewayError } from '../../../src/index.js';
import { createSession } from '../../../src/session/index.js';
import { OCI_MEDIA, registryAvailable, startOciRegistry, type OciTestRegistry, type PushedPackage } from '../../helpers/servers/oci-registry.js';
import { startFileServer } from '../../helpers/servers/http.js';
import { bytes, sha256, tempDir } from '../../helpers/fs.js';
import { noSleep, testSettings } from '../../helpers/settings.js';

const SKIP = registryAvailable() ? false : 'docker-registry is not installed (apt-get install docker-registry; see .ci/apt-packages)';
const CHANNEL = 'channel-mirrors/conda-forge';
const SUBDIR = 'linux-64';
const PKG = 'xtensor-0.25.0-h2ffa867_0.conda';
const PKG_BODY = bytes(300_000, 7);
const UNDERSCORE = '_libgcc_mutex-0.1-conda_forge.tar.bz2';
const PLUS = 'libfoo-1.2+cuda!1-py_0.conda';

let reg: OciTestRegistry;
const pushed = new Map<string, PushedPackage>();

before(async () => {
  if (SKIP) return;
  reg = await startOciRegistry({ users: { alice: 's3cret-pw' } });
  for (const [name, body] of [[PKG, PKG_BODY], [UNDERSCORE, bytes(5000, 2)], [PLUS, bytes(7000, 3)],
    ['xtensor-0.24.0-h0_0.conda', bytes(9000, 4)]] as const) {
    pushed.set(name, await reg.pushPackage(CHANNEL, SUBDIR, name, body));
  }
});
after(async () => {
  if (!SKIP) await reg.close();
});

function settings(extra: Parameters<typeof testSettings>[0] = {}, env: Record<string, string> = {}) {
  return testSettings({ ociPlainHttp: [reg.relayHost, reg.host], ...extra }, { HOME: '/nonexistent', ...env });
}

function sessionFor(t: import('node:test').TestContext, extra: Parameters<typeof testSettings>[0] = {}, env: Record<string, string> = {}) {
  const logs: string[] = [];
  const session = createSession({ settings: settings(extra, env), sleep: noSleep, log: (m) => logs.push(m) });
  t.after(() => session.close());
  return { session, logs };
}

function assertNoSecret(value: unknown, secrets: readonly string[]): void {
  const texts = value instanceof Error
    ? [String(value), value.stack ?? '', inspect(value, { depth: 6 }), JSON.stringify(value)]
    : [typeof value === 'string' ? value : JSON.stringify(value)];
  for (const text of texts) for (const s of secrets) assert.ok(!text.includes(s), `secret leaked in: ${text.slice(0, 300)}`);
}

const url = (host: string, file: string, subdir = SUBDIR) => `oci://${host}/${CHANNEL}/${subdir}/${file}`;

test('anonymous pull: 401 challenge, one token per repository, reused across files and requests', { skip: SKIP }, async (t) => {
  const { session, logs } = sessionFor(t);
  const before = reg.tokens.requests.length;
  const res = await session.fetch(url(reg.relayHost, PKG));
  assert.equal(res.status, 200);
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), PKG_BODY);
  assert.equal(res.headers.get('etag'), `"${pushed.get(PKG)!.digest}"`);
  const other = await session.fetch(url(reg.relayHost, 'xtensor-0.24.0-h0_0.conda'));
  assert.equal(other.status, 200);
  await other.arrayBuffer();
  const tokenRequests = reg.tokens.requests.slice(before);
  assert.deepEqual(tokenRequests.map((r) => r.scope), [`repository:${CHANNEL}/${SUBDIR}/xtensor:pull`]);
  // Tokens are secrets: none appears in a log line.
  assert.ok(logs.some((l) => /oci: token for repository:/.test(l)));
  assertNoSecret(logs.join('\n'), reg.tokens.issued);
});

test('v0 names: `zzz` before a leading underscore, `+`→__p__ and `!`→__e__ in the tag', { skip: SKIP }, async (t) => {
  const { session } = sessionFor(t);
  for (const name of [UNDERSCORE, PLUS]) {
    const res = await session.fetch(url(reg.relayHost, name));
    assert.equal(res.status, 200, name);
    assert.equal(sha256(Buffer.from(await res.arrayBuffer())), pushed.get(name)!.sha256);
  }
  assert.equal(pushed.get(UNDERSCORE)!.repository, `${CHANNEL}/${SUBDIR}/zzz_libgcc_mutex`);
  assert.equal(pushed.get(PLUS)!.tag, '1.2__p__cuda__e__1-py_0');
});

test('a known sha256 fetches the blob by digest with no manifest request', { skip: SKIP }, async (t) => {
  const { session } = sessionFor(t);
  const seen = reg.relayed.length;
  const res = await session.fetch(url(reg.relayHost, PKG), { headers: { 'x-expected-sha256': pushed.get(PKG)!.sha256 } });
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  const paths = reg.relayed.slice(seen);
  assert.ok(paths.every((p) => !p.includes('/manifests/')), paths.join('\n'));
  assert.ok(paths.some((p) => p.includes(`/blobs/${pushed.get(PKG)!.digest}`)));
});

test('an expired token: the 401 brings one refresh and one replay', { skip: SKIP }, async (t) => {
  const { session } = sessionFor(t);
  // The session learns the realm; its next token (fetched before the request) is one the registry refuses.
  const warm = await session.fetch(url(reg.relayHost, PKG));
  await warm.arrayBuffer();
  reg.tokens.expireNext(1);
  const scope = `repository:${CHANNEL}/${SUBDIR}/zzz_libgcc_mutex:pull`;
  const mine = () => reg.tokens.requests.filter((r) => r.scope === scope).length;
  const before = mine();
  const seen = reg.relayed.length;
  const res = await session.fetch(url(reg.relayHost, UNDERSCORE));
  assert.equal(res.status, 200, 'the refused token was refreshed at once');
  await res.arrayBuffer();
  assert.equal(mine() - before, 2, 'one token, then one refresh');
  assert.equal(reg.relayed.slice(seen).filter((r) => r.includes('/manifests/')).length, 2, 'one request, one replay');
  const again = await session.fetch(url(reg.relayHost, UNDERSCORE));
  assert.equal(again.status, 200);
  await again.arrayBuffer();
  assert.equal(mine() - before, 2, 'the fresh token is cached');
});

test('credentials from the credential store go to the token service; wrong ones give a 401 that masks them', { skip: SKIP }, async (t) => {
  const dir = await tempDir(t);
  const store = join(dir, 'credentials.json');
  await writeFile(store, JSON.stringify({ '127.0.0.1': { BasicHTTP: { username: 'alice', password: 's3cret-pw' } } }));
  const { session } = sessionFor(t, {}, { RATTLER_AUTH_FILE: store });
  const res = await session.fetch(url(reg.relayHost, PKG));
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  assert.equal(reg.tokens.requests.at(-1)?.user, 'alice');

  const target = join(dir, PKG);
  const wrong = `oci://alice:wr0ng-pass@${reg.relayHost}/${CHANNEL}/${SUBDIR}/${PKG}`;
  const err = await download(wrong, target, { settings: settings(), sha256: pushed.get(PKG)!.sha256 }).catch((e: unknown) => e);
  assert.ok(isGatewayError(err));
  assert.equal((err as GatewayError).code, 'CG_HTTP_STATUS');
  assert.match(String(err), /HTTP 401/);
  assertNoSecret(err, ['wr0ng-pass', ...reg.tokens.issued]);
  assert.deepEqual(await readdir(dir), ['credentials.json']);
});

test('a missing tag is a 404 naming the oci:// URL', { skip: SKIP }, async (t) => {
  const { session } = sessionFor(t);
  const res = await session.fetch(url(reg.relayHost, 'xtensor-9.9.9-h0_0.conda'));
  assert.equal(res.status, 404);
  assert.match(await res.text(), /no tag '9\.9\.9-h0_0'/);
  const dir = await tempDir(t);
  const err = await download(url(reg.relayHost, 'nothere-1.0-0.conda'), join(dir, 'x.conda'), { settings: settings() }).catch((e: unknown) => e);
  assert.equal((err as GatewayError).code, 'CG_HTTP_STATUS');
  assert.match(String(err), /HTTP 404 NOT FOUND for url <oci:\/\//);
});

test('a blob whose bytes do not match its digest fails with CG_CHECKSUM_MISMATCH and leaves nothing', { skip: SKIP }, async (t) => {
  const body = bytes(40_000, 99);
  const name = 'corrupt-1.0-0.conda';
  const p = await reg.pushPackage(CHANNEL, SUBDIR, name, body);
  await reg.corruptBlob(p.digest);
  const { session } = sessionFor(t);
  // Without a sha256 (manifest path) the adapter's own digest check catches it.
  const res = await session.fetch(url(reg.relayHost, name));
  assert.equal(res.status, 200);
  await assert.rejects(res.arrayBuffer());
  const dir = await tempDir(t);
  const err = await download(url(reg.relayHost, name), join(dir, name), { settings: settings() }).catch((e: unknown) => e);
  assert.equal((err as GatewayError).code, 'CG_CHECKSUM_MISMATCH');
  assert.deepEqual(await readdir(dir), []);
  // With the sha256 known (blob by digest), download() proves that same digest as it streams.
  const byDigest = await download(url(reg.relayHost, name), join(dir, name), { settings: settings(), sha256: p.sha256 }).catch((e: unknown) => e);
  assert.equal((byDigest as GatewayError).code, 'CG_CHECKSUM_MISMATCH');
  assert.deepEqual(await readdir(dir), []);
});

test('an interrupted blob download resumes with Range from the registry', { skip: SKIP }, async (t) => {
  const dir = await tempDir(t);
  const seen = reg.relayed.length;
  reg.cutNextBlob(100_000);
  const result = await download(url(reg.relayHost, PKG), join(dir, PKG), {
    settings: settings(), sha256: pushed.get(PKG)!.sha256, size: PKG_BODY.length, sleep: noSleep,
  });
  // The relay cut after 100 000 bytes; what reached the file before the socket died is kept.
  assert.ok(result.resumedFrom > 0 && result.resumedFrom <= 100_000, String(result.resumedFrom));
  assert.deepEqual(await readFile(join(dir, PKG)), PKG_BODY);
  const ranged = reg.relayed.slice(seen).filter((r) => r.endsWith(` bytes=${result.resumedFrom}-`));
  assert.equal(ranged.length, 1, reg.relayed.slice(seen).join('\n'));
});

test('fetchPackages: an environment from https:// URLs mirrored to oci://, failing over to an https mirror on a 404 and on a corrupt blob', { skip: SKIP }, async (t) => {
  const plain = await startFileServer(t);
  const onlyPlain = 'onlyplain-1.0-0.conda';
  const onlyPlainBody = bytes(12_000, 11);
  plain.setFile(`/conda-forge/${SUBDIR}/${onlyPlain}`, onlyPlainBody);
  const origin = 'https://conda.anaconda.org/conda-forge';
  const mirrors = { [origin]: [`oci://${reg.relayHost}/${CHANNEL}`, `${plain.url}/conda-forge`] };
  const specs = [PKG, UNDERSCORE, onlyPlain].map((name) => {
    const body = name === onlyPlain ? onlyPlainBody : undefined;
    const sha = body ? sha256(body) : pushed.get(name)!.sha256;
    return `${origin}/${SUBDIR}/${name}#sha256=${sha}`;
  });
  // A package whose registry copy is corrupt: the digest check fails it over to the https mirror.
  const bad = 'badcopy-1.0-0.conda';
  const badBody = bytes(15_000, 12);
  const badPushed = await reg.pushPackage(CHANNEL, SUBDIR, bad, badBody);
  await reg.corruptBlob(badPushed.digest);
  plain.setFile(`/conda-forge/${SUBDIR}/${bad}`, badBody);
  specs.push(`${origin}/${SUBDIR}/${bad}#sha256=${badPushed.sha256}`);
  const pkgsDir = await tempDir(t);
  const events: string[] = [];
  const summary = await fetchPackages(specs, {
    pkgsDir, settings: settings({ mirrors }), sleep: noSleep, onEvent: (e) => events.push(e.type), extract: false, // the blobs are not archives
  });
  assert.equal(summary.failed, 0, JSON.stringify(summary.failures));
  assert.equal(summary.fetched, 4);
  assert.equal(events.filter((e) => e === 'mirror-failover').length, 2);
  assert.deepEqual(await readFile(join(pkgsDir, bad)), badBody);
  assert.equal(plain.requestsFor(`/conda-forge/${SUBDIR}/${bad}`).length, 1);
  assert.deepEqual(await readFile(join(pkgsDir, PKG)), PKG_BODY);
  assert.deepEqual(await readFile(join(pkgsDir, onlyPlain)), onlyPlainBody);
  assert.equal(plain.requestsFor(`/conda-forge/${SUBDIR}/${PKG}`).length, 0, 'the registry served what it has');
});

test('fetchRepodata of an oci:// channel reads the +zst layer of repodata.json:latest, then revalidates by digest', { skip: SKIP }, async (t) => {
  const repodata = { info: { subdir: 'noarch' }, packages: {}, 'packages.conda': { 'a-1-0.conda': { name: 'a', version: '1', build: '0' } } };
  const json = Buffer.from(JSON.stringify(repodata));
  await reg.pushRepodata(CHANNEL, 'noarch', json, zstd(json));
  const cacheDir = await tempDir(t);
  const { session } = sessionFor(t);
  const channel = `oci://${reg.relayHost}/${CHANNEL}`;
  const first = await fetchRepodata(channel, 'noarch', { cacheDir, session });
  assert.deepEqual(first.repodata['packages.conda'], repodata['packages.conda']);
  assert.equal(first.source, 'repodata.json.zst');
  const second = await fetchRepodata(channel, 'noarch', { cacheDir, session: createSession({ settings: settings({ localRepodataTtl: 0 }) }) });
  assert.equal(second.cacheResult, 'revalidated');
});

test('repodata of a channel mirrored to oci:// goes to the registry (mirrors apply to repodata too)', { skip: SKIP }, async (t) => {
  const repodata = { info: { subdir: 'noarch' }, packages: {}, 'packages.conda': { 'b-2-0.conda': { name: 'b', version: '2', build: '0' } } };
  const json = Buffer.from(JSON.stringify(repodata));
  await reg.pushRepodata('mirror/conda-forge', 'noarch', json, zstd(json));
  const cacheDir = await tempDir(t);
  const mirrors = { 'https://conda.anaconda.org/conda-forge': [`oci://${reg.relayHost}/mirror/conda-forge`] };
  const result = await fetchRepodata('https://conda.anaconda.org/conda-forge', 'noarch', { cacheDir, settings: settings({ mirrors }), sleep: noSleep });
  assert.deepEqual(result.repodata['packages.conda'], repodata['packages.conda']);
});

test('sharded repodata from the registry: the index by tag, each shard a blob by its sha256', { skip: SKIP }, async (t) => {
  const channel = 'sharded/chan';
  for (const subdir of ['linux-64', 'noarch']) {
    const records = subdir === 'noarch' ? [{ name: 'tzdata', version: '1', subdir }]
      : [{ name: 'numpy', version: '2.0', depends: ['python', 'tzdata'], subdir }, { name: 'python', version: '3.12', subdir }, { name: 'other', version: '1', subdir }];
    const files = shardedSubdir(subdir, records);
    const layers = [...files].map(([path, data]) => ({
      mediaType: path === 'repodata_shards.msgpack.zst' ? OCI_MEDIA.shardIndex : 'application/vnd.conda.repodata.shard.v1+msgpack+zst', data,
    }));
    await reg.pushManifest(`${channel}/${subdir}/repodata_shards.msgpack.zst`, 'latest', layers);
  }
  const { session } = sessionFor(t);
  const seen = reg.relayed.length;
  const result = await fetchRepodata(`oci://${reg.relayHost}/${channel}`, 'linux-64', { cacheDir: await tempDir(t), session, packages: ['numpy'] });
  assert.equal(result.source, 'shards');
  assert.deepEqual(Object.values(result.repodata['packages.conda'] ?? {}).map((r) => r.name).sort(), ['numpy', 'python']);
  const blobs = reg.relayed.slice(seen).filter((r) => r.includes('/repodata_shards.msgpack.zst/blobs/sha256:'));
  assert.ok(blobs.length >= 3, blobs.join('\n'));
});

test('a blob the registry does not have by digest (pull-through cache) falls back to the manifest', { skip: SKIP }, async (t) => {
  const { session, logs } = sessionFor(t);
  const seen = reg.relayed.length;
  const res = await session.fetch(url(reg.relayHost, PKG), { headers: { 'x-expected-sha256': 'cd'.repeat(32) } });
  assert.equal(res.status, 200);
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), PKG_BODY);
  const paths = reg.relayed.slice(seen);
  const blobMiss = paths.findIndex((p) => p.includes(`/blobs/sha256:${'cd'.repeat(32)}`));
  const manifest = paths.findIndex((p) => p.includes('/manifests/0.25.0-h2ffa867_0'));
  assert.ok(blobMiss >= 0 && manifest > blobMiss, paths.join('\n'));
  assert.ok(logs.some((l) => /not found by digest; trying the manifest/.test(l)));
});

test('the CEP v1 encoding (oci_encoding: v1): c-prefixed repository, _→__ in the tag', { skip: SKIP }, async (t) => {
  const body = bytes(8000, 31);
  await reg.pushManifest('v1chan/linux-64/c_libgcc_mutex', '0.1-conda__forge', [{ mediaType: OCI_MEDIA.condaV1, data: body }],
    { 'org.conda.oci.schema': '1', 'org.conda.package.name': '_libgcc_mutex', 'org.conda.package.version': '0.1', 'org.conda.package.build': 'conda_forge' });
  const { session } = sessionFor(t, { ociEncoding: 'v1' });
  const res = await session.fetch(`oci://${reg.relayHost}/v1chan/linux-64/${UNDERSCORE}`);
  assert.equal(res.status, 200);
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), body);
});
