/**
 * Issue 16, item 1: a lock or spec file naming a package file that leaves the cache.
 * Each attack runs the real CLI against a real server on 127.0.0.1 that would serve the
 * bytes, then looks at the disk: the victim file is untouched, nothing exists outside the
 * pkgs dir, and no request was made.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fetchPackages, loadSettings } from '../../src/index.js';
import { startFileServer, type FileServer } from '../helpers/servers/http.js';
import { runCli } from '../helpers/cli.js';
import { sha256, tempDir } from '../helpers/fs.js';

const VICTIM = 'precious user data\n';
const EVIL = Buffer.from('attacker bytes\n');

/** Every file below `root`, as relative paths. */
async function tree(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const full = join(dir, e.name);
      out.push(relative(root, full));
      if (e.isDirectory()) await walk(full);
    }
  };
  await walk(root);
  return out.sort();
}

interface Stage {
  root: string;
  pkgs: string;
  victim: string;
  server: FileServer;
}

/** root/work/a/b/pkgs is the cache; root/victim/backup.tar.bz2 the file an attacker wants to replace. */
async function stage(t: import('node:test').TestContext): Promise<Stage> {
  const root = await tempDir(t, 'cg-hostile-');
  const pkgs = join(root, 'work', 'a', 'b', 'pkgs');
  await mkdir(pkgs, { recursive: true });
  await mkdir(join(root, 'victim'));
  const victim = join(root, 'victim', 'backup.tar.bz2');
  await writeFile(victim, VICTIM);
  const server = await startFileServer(t);
  // The server would answer the decoded traversal path too: the refusal must come first.
  server.route('/pkg/../../../victim/backup.tar.bz2', (_req, res) => res.end(EVIL));
  server.route('/pkg/../../pwned.conda', (_req, res) => res.end(EVIL));
  return { root, pkgs, victim, server };
}

async function assertUntouched(s: Stage, before: string[]): Promise<void> {
  assert.equal(await readFile(s.victim, 'utf8'), VICTIM, 'the victim file is untouched');
  const after = (await tree(s.root)).filter((p) => !p.startsWith(join('work', 'a', 'b', 'pkgs')));
  assert.deepEqual(after, before.filter((p) => !p.startsWith(join('work', 'a', 'b', 'pkgs'))), 'nothing written outside the pkgs dir');
  assert.deepEqual(s.server.requests.filter((r) => r.path.includes('..')), [], 'no request for the traversal name');
}

const attacks: Array<{ name: string; file: string; body: (url: string) => string; line: number }> = [
  {
    name: 'an explicit file line ..%2F..%2Fpwned.conda',
    file: 'env.txt', line: 2,
    body: (url) => `@EXPLICIT\n${url}/pkg/..%2F..%2Fpwned.conda#sha256:${sha256(EVIL)}\n`,
  },
  {
    name: 'a pixi.lock entry ..%2F..%2F..%2Fvictim%2Fbackup.tar.bz2 with a matching sha256',
    file: 'pixi.lock', line: 9,
    body: (url) => [
      'version: 6',
      'environments:',
      '  default:',
      '    packages:',
      '      linux-64:',
      `      - conda: ${url}/pkg/..%2F..%2F..%2Fvictim%2Fbackup.tar.bz2`,
      'packages:',
      '- name: x',
      `- conda: ${url}/pkg/..%2F..%2F..%2Fvictim%2Fbackup.tar.bz2`,
      `  sha256: ${sha256(EVIL)}`,
      '',
    ].join('\n'),
  },
  {
    name: 'a conda-lock.yml entry with %5C (a Windows separator)',
    file: 'conda-lock.yml', line: 5,
    body: (url) => [
      'version: 1',
      'metadata:',
      '  platforms: [linux-64]',
      'package:',
      '- name: x',
      '  manager: conda',
      '  platform: linux-64',
      `  url: ${url}/pkg/..%5C..%5Cpwned.conda`,
      `  hash: {sha256: ${sha256(EVIL)}}`,
      '',
    ].join('\n'),
  },
  {
    name: 'an explicit file line with a NUL and an escape sequence in the name',
    file: 'nul.txt', line: 1,
    body: (url) => `${url}/pkg/x%00%1B%5B2J-1-0.conda\n`,
  },
  {
    name: 'an explicit file line with a 300-byte file name',
    file: 'long.txt', line: 1,
    body: (url) => `${url}/pkg/${'a'.repeat(300)}-1-0.conda\n`,
  },
];

for (const attack of attacks) {
  test(`fetch refuses ${attack.name}: typed error naming file and line, nothing written outside the cache`, async (t) => {
    const s = await stage(t);
    const spec = join(s.root, attack.file);
    await writeFile(spec, attack.body(s.server.url));
    const before = await tree(s.root);
    const r = await runCli(['fetch', spec, '--pkgs-dir', s.pkgs, '--platform', 'linux-64', '--json'], { cwd: s.root });
    assert.equal(r.code, 2, r.stderr + r.stdout);
    const error = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { code: string; message: string; details: { file: string; line?: number } };
    assert.equal(error.code, 'CG_SPEC_INVALID');
    assert.equal(error.details.file, spec);
    if (attack.file !== 'pixi.lock') assert.equal(error.details.line, attack.line);
    else assert.ok(error.details.line !== undefined);
    assert.match(error.message, /not a safe cache file name/);
    await assertUntouched(s, before);
  });
}

test('fetch refuses a traversal name in a spec file fetched by URL', async (t) => {
  const s = await stage(t);
  s.server.setFile('/env.txt', `@EXPLICIT\n${s.server.url}/pkg/..%2F..%2F..%2Fvictim%2Fbackup.tar.bz2#sha256:${sha256(EVIL)}\n`);
  const before = await tree(s.root);
  const r = await runCli(['fetch', `${s.server.url}/env.txt`, '--pkgs-dir', s.pkgs, '--json'], { cwd: s.root });
  assert.equal(r.code, 2, r.stderr);
  const error = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { code: string; details: { file: string; line: number } };
  assert.equal(error.code, 'CG_SPEC_INVALID');
  assert.equal(error.details.file, `${s.server.url}/env.txt`);
  assert.equal(error.details.line, 2);
  await assertUntouched(s, before);
});

test('the cache file name is the raw last segment, as conda takes it: %2B stays %2B, and a plain name is fetched', async (t) => {
  const s = await stage(t);
  const body = Buffer.from('package bytes');
  s.server.route('/pkg/torch-2.0+cpu-0.conda', (_req, res) => res.end(body));
  const summary = await fetchPackages([`${s.server.url}/pkg/torch-2.0%2Bcpu-0.conda#sha256:${sha256(body)}`], {
    pkgsDir: s.pkgs, settings: loadSettings({ layers: [] }), extract: false,
  });
  assert.equal(summary.fetched, 1, JSON.stringify(summary.failures));
  assert.deepEqual((await readdir(s.pkgs)).sort(), ['torch-2.0%2Bcpu-0.conda', 'urls', 'urls.txt']);
});

test('fetchPackages refuses a PackageSpec whose fileName leaves the cache (library callers), before any write', async (t) => {
  const s = await stage(t);
  const before = await tree(s.root);
  for (const fileName of ['../../pwned.conda', '/tmp/x.conda', '..', 'a/../../b.conda']) {
    await assert.rejects(
      fetchPackages([{ url: `${s.server.url}/pkg/x.conda`, fileName, sha256: sha256(EVIL) }], { pkgsDir: s.pkgs, settings: loadSettings({ layers: [] }) }),
      (err: { code?: string }) => err.code === 'CG_UNSAFE_PATH',
      fileName,
    );
  }
  await assertUntouched(s, before);
});
