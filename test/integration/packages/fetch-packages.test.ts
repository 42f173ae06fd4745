import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fetchPackages, loadSettings, type FetchEvent, type PackageSpec } from '../../../src/index.js';
import { startFileServer, type FileServer } from '../../helpers/servers/http.js';
import { bytes, listDir, sha256, md5, tempDir } from '../../helpers/fs.js';
import { noSleep } from '../../helpers/settings.js';

interface Pkg {
  name: string;
  body: Buffer;
}

function makePackages(count: number, base = 40_000): Pkg[] {
  return Array.from({ length: count }, (_, i) => ({ name: `pkg${i}-1.0-h0_0.conda`, body: bytes(base + i * 10_000, i + 3) }));
}

function serve(server: FileServer, pkgs: Pkg[], prefix = '/conda-forge/linux-64/'): void {
  for (const p of pkgs) server.setFile(prefix + p.name, p.body);
}

function specsFor(url: string, pkgs: Pkg[], prefix = '/conda-forge/linux-64/'): PackageSpec[] {
  return pkgs.map((p) => ({ url: url + prefix + p.name, fileName: p.name, sha256: sha256(p.body), size: p.body.length }));
}

function settingsWith(mirrors: Record<string, string[]> = {}, extra: Record<string, unknown> = {}) {
  return loadSettings({
    layers: [{ origin: 'test', values: { mirrors, ...extra } }],
    overrides: { remoteBackoffFactor: 0, remoteRetryAfterMaxSecs: 0 },
  });
}

function gets(server: FileServer, path?: string): number {
  return server.requests.filter((r) => r.method === 'GET' && (path === undefined || r.path === path)).length;
}

async function assertOnlyVerified(dir: string, pkgs: Pkg[]): Promise<void> {
  const files = await listDir(dir);
  assert.deepEqual(files.filter((f) => f.endsWith('.partial')), [], 'no partial files left');
  for (const p of pkgs) {
    if (files.includes(p.name)) assert.equal(sha256(await readFile(join(dir, p.name))), sha256(p.body), `${p.name} verifies`);
  }
}

test('fetches an environment into a conda pkgs dir with urls.txt, then serves it all from the cache with zero requests', async (t) => {
  const server = await startFileServer(t);
  const pkgs = makePackages(6);
  serve(server, pkgs);
  const dir = join(await tempDir(t), 'pkgs');
  const events: FetchEvent[] = [];
  const summary = await fetchPackages(specsFor(server.url, pkgs), { extract: false, pkgsDir: dir, jobs: 3, settings: settingsWith(), onEvent: (e) => events.push(e) });
  assert.equal(summary.fetched, 6);
  assert.equal(summary.failed, 0);
  assert.equal(summary.bytesFetched, pkgs.reduce((n, p) => n + p.body.length, 0));
  assert.deepEqual(await listDir(dir), [...pkgs.map((p) => p.name), 'urls', 'urls.txt'].sort());
  await assertOnlyVerified(dir, pkgs);
  const urls = (await readFile(join(dir, 'urls.txt'), 'utf8')).trim().split('\n').sort();
  assert.deepEqual(urls, pkgs.map((p) => `${server.url}/conda-forge/linux-64/${p.name}`).sort());
  const starts = events.filter((e) => e.type === 'start').map((e) => (e as { fileName: string }).fileName);
  assert.deepEqual(starts.slice(0, 3).sort(), pkgs.slice(3).map((p) => p.name).sort(), 'largest first');
  assert.equal(events.at(-1)?.type, 'summary');
  assert.equal(gets(server), 6);

  const again: FetchEvent[] = [];
  const second = await fetchPackages(specsFor(server.url, pkgs), { extract: false, pkgsDir: dir, settings: settingsWith(), onEvent: (e) => again.push(e) });
  assert.equal(second.cached, 6);
  assert.equal(second.fetched, 0);
  assert.equal(gets(server), 6, 'no request at all when everything is cached');
  assert.equal(server.requests.length, 6);
  assert.equal(again.filter((e) => e.type === 'cached').length, 6);
  assert.equal((await readFile(join(dir, 'urls.txt'), 'utf8')).trim().split('\n').length, 6, 'urls.txt not appended twice');
});

test('a finished run removes empty .partial files nobody holds beside the packages it placed or found; held or non-empty ones stay', async (t) => {
  const server = await startFileServer(t);
  const pkgs = makePackages(4);
  serve(server, pkgs);
  const dir = join(await tempDir(t), 'pkgs');
  const specs = specsFor(server.url, pkgs);
  await fetchPackages(specs, { extract: false, pkgsDir: dir, settings: settingsWith() });
  // What peers killed under conda's lock protocol leave: empty partials beside complete packages.
  await writeFile(join(dir, `${pkgs[0]!.name}.partial`), '');
  await writeFile(join(dir, `${pkgs[1]!.name}.partial`), '');
  await writeFile(join(dir, `${pkgs[2]!.name}.partial`), pkgs[2]!.body.subarray(0, 100));
  const { lockFile } = await import('../../../src/core/file-lock.js');
  const held = await lockFile(join(dir, `${pkgs[1]!.name}.partial`));
  try {
    const again = await fetchPackages(specs, { extract: false, pkgsDir: dir, settings: settingsWith() });
    assert.equal(again.cached, 4);
  } finally {
    await held.release();
  }
  assert.deepEqual(await listDir(dir), [...pkgs.map((p) => p.name), `${pkgs[1]!.name}.partial`, `${pkgs[2]!.name}.partial`, 'urls', 'urls.txt'].sort());
  assert.deepEqual(await readFile(join(dir, `${pkgs[2]!.name}.partial`)), pkgs[2]!.body.subarray(0, 100), 'bytes are never removed');
  assert.equal(gets(server), 4, 'the second run made no request');
});

test('mirrors: a bad mirror (404, 500, wrong bytes) fails over to the next, is counted, and is avoided afterwards', async (t) => {
  const primary = await startFileServer(t);
  const bad = await startFileServer(t);
  const good = await startFileServer(t);
  const pkgs = makePackages(6);
  serve(primary, pkgs);
  serve(good, pkgs, '/cf/linux-64/');
  const [a, b, c] = [pkgs[5]!, pkgs[4]!, pkgs[3]!];
  // bad: a missing (404), b always 500, c with altered bytes, the rest fine.
  bad.route(`/cf/linux-64/${b.name}`, (_req, res) => { res.writeHead(500); res.end('boom'); });
  const corrupt = Buffer.from(c.body);
  corrupt[100] = corrupt[100]! ^ 0xff;
  bad.setFile(`/cf/linux-64/${c.name}`, corrupt);
  serve(bad, pkgs.slice(0, 3), '/cf/linux-64/');
  const settings = settingsWith({ [`${primary.url}/conda-forge`]: [`${bad.url}/cf`, `${good.url}/cf`] }, { remote_max_retries: 1 });
  const events: FetchEvent[] = [];
  const summary = await fetchPackages(specsFor(primary.url, pkgs), { extract: false,
    pkgsDir: join(await tempDir(t), 'pkgs'), jobs: 3, settings, sleep: noSleep, onEvent: (e) => events.push(e),
  });
  assert.equal(summary.failed, 0, JSON.stringify(summary.failures));
  assert.equal(summary.fetched, 6);
  await assertOnlyVerified(summary.pkgsDir, pkgs);
  const failovers = events.filter((e): e is Extract<FetchEvent, { type: 'mirror-failover' }> => e.type === 'mirror-failover');
  assert.deepEqual(failovers.map((f) => f.fileName).sort(), [a.name, b.name, c.name].sort());
  assert.deepEqual(failovers.map((f) => f.code).sort(), ['CG_CHECKSUM_MISMATCH', 'CG_HTTP_STATUS', 'CG_HTTP_STATUS']);
  assert.ok(failovers.every((f) => f.to?.startsWith(good.url)));
  assert.equal(gets(primary), 0, 'the original URL is not used when it is not listed');
  // After three failures the bad mirror is tried last, so the smaller packages go to the good one first.
  for (const p of pkgs.slice(0, 3)) assert.equal(gets(bad, `/cf/linux-64/${p.name}`), 0, `${p.name} not asked of the failing mirror`);
  assert.equal(gets(bad, `/cf/linux-64/${b.name}`), 2, '500 retried per remote_max_retries, then failed over');
  const done = events.filter((e): e is Extract<FetchEvent, { type: 'done' }> => e.type === 'done');
  assert.ok(done.every((d) => d.from.startsWith(good.url)));
  const urls = await readFile(join(summary.pkgsDir, 'urls.txt'), 'utf8');
  assert.ok(urls.split('\n').filter(Boolean).every((u) => u.startsWith(`${primary.url}/conda-forge/`)), 'urls.txt records the channel URL');
});

test('when every mirror fails the package fails with each mirror named; others still land; nothing half-written', async (t) => {
  const primary = await startFileServer(t);
  const m1 = await startFileServer(t);
  const pkgs = makePackages(3);
  serve(primary, pkgs.slice(0, 2));
  serve(m1, pkgs.slice(0, 2), '/m/linux-64/');
  const settings = settingsWith({ [`${primary.url}/conda-forge`]: [`${m1.url}/m`, `${primary.url}/conda-forge`] });
  const summary = await fetchPackages(specsFor(primary.url, pkgs), { extract: false, pkgsDir: join(await tempDir(t), 'p'), settings });
  assert.equal(summary.fetched, 2);
  assert.equal(summary.failed, 1);
  const failure = summary.failures[0]!;
  assert.equal(failure.fileName, pkgs[2]!.name);
  assert.equal(failure.error.code, 'CG_MIRRORS_EXHAUSTED');
  assert.match(failure.error.message, new RegExp(`${m1.url}/m/linux-64/${pkgs[2]!.name}: CG_HTTP_STATUS`));
  assert.match(failure.error.message, new RegExp(`${primary.url}/conda-forge/linux-64/${pkgs[2]!.name}: CG_HTTP_STATUS`));
  assert.equal(gets(primary, `/conda-forge/linux-64/${pkgs[2]!.name}`), 1, 'original tried last because it is listed');
  assert.deepEqual(await listDir(summary.pkgsDir), [pkgs[0]!.name, pkgs[1]!.name, 'urls', 'urls.txt'].sort());
});

test('a URL without a checksum is fetched and reported unverified; an existing file is never trusted over a mismatching checksum', async (t) => {
  const server = await startFileServer(t);
  const [p] = makePackages(1);
  serve(server, [p!]);
  const dir = join(await tempDir(t), 'pkgs');
  const url = `${server.url}/conda-forge/linux-64/${p!.name}`;
  const first = await fetchPackages([url], { extract: false, pkgsDir: dir, settings: settingsWith() });
  assert.equal(first.fetched, 1);
  assert.equal(first.unverified, 1);
  assert.equal(first.packages[0]!.unverified, true);
  await writeFile(join(dir, p!.name), 'garbage');
  const second = await fetchPackages([`${url}#${md5(p!.body)}`], { extract: false, pkgsDir: dir, settings: settingsWith() });
  assert.equal(second.fetched, 1, 'a cached file that fails its checksum is fetched again');
  assert.equal(second.unverified, 0);
  assert.deepEqual(await readFile(join(dir, p!.name)), p!.body);
});

test('a pkgs dir that cannot be written is a clear error before any request', async (t) => {
  const server = await startFileServer(t);
  const pkgs = makePackages(2);
  serve(server, pkgs);
  const base = await tempDir(t);
  await writeFile(join(base, 'file'), 'x');
  await assert.rejects(fetchPackages(specsFor(server.url, pkgs), { extract: false, pkgsDir: join(base, 'file', 'pkgs'), settings: settingsWith() }),
    (e: unknown) => (e as { code?: string }).code === 'CG_PERMISSION' && /file\/pkgs/.test((e as Error).message));
  assert.equal(server.requests.length, 0);
});

test('dry run makes no request and writes nothing', async (t) => {
  const server = await startFileServer(t);
  const pkgs = makePackages(2);
  const dir = join(await tempDir(t), 'pkgs');
  const summary = await fetchPackages(specsFor(server.url, pkgs), { extract: false, pkgsDir: dir, dryRun: true, settings: settingsWith() });
  assert.equal(summary.dryRun, true);
  assert.equal(summary.notStarted, 2);
  assert.deepEqual(summary.packages.map((p) => p.status), ['would-fetch', 'would-fetch']);
  assert.equal(server.requests.length, 0);
  await assert.rejects(listDir(dir));
});

test('fail-fast stops at the first failure and starts nothing more', async (t) => {
  const server = await startFileServer(t);
  const pkgs = makePackages(4);
  serve(server, pkgs.slice(0, 3));
  const summary = await fetchPackages(specsFor(server.url, pkgs), { extract: false, pkgsDir: join(await tempDir(t), 'p'), jobs: 1, failFast: true, settings: settingsWith() });
  assert.equal(summary.failed, 1);
  assert.equal(summary.fetched, 0);
  assert.equal(summary.notStarted, 3);
  assert.equal(gets(server), 1);
});

test('credentials in package URLs never reach events, errors, the summary or urls.txt', async (t) => {
  const server = await startFileServer(t);
  const pkgs = makePackages(2);
  serve(server, pkgs, '/t/tk-s3cr3t/cf/linux-64/');
  const base = server.url.replace('http://', 'http://user:pa55s3cr3t@');
  const specs = specsFor(base, pkgs, '/t/tk-s3cr3t/cf/linux-64/');
  specs.push({ url: `${base}/t/tk-s3cr3t/cf/linux-64/missing-1-0.conda`, fileName: 'missing-1-0.conda' });
  const events: FetchEvent[] = [];
  const summary = await fetchPackages(specs, { extract: false, pkgsDir: join(await tempDir(t), 'p'), settings: settingsWith(), onEvent: (e) => events.push(e) });
  assert.equal(summary.fetched, 2);
  assert.equal(summary.failed, 1);
  const text = JSON.stringify(events) + JSON.stringify(summary) + (await readFile(join(summary.pkgsDir, 'urls.txt'), 'utf8'));
  assert.ok(!text.includes('s3cr3t'), 'no secret in output');
  assert.match(text, /\/t\/<TOKEN>\//);
});
