import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadSettings } from '../../../src/index.js';
import { MirrorSelector, condaSubdir, defaultPkgsDir, urlForCache } from '../../../src/packages/index.js';
import { runScheduled } from '../../../src/packages/scheduler.js';

const CF = 'https://conda.anaconda.org/conda-forge';

test('the longest matching prefix picks the mirror list and the rest of the URL is kept', () => {
  const m = new MirrorSelector({
    'https://conda.anaconda.org': ['https://generic.example/'],
    [CF]: ['https://m1.example/cf', 'https://m2.example/cf/'],
  });
  assert.deepEqual(m.candidates(`${CF}/linux-64/a-1-0.conda`).map((c) => c.url),
    ['https://m1.example/cf/linux-64/a-1-0.conda', 'https://m2.example/cf/linux-64/a-1-0.conda']);
  assert.deepEqual(m.candidates('https://conda.anaconda.org/bioconda/noarch/b-1-0.conda').map((c) => c.url),
    ['https://generic.example/bioconda/noarch/b-1-0.conda']);
  assert.deepEqual(m.candidates('https://other.example/x/noarch/c-1-0.conda').map((c) => c.isOriginal), [true]);
});

test('the original URL is used only when listed, and then last', () => {
  const m = new MirrorSelector({ [CF]: [CF, 'https://m1.example/cf'] });
  const c = m.candidates(`${CF}/noarch/a-1-0.conda`);
  assert.deepEqual(c.map((x) => x.url), ['https://m1.example/cf/noarch/a-1-0.conda', `${CF}/noarch/a-1-0.conda`]);
  assert.equal(c[1]!.isOriginal, true);
});

test('mirrors with fewer failures are preferred; ties keep the configured order', () => {
  const m = new MirrorSelector({ [CF]: ['https://m1.example/', 'https://m2.example/', 'https://m3.example/'] });
  m.recordFailure('https://m1.example/');
  m.recordFailure('https://m1.example/');
  m.recordFailure('https://m2.example/');
  assert.deepEqual(m.candidates(`${CF}/noarch/a.conda`).map((c) => c.base),
    ['https://m3.example/', 'https://m2.example/', 'https://m1.example/']);
});

test('the scheduler starts the largest first and never exceeds the global and per-host limits', async () => {
  const started: string[] = [];
  let active = 0;
  let maxActive = 0;
  const perHost = new Map<string, number>();
  let maxPerHost = 0;
  const task = (name: string, host: string, size?: number) => ({
    name, host, size,
    run: async () => {
      started.push(name);
      active++;
      perHost.set(host, (perHost.get(host) ?? 0) + 1);
      maxActive = Math.max(maxActive, active);
      maxPerHost = Math.max(maxPerHost, perHost.get(host)!);
      await new Promise((r) => setTimeout(r, 5));
      active--;
      perHost.set(host, perHost.get(host)! - 1);
    },
  });
  const tasks = [task('s', 'a', 1), task('u', 'b'), task('l', 'a', 100), task('m', 'a', 50), task('x', 'b', 70), task('y', 'b', 2)];
  const left = await runScheduled(tasks, { limit: 3, perHost: 2 });
  assert.deepEqual(left, []);
  assert.deepEqual(started.slice(0, 3), ['l', 'x', 'm']);
  assert.equal(started.at(-1), 'u', 'unknown sizes go last');
  assert.ok(maxActive <= 3);
  assert.ok(maxPerHost <= 2);
});

test('an aborted schedule starts nothing more and returns the tasks not started', async () => {
  const ac = new AbortController();
  const ran: number[] = [];
  const tasks = [1, 2, 3, 4].map((n) => ({ host: 'h', size: 10 - n, run: async () => {
    ran.push(n);
    if (n === 1) ac.abort();
  } }));
  const left = await runScheduled(tasks, { limit: 1, perHost: 1, signal: ac.signal });
  assert.deepEqual(ran, [1]);
  assert.equal(left.length, 3);
});

test('the default pkgs dir follows pkgs_dirs, CONDA_PKGS_DIRS, then ~/.conda/pkgs', () => {
  assert.equal(defaultPkgsDir(loadSettings({ homeDir: '/home/u' })), '/home/u/.conda/pkgs');
  assert.equal(defaultPkgsDir(loadSettings({ homeDir: '/home/u', env: { CONDA_PKGS_DIRS: '/data/pkgs,/other' } })), '/data/pkgs');
  assert.equal(defaultPkgsDir(loadSettings({ homeDir: '/home/u', layers: [{ origin: 'test', values: { pkgs_dirs: ['~/mypkgs'] } }] })), '/home/u/mypkgs');
});

test('urls.txt lines never carry credentials or tokens', () => {
  assert.equal(urlForCache('https://user:pw@repo.example/t/tk-123/main/linux-64/a-1-0.conda#abc'), 'https://repo.example/main/linux-64/a-1-0.conda');
});

test('conda subdirs are named as conda names them', () => {
  assert.equal(condaSubdir('linux', 'x64'), 'linux-64');
  assert.equal(condaSubdir('linux', 'arm64'), 'linux-aarch64');
  assert.equal(condaSubdir('darwin', 'arm64'), 'osx-arm64');
  assert.equal(condaSubdir('win32', 'x64'), 'win-64');
  assert.equal(condaSubdir('linux', 'ppc64'), 'linux-ppc64le');
});
