/**
 * Issue 16, items 6 and 5: a shared pkgs dir where someone planted symlinks or hard links
 * next to what we write, and download targets that are not regular files. Real server,
 * real files; afterwards the victim is byte-for-byte untouched and the package is a plain
 * verified file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { link, lstat, mkdir, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { download, fetchPackages, loadSettings } from '../../src/index.js';
import { startFileServer, type FileServer } from '../helpers/servers/http.js';
import { runCli } from '../helpers/cli.js';
import { bytes, sha256, tempDir } from '../helpers/fs.js';

const VICTIM = 'precious user data\n';
const NAME = 'pkg-1.0-h0_0.conda';
const BODY = bytes(200_000, 7);

interface Stage {
  pkgs: string;
  victim: string;
  server: FileServer;
  url: string;
}

async function stage(t: import('node:test').TestContext): Promise<Stage> {
  const root = await tempDir(t, 'cg-planted-');
  const pkgs = join(root, 'pkgs');
  await mkdir(pkgs);
  const victim = join(root, 'victim.txt');
  await writeFile(victim, VICTIM);
  const server = await startFileServer(t);
  server.setFile(`/c/linux-64/${NAME}`, BODY);
  return { pkgs, victim, server, url: `${server.url}/c/linux-64/${NAME}` };
}

async function fetchOne(s: Stage): Promise<Awaited<ReturnType<typeof fetchPackages>>> {
  return fetchPackages([{ url: s.url, fileName: NAME, sha256: sha256(BODY), size: BODY.length }], {
    pkgsDir: s.pkgs, settings: loadSettings({ layers: [] }), extract: false, // the bytes are not a real archive
  });
}

async function assertPlainPackage(s: Stage): Promise<void> {
  const st = await lstat(join(s.pkgs, NAME));
  assert.ok(st.isFile() && !st.isSymbolicLink(), 'the package is a regular file, not a link');
  assert.equal(st.nlink, 1, 'the package shares no inode with another file');
  assert.equal(sha256(await readFile(join(s.pkgs, NAME))), sha256(BODY));
  assert.equal(await readFile(s.victim, 'utf8'), VICTIM, 'the victim is untouched');
}

test('a planted <pkg>.partial symlink to a victim file: the link is removed, not written through', async (t) => {
  const s = await stage(t);
  await symlink(s.victim, join(s.pkgs, `${NAME}.partial`));
  const summary = await fetchOne(s);
  assert.equal(summary.fetched, 1, JSON.stringify(summary.failures));
  await assertPlainPackage(s);
  await assert.rejects(lstat(join(s.pkgs, `${NAME}.partial`)), /ENOENT/);
});

test('a planted <pkg>.partial hard link to a victim file: the victim is not truncated or appended to', async (t) => {
  const s = await stage(t);
  await link(s.victim, join(s.pkgs, `${NAME}.partial`));
  const summary = await fetchOne(s);
  assert.equal(summary.fetched, 1, JSON.stringify(summary.failures));
  await assertPlainPackage(s);
  assert.equal((await stat(s.victim)).nlink, 1, 'the planted link is gone');
});

test('a planted urls.txt symlink to a victim file: urls.txt becomes our own file, the victim is untouched', async (t) => {
  const s = await stage(t);
  await symlink(s.victim, join(s.pkgs, 'urls.txt'));
  const summary = await fetchOne(s);
  assert.equal(summary.fetched, 1, JSON.stringify(summary.failures));
  await assertPlainPackage(s);
  const st = await lstat(join(s.pkgs, 'urls.txt'));
  assert.ok(st.isFile() && !st.isSymbolicLink());
  assert.equal(await readFile(join(s.pkgs, 'urls.txt'), 'utf8'), `${s.url}\n`);
});

test('a planted package symlink to a file with the right bytes is not taken as cached: it is replaced by a plain file', async (t) => {
  const s = await stage(t);
  const lookalike = join(s.pkgs, '..', 'lookalike.conda');
  await writeFile(lookalike, BODY);
  await symlink(lookalike, join(s.pkgs, NAME));
  const summary = await fetchOne(s);
  assert.equal(summary.fetched, 1, 'fetched, not "cached" through the link');
  await assertPlainPackage(s);
  assert.equal(sha256(await readFile(lookalike)), sha256(BODY), 'the link target is untouched');
});

test('a planted package symlink to a victim file: the rename replaces the link, the victim is untouched', async (t) => {
  const s = await stage(t);
  await symlink(s.victim, join(s.pkgs, NAME));
  const summary = await fetchOne(s);
  assert.equal(summary.fetched, 1, JSON.stringify(summary.failures));
  await assertPlainPackage(s);
});

function mkfifo(path: string): boolean {
  return spawnSync('mkfifo', [path]).status === 0;
}

test('download to a fifo is refused with a typed filesystem error, and the fifo stays a fifo', async (t) => {
  const s = await stage(t);
  const fifo = join(s.pkgs, 'pipe');
  if (!mkfifo(fifo)) return t.skip('mkfifo is not available here');
  await assert.rejects(download(s.url, fifo, { settings: loadSettings({ layers: [] }) }),
    (err: { code?: string; message?: string }) => err.code === 'CG_UNSAFE_PATH' && /fifo/.test(err.message ?? ''));
  assert.ok((await lstat(fifo)).isFIFO());
  assert.equal(s.server.requests.length, 0, 'refused before any request');
  // A symlink to the fifo is judged by what it points at.
  await symlink(fifo, join(s.pkgs, 'pipe-link'));
  await assert.rejects(download(s.url, join(s.pkgs, 'pipe-link'), { settings: loadSettings({ layers: [] }) }),
    (err: { code?: string }) => err.code === 'CG_UNSAFE_PATH');
  assert.equal(await readlink(join(s.pkgs, 'pipe-link')), fifo);
});

test('download -o <fifo>, -o <dir> and -o dir/ in the CLI: filesystem errors (exit 6), never CONNECTION FAILED', async (t) => {
  const s = await stage(t);
  const fifo = join(s.pkgs, 'pipe');
  const haveFifo = mkfifo(fifo);
  const dir = join(s.pkgs, 'somedir');
  await mkdir(dir);
  const cases: Array<[string, string, RegExp]> = [
    [dir, 'CG_FILESYSTEM', /is a directory/],
    [`${dir}/`, 'CG_FILESYSTEM', /names a directory/],
    [join(s.pkgs, 'missing-dir') + '/', 'CG_FILESYSTEM', /names a directory/],
  ];
  if (haveFifo) cases.push([fifo, 'CG_UNSAFE_PATH', /fifo/]);
  for (const [output, code, message] of cases) {
    const r = await runCli(['download', s.url, '-o', output, '--json'], { cwd: s.pkgs });
    assert.equal(r.code, 6, `${output}: ${r.stdout}${r.stderr}`);
    const error = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { code: string; message: string };
    assert.equal(error.code, code, output);
    assert.match(error.message, message);
    assert.doesNotMatch(r.stdout + r.stderr, /CONNECTION FAILED/);
  }
  assert.ok((await stat(dir)).isDirectory());
  if (haveFifo) assert.ok((await lstat(fifo)).isFIFO());
  else t.diagnostic('mkfifo not available: the fifo case was skipped');
  assert.equal(s.server.requests.length, 0, 'refused before any request');
});
