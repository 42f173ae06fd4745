/**
 * Issue 16, item 8: YAML aliases in lock files. An alias means its anchored value (a
 * `hash: *h` is the hash, so a tampered body is refused, not accepted "NOT verified"),
 * and an alias bomb is a typed error, quickly and in bounded memory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fetchPackages, loadSettings } from '../../src/index.js';
import { parseSpecText } from '../../src/packages/index.js';
import { startFileServer } from '../helpers/servers/http.js';
import { sha256, tempDir } from '../helpers/fs.js';

const GOOD = Buffer.from('the real package');
const TAMPERED = Buffer.from('a tampered package');

function condaLock(url: string, hash: string): string {
  return [
    'version: 1',
    'metadata:',
    '  platforms: [linux-64]',
    'package:',
    '- name: a',
    '  manager: conda',
    '  platform: linux-64',
    `  url: ${url}/c/linux-64/a-1-0.conda`,
    `  hash: &h {sha256: ${hash}}`,
    '- name: b',
    '  manager: conda',
    '  platform: linux-64',
    `  url: ${url}/c/linux-64/b-1-0.conda`,
    '  hash: *h',
    '',
  ].join('\n');
}

test('conda-lock.yml: `hash: *h` carries the anchored hash, so a tampered body fails verification', async (t) => {
  const server = await startFileServer(t);
  server.setFile('/c/linux-64/a-1-0.conda', GOOD);
  server.setFile('/c/linux-64/b-1-0.conda', TAMPERED);
  const parsed = await parseSpecText(condaLock(server.url, sha256(GOOD)), 'conda-lock.yml', { platforms: ['linux-64'] });
  assert.deepEqual(parsed.packages.map((p) => p.sha256), [sha256(GOOD), sha256(GOOD)]);
  const pkgs = await tempDir(t);
  const summary = await fetchPackages(parsed.packages, { pkgsDir: pkgs, settings: loadSettings({ layers: [] }), extract: false });
  assert.equal(summary.fetched, 1);
  assert.equal(summary.unverified, 0, 'nothing accepted as unverified');
  assert.equal(summary.failures[0]?.error.code, 'CG_CHECKSUM_MISMATCH');
});

test('pixi.lock: an aliased package record and an aliased reference list resolve', async () => {
  const url = 'https://conda.anaconda.org/conda-forge/linux-64/a-1-0.conda';
  const text = [
    'version: 6',
    'environments:',
    '  default:',
    '    packages:',
    '      linux-64: &refs',
    `      - conda: ${url}`,
    '      noarch: *refs',
    'packages:',
    `- conda: ${url}`,
    `  sha256: &s ${'ab'.repeat(32)}`,
    '  size: *s',
    '',
  ].join('\n');
  await assert.rejects(parseSpecText(text, 'pixi.lock', { platforms: ['linux-64'] }), /malformed size/, 'the alias is the value, checked like one');
  const ok = await parseSpecText(text.replace('  size: *s\n', ''), 'pixi.lock', { platforms: ['linux-64', 'noarch'] });
  assert.equal(ok.packages.length, 2);
  assert.equal(ok.packages[0]!.sha256, 'ab'.repeat(32));
});

function aliasBomb(levels: number): string {
  const lines = ['version: 1', 'metadata:', '  platforms: [linux-64]', 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < levels; i++) lines.push(`a${i}: &a${i} [${Array.from({ length: 10 }, () => `*a${i - 1}`).join(', ')}]`);
  lines.push('package:', '- name: bomb', '  manager: conda', '  platform: linux-64', '  url: https://h/c/linux-64/x-1-0.conda',
    `  hash: *a${levels - 1}`, '');
  return lines.join('\n');
}

test('an alias bomb (a billion laughs) is a typed error naming the file, fast and without the memory', async () => {
  const rssBefore = process.memoryUsage().rss;
  const started = performance.now();
  await assert.rejects(parseSpecText(aliasBomb(9), 'conda-lock.yml', { platforms: ['linux-64'] }),
    (err: { code?: string; message?: string }) => err.code === 'CG_SPEC_INVALID' && /conda-lock\.yml:\d+: YAML aliases/.test(err.message ?? ''));
  assert.ok(performance.now() - started < 5000, 'refused quickly');
  assert.ok(process.memoryUsage().rss - rssBefore < 200 * 1024 * 1024, 'without expanding it');
  // A self-referencing anchor is refused too.
  await assert.rejects(parseSpecText('version: 1\nmetadata: {}\npackage: &p [*p]\n', 'conda-lock.yml'), /YAML aliases/);
});
