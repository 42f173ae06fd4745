/**
 * fetch with extraction, end to end over a real HTTP server with real packages built by
 * cph: the cache conda reuses (folder + repodata_record.json), urls.txt once per package,
 * cache recognition without tarballs, credentials kept out unless asked for, and an
 * unsafe package leaving nothing behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fetchPackages, type FetchEvent, type PackageSpec } from '../../../src/index.js';
import { bzip2, condaFromTars, CPH_MISSING, cphCreate, hasTool, infoEntries, rawTar, writePackageTree } from '../../helpers/conda-packages.js';
import { startFileServer, type FileServer } from '../../helpers/servers/http.js';
import { bytes, md5, sha256, tempDir } from '../../helpers/fs.js';
import { testSettings } from '../../helpers/settings.js';

interface Built {
  fileName: string;
  body: Buffer;
}

async function buildPackages(dir: string): Promise<Built[]> {
  const out: Built[] = [];
  for (const [i, ext] of (['.conda', '.tar.bz2', '.conda'] as const).entries()) {
    const name = `p${i}`;
    const root = join(dir, `src-${name}`);
    await writePackageTree(root, { name, version: '1.0', build: 'h0_0', subdir: 'linux-64', timestamp: 1706560445458 }, [
      { path: `bin/${name}`, data: '#!/bin/sh\n', mode: 0o755 }, { path: `share/${name}.dat`, data: bytes(20_000 + i, i + 1) },
    ]);
    const fileName = `${name}-1.0-h0_0${ext}`;
    out.push({ fileName, body: await readFile(cphCreate(root, join(dir, 'built'), fileName)) });
  }
  return out;
}

function serve(server: FileServer, pkgs: Built[], prefix: string): PackageSpec[] {
  return pkgs.map((p) => {
    server.setFile(`${prefix}${p.fileName}`, p.body);
    return { url: `${server.url}${prefix}${p.fileName}`, fileName: p.fileName, sha256: sha256(p.body) };
  });
}

const gets = (server: FileServer): number => server.requests.filter((r) => r.method === 'GET').length;

test('fetch extracts each package with the record conda reads; a rerun, even without tarballs, makes no request', async (t) => {
  if (!hasTool('cph', ['--version'])) return t.skip(CPH_MISSING);
  const dir = await tempDir(t);
  const server = await startFileServer(t);
  const pkgs = await buildPackages(dir);
  const specs = serve(server, pkgs, '/conda-forge/linux-64/');
  const pkgsDir = join(dir, 'pkgs');
  const events: FetchEvent[] = [];
  const first = await fetchPackages(specs, { pkgsDir, settings: testSettings(), onEvent: (e) => events.push(e) });
  assert.equal(first.failed, 0, JSON.stringify(first.failures));
  assert.equal(first.fetched, 3);
  assert.equal(first.extracted, 3);
  const plan = events.find((e) => e.type === 'plan');
  assert.equal(plan?.type === 'plan' && plan.toExtract, 3);
  assert.equal(events.filter((e) => e.type === 'extract-start').length, 3);
  assert.equal(events.filter((e) => e.type === 'extracted').length, 3);
  assert.deepEqual(events.flatMap((e) => (e.type === 'extracted' ? [e.streamed] : [])), [true, true, true], 'extracted while downloading');
  for (const p of pkgs) {
    const stem = p.fileName.replace(/\.(conda|tar\.bz2)$/, '');
    const record = JSON.parse(await readFile(join(pkgsDir, stem, 'info', 'repodata_record.json'), 'utf8'));
    assert.equal(record.sha256, sha256(p.body));
    assert.equal(record.md5, md5(p.body));
    assert.equal(record.size, p.body.length);
    assert.equal(record.fn, p.fileName);
    assert.equal(record.url, `${server.url}/conda-forge/linux-64/${p.fileName}`);
    assert.equal(record.channel, `${server.url}/conda-forge/linux-64`);
    assert.equal((await readFile(join(pkgsDir, stem, 'bin', stem.split('-')[0]!))).toString(), '#!/bin/sh\n');
  }
  const urlsTxt = async (): Promise<string[]> => (await readFile(join(pkgsDir, 'urls.txt'), 'utf8')).split('\n').filter(Boolean).sort();
  const expectedUrls = specs.map((s) => s.url).sort();
  assert.deepEqual(await urlsTxt(), expectedUrls);
  assert.deepEqual((await readdir(pkgsDir)).filter((n) => n.startsWith('.') || n.endsWith('.partial')), [], 'no temp folders or lock files');

  const requests = gets(server);
  const second = await fetchPackages(specs, { pkgsDir, settings: testSettings() });
  assert.equal(second.cached, 3);
  assert.equal(second.extracted, 0);
  assert.equal(gets(server), requests, 'no request for a cached package');

  // conda clean --tarballs: the extracted folders alone still count.
  for (const p of pkgs) await rm(join(pkgsDir, p.fileName));
  const third = await fetchPackages(specs, { pkgsDir, settings: testSettings() });
  assert.equal(third.cached, 3);
  assert.equal(gets(server), requests, 'extracted folders without tarballs are cached');
  assert.deepEqual(await urlsTxt(), expectedUrls, 'every URL exactly once');
});

test('a tarball already in the cache (e.g. from download()) is extracted and its URL recorded, with no request', async (t) => {
  if (!hasTool('cph', ['--version'])) return t.skip(CPH_MISSING);
  const dir = await tempDir(t);
  const server = await startFileServer(t);
  const pkgs = await buildPackages(dir);
  const specs = serve(server, pkgs, '/c/noarch/');
  const pkgsDir = join(dir, 'pkgs');
  await fetchPackages(specs, { pkgsDir, settings: testSettings(), extract: false });
  await writeFile(join(pkgsDir, 'urls.txt'), '');
  const before = gets(server);
  const summary = await fetchPackages(specs, { pkgsDir, settings: testSettings() });
  assert.equal(gets(server), before);
  assert.equal(summary.cached, 3);
  assert.equal(summary.extracted, 3);
  const lines = (await readFile(join(pkgsDir, 'urls.txt'), 'utf8')).split('\n').filter(Boolean);
  assert.deepEqual(lines.sort(), specs.map((s) => s.url).sort());
});

test('a /t/<token>/ URL: the token is written nowhere by default, and only with keepCredentials', async (t) => {
  if (!hasTool('cph', ['--version'])) return t.skip(CPH_MISSING);
  const dir = await tempDir(t);
  const server = await startFileServer(t);
  const pkgs = (await buildPackages(dir)).slice(0, 1);
  const specs = serve(server, pkgs, '/t/tk-SECRET123/chan/linux-64/');
  const grepDir = async (root: string): Promise<string[]> => {
    const hits: string[] = [];
    for (const name of await readdir(root, { recursive: true })) {
      const text = await readFile(join(root, name)).catch(() => Buffer.alloc(0));
      if (text.includes('tk-SECRET123')) hits.push(name);
    }
    return hits;
  };
  const plain = join(dir, 'plain');
  await fetchPackages(specs, { pkgsDir: plain, settings: testSettings() });
  assert.deepEqual(await grepDir(plain), []);
  const stem = pkgs[0]!.fileName.replace(/\.conda$/, '');
  const record = JSON.parse(await readFile(join(plain, stem, 'info', 'repodata_record.json'), 'utf8'));
  assert.equal(record.url, `${server.url}/chan/linux-64/${pkgs[0]!.fileName}`);

  const kept = join(dir, 'kept');
  await fetchPackages(specs, { pkgsDir: kept, settings: testSettings({ pkgsKeepCredentials: true }) });
  assert.deepEqual((await grepDir(kept)).sort(), [join(stem, 'info', 'repodata_record.json'), 'urls.txt'].sort());
  const keptRecord = JSON.parse(await readFile(join(kept, stem, 'info', 'repodata_record.json'), 'utf8'));
  assert.equal(keptRecord.url, specs[0]!.url);
  assert.equal(keptRecord.channel, `${server.url}/chan/linux-64`, 'the channel never carries the token, as in conda');
});

test('an unsafe package fails typed; its tarball is removed, no folder and no urls.txt line are left', async (t) => {
  if (!hasTool('zstd', ['--version']) || !hasTool('bzip2', ['--help'])) return t.skip('zstd and bzip2 tools are needed');
  const dir = await tempDir(t);
  const server = await startFileServer(t);
  const index = { name: 'bad', version: '1', build: '0', subdir: 'noarch' };
  const conda = condaFromTars('bad-1-0', await rawTar(infoEntries(index)), await rawTar([{ name: '../../escape', data: 'x' }]));
  const bz2 = bzip2(await rawTar([...infoEntries({ ...index, name: 'bad2' }), { name: 'dev/x', type: 'fifo' }]));
  server.setFile('/c/noarch/bad-1-0.conda', conda);
  server.setFile('/c/noarch/bad2-1-0.tar.bz2', bz2);
  const pkgsDir = join(dir, 'pkgs');
  const summary = await fetchPackages([
    { url: `${server.url}/c/noarch/bad-1-0.conda`, fileName: 'bad-1-0.conda', sha256: sha256(conda) },
    { url: `${server.url}/c/noarch/bad2-1-0.tar.bz2`, fileName: 'bad2-1-0.tar.bz2', sha256: sha256(bz2) },
  ], { pkgsDir, settings: testSettings() });
  assert.equal(summary.failed, 2);
  assert.deepEqual(summary.failures.map((f) => [f.fileName, f.error.code, f.error.details.entry]).sort(), [
    ['bad-1-0.conda', 'CG_PACKAGE_UNSAFE', '../../escape'], ['bad2-1-0.tar.bz2', 'CG_PACKAGE_UNSAFE', 'dev/x'],
  ]);
  assert.deepEqual((await readdir(pkgsDir)).sort(), ['urls', 'urls.txt']);
  assert.equal(await readFile(join(pkgsDir, 'urls.txt'), 'utf8'), '');
  assert.deepEqual((await readdir(dir)).sort(), ['pkgs']);
});
