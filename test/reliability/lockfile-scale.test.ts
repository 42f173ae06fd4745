/**
 * Issue 16, items 10 and 3 (spec-file part): large and hostile lock files in bounded memory.
 * A big lock file is parsed item by item (yaml-chunks.ts) and must give exactly what the
 * whole-document parse gives; a 50k-package pixi.lock runs in a heap too small for its
 * document tree; spec files too large on disk, or inflating past the limit from a URL,
 * are typed errors; deep nesting is a typed error, not a stack overflow.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseSpecText } from '../../src/packages/index.js';
import { splitTopLevel } from '../../src/packages/yaml-chunks.js';
import { startFileServer } from '../helpers/servers/http.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/fs.js';
import { condaLock, pixiLock } from '../helpers/lockfiles.js';

const LINUX = { platforms: ['linux-64', 'noarch'] };
// An anchor in a comment is harmless YAML but makes the scanner hand the file to the whole-document parse.
const WHOLE = '# &force-whole-document-parse\n';

for (const [name, text] of [['pixi.lock', pixiLock(5000)], ['conda-lock.yml', condaLock(4000)]] as const) {
  test(`${name}: item-by-item parsing gives exactly the whole-document result, lines included`, async () => {
    assert.ok(splitTopLevel(text), 'the large file is split');
    assert.equal(splitTopLevel(text + WHOLE), undefined, 'the anchor forces the whole-document parse');
    const chunked = await parseSpecText(text, name, LINUX);
    const whole = await parseSpecText(text + WHOLE, name, LINUX);
    assert.ok(chunked.packages.length >= 4000);
    assert.deepEqual(chunked, whole);
    // A bad value deep in the file is reported at the same line either way.
    const bad = text.replace(`sha256: a${'0'.repeat(60)}f9f`, 'sha256: nothex');
    const errors = await Promise.all([bad, bad + WHOLE].map((t) => parseSpecText(t, name, LINUX).catch((e: Error) => e.message)));
    assert.match(String(errors[0]), /malformed sha256 'nothex'/);
    assert.equal(errors[0], errors[1]);
  });
}

test('a 50k-package pixi.lock is fetched --dry-run in a 160 MB heap (its document tree alone would not fit)', async (t) => {
  const dir = await tempDir(t);
  const lock = join(dir, 'pixi.lock');
  await writeFile(lock, pixiLock(50_000));
  const r = await runCli(['fetch', lock, '--dry-run', '--json', '--platform', 'linux-64', '--pkgs-dir', join(dir, 'pkgs')], {
    cwd: dir, env: { NODE_OPTIONS: '--max-old-space-size=160' }, timeoutMs: 110_000,
  });
  assert.equal(r.code, 0, r.stderr.slice(-2000));
  const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { type: string; summary: { total: number; dryRun: boolean } };
  assert.equal(summary.summary.total, 50_000);
  assert.ok(summary.summary.dryRun);
});

test('a spec file by URL that inflates past the limit (a gzip bomb) is a typed error, read no further', async (t) => {
  const server = await startFileServer(t);
  const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20)); // 64 MiB of spaces in ~64 KiB
  server.route('/bomb.txt', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip', 'content-length': bomb.length });
    res.end(bomb);
  });
  server.route('/big.txt', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`@EXPLICIT\n${'#'.repeat(5000)}\n`);
  });
  const dir = await tempDir(t);
  for (const [path, pattern] of [['/bomb.txt', /after decoding its Content-Encoding/], ['/big.txt', /as sent/]] as const) {
    const r = await runCli(['fetch', `${server.url}${path}`, '--max-spec-bytes', '4096', '--json', '--pkgs-dir', join(dir, 'pkgs')], { cwd: dir });
    assert.equal(r.code, 4, r.stderr);
    const error = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { code: string; message: string; details: { limit: number } };
    assert.equal(error.code, 'CG_BAD_RESPONSE');
    assert.equal(error.details.limit, 4096);
    assert.match(error.message, pattern);
  }
});

test('a local spec file over --max-spec-bytes, and a fifo given as a spec file, are typed errors (no hang)', async (t) => {
  const dir = await tempDir(t);
  const big = join(dir, 'big.txt');
  await writeFile(big, `@EXPLICIT\n${'#'.repeat(10_000)}\n`);
  const r = await runCli(['fetch', big, '--max-spec-bytes', '1000', '--pkgs-dir', join(dir, 'pkgs')], { cwd: dir });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /big\.txt: is 10011 bytes, larger than the limit of 1000 bytes/);
  const fifo = join(dir, 'pipe.txt');
  if (spawnSync('mkfifo', [fifo]).status !== 0) return t.skip('mkfifo is not available here');
  const f = await runCli(['fetch', fifo, '--pkgs-dir', join(dir, 'pkgs')], { cwd: dir, timeoutMs: 20_000 });
  assert.equal(f.code, 2, f.stderr);
  assert.match(f.stderr, /pipe\.txt: is not a regular file/);
});

test('deeply nested YAML is a typed error naming the file, not a stack overflow', async () => {
  const deep = `version: 1\nmetadata: {}\npackage: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`;
  await assert.rejects(parseSpecText(deep, 'conda-lock.yml'), (err: { code?: string; message?: string }) =>
    err.code === 'CG_SPEC_INVALID' && /conda-lock\.yml:\d+: not valid YAML: .*depth/i.test(err.message ?? ''));
});
