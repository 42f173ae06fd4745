import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/fs.js';
import { repodataOf, shardedSubdir, type FixtureRecord } from '../../unit/repodata/fixtures.js';
import { startChannelServer } from './channel-server.js';

const LINUX: FixtureRecord[] = [
  { name: 'demo-cli', version: '1.2.0', subdir: 'linux-64', depends: ['python >=3.12'] },
  { name: 'python', version: '3.12.7', subdir: 'linux-64', depends: ['tzdata'] },
  { name: 'other', version: '1', subdir: 'linux-64' },
];
const NOARCH: FixtureRecord[] = [{ name: 'tzdata', version: '2026a', subdir: 'noarch' }];

async function setup(t: Parameters<typeof startChannelServer>[0]) {
  const server = await startChannelServer(t);
  server.setRepodata('linux-64', repodataOf('linux-64', LINUX));
  server.setRepodata('noarch', repodataOf('noarch', NOARCH));
  server.setFiles('linux-64', shardedSubdir('linux-64', LINUX));
  server.setFiles('noarch', shardedSubdir('noarch', NOARCH));
  return { server, cacheDir: await tempDir(t) };
}

interface Row { subdir: string; ok: boolean; cacheResult: string; source: string; packages: number; repodata?: { 'packages.conda': Record<string, { name: string }> } }

test('repodata fetches every subdir in parallel, then answers from the cache', async (t) => {
  const { server, cacheDir } = await setup(t);
  const args = ['repodata', server.url, '--subdir', 'linux-64', '--subdir', 'noarch', '--cache-dir', cacheDir, '--json'];
  const first = await runCli(args);
  assert.equal(first.code, 0, first.stderr);
  const rows = (JSON.parse(first.stdout) as { ok: boolean; results: Row[] }).results;
  assert.deepEqual(rows.map((r) => [r.subdir, r.cacheResult, r.source, r.packages]), [
    ['linux-64', 'miss', 'repodata.json.zst', 3], ['noarch', 'miss', 'repodata.json.zst', 1],
  ]);
  const second = await runCli(args);
  assert.deepEqual((JSON.parse(second.stdout) as { results: Row[] }).results.map((r) => r.cacheResult), ['hit', 'hit']);
});

test('channel names resolve through channel_alias, and -v prints each result with its cache file', async (t) => {
  const { server, cacheDir } = await setup(t);
  const res = await runCli(['repodata', 'chan', '--subdir', 'linux-64', '--cache-dir', cacheDir, '-v'],
    { env: { CONDA_CHANNEL_ALIAS: server.url } });
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stderr, new RegExp(`${server.url}/chan/linux-64: miss +3 packages from repodata\\.json\\.zst\\n {4}cache: .*\\.json`));
});

test('--package prints the subset assembled from shards', async (t) => {
  const { server, cacheDir } = await setup(t);
  const res = await runCli(['repodata', server.url, '--subdir', 'linux-64', '--subdir', 'noarch', '--package', 'demo-cli', '--cache-dir', cacheDir]);
  assert.equal(res.code, 0, res.stderr);
  const subset = JSON.parse(res.stdout) as Record<string, { 'packages.conda': Record<string, { name: string }> }>;
  const names = (url: string) => Object.values(subset[url]?.['packages.conda'] ?? {}).map((r) => r.name).sort();
  assert.deepEqual(names(`${server.url}/linux-64`), ['demo-cli', 'python']);
  assert.deepEqual(names(`${server.url}/noarch`), ['tzdata']);
  assert.match(res.stderr, /linux-64: miss +2 packages from shards/);
});

test('--package without shards on the server prints the same subset, cut from the full indexes', async (t) => {
  const { server, cacheDir } = await setup(t);
  server.mode('linux-64', { shardIndexStatus: 404 });
  const res = await runCli(['repodata', server.url, '--subdir', 'linux-64', '--package', 'demo-cli', '--cache-dir', cacheDir]);
  assert.equal(res.code, 0, res.stderr);
  const subset = JSON.parse(res.stdout) as Record<string, { 'packages.conda': Record<string, { name: string }> }>;
  // The closure needs tzdata from noarch: printed although only linux-64 was asked for.
  assert.deepEqual(Object.keys(subset), [`${server.url}/linux-64`, `${server.url}/noarch`]);
  assert.deepEqual(Object.values(subset[`${server.url}/linux-64`]!['packages.conda']).map((r) => r.name).sort(), ['demo-cli', 'python']);
  assert.deepEqual(Object.values(subset[`${server.url}/noarch`]!['packages.conda']).map((r) => r.name), ['tzdata']);
  assert.match(res.stderr, /linux-64: miss +2 packages from repodata\.json\.zst/);
});

test('--subdir linux-64 --package prints the noarch records of the closure too, from shards, text and --json', async (t) => {
  const { server, cacheDir } = await setup(t);
  const res = await runCli(['repodata', server.url, '--subdir', 'linux-64', '--package', 'demo-cli', '--cache-dir', cacheDir]);
  assert.equal(res.code, 0, res.stderr);
  const subset = JSON.parse(res.stdout) as Record<string, { 'packages.conda': Record<string, { name: string }> }>;
  assert.deepEqual(Object.values(subset[`${server.url}/noarch`]?.['packages.conda'] ?? {}).map((r) => r.name), ['tzdata']);
  assert.match(res.stderr, /noarch: miss +1 packages from shards/);
  const json = await runCli(['repodata', server.url, '--subdir', 'linux-64', '--package', 'demo-cli', '--cache-dir', cacheDir, '--json']);
  const rows = (JSON.parse(json.stdout) as { results: Row[] }).results;
  const all = rows.flatMap((r) => Object.values(r.repodata?.['packages.conda'] ?? {}).map((x) => x.name)).sort();
  assert.deepEqual(all, ['demo-cli', 'python', 'tzdata']);
});

test('a channel without noarch fails with UnavailableInvalidChannel and exit status 4', async (t) => {
  const { server, cacheDir } = await setup(t);
  server.mode('noarch', { missing: true });
  const res = await runCli(['repodata', server.url, '--subdir', 'noarch', '--cache-dir', cacheDir]);
  assert.equal(res.code, 4);
  assert.match(res.stderr, /UnavailableInvalidChannel: HTTP 404 NOT FOUND for channel/);
  const json = await runCli(['repodata', server.url, '--subdir', 'noarch', '--cache-dir', cacheDir, '--json']);
  const out = JSON.parse(json.stdout) as { ok: boolean; results: Array<{ error: { code: string } }> };
  assert.equal(out.ok, false);
  assert.equal(out.results[0]?.error.code, 'CG_CHANNEL_UNAVAILABLE');
});

test('--offline with nothing cached reports stale empty indexes without any request', async (t) => {
  const { server, cacheDir } = await setup(t);
  const res = await runCli(['--offline', 'repodata', server.url, '--subdir', 'linux-64', '--cache-dir', cacheDir, '--json']);
  assert.equal(res.code, 0, res.stderr);
  const [row] = (JSON.parse(res.stdout) as { results: Row[] }).results;
  assert.equal(row?.cacheResult, 'stale');
  assert.equal(row?.packages, 0);
  assert.equal(server.requests.length, 0);
});
