/**
 * Issue 16, item 9: outside text printed raw. Names, paths and lock-file values carrying an
 * ESC sequence (`%1B[2J` clears the screen) or a newline (`%0A` forges lines) must reach
 * stdout and stderr escaped, in human and in --json output (which must stay valid JSON).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { escapeControls, escapeOutput } from '../../src/cli/safe-text.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { startFileServer } from '../helpers/servers/http.js';
import { tempDir } from '../helpers/fs.js';

// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202e]/;

function assertClean(r: CliResult, forged: RegExp): void {
  for (const [name, text] of [['stdout', r.stdout], ['stderr', r.stderr]] as const) {
    assert.doesNotMatch(text, RAW_CONTROL, `${name} carries a raw control character: ${JSON.stringify(text)}`);
    assert.doesNotMatch(text, forged, `${name} has a forged line: ${JSON.stringify(text)}`);
  }
}

test('a package URL with %1B[2J and %0A in its name: escaped in human and JSON output', async (t) => {
  const dir = await tempDir(t);
  const server = await startFileServer(t);
  const spec = join(dir, 'env.txt');
  await writeFile(spec, `@EXPLICIT\n${server.url}/pkg/x%1B%5B2J%0AFORGED%20line-1-0.conda\n`);
  for (const json of [false, true]) {
    const r = await runCli(['fetch', spec, '--pkgs-dir', join(dir, 'pkgs'), ...(json ? ['--json'] : [])], { cwd: dir });
    assert.equal(r.code, 2, r.stderr);
    assertClean(r, /^FORGED/m);
    if (json) JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  }
});

test('a spec file path holding ESC and a newline is printed escaped', async (t) => {
  const dir = await tempDir(t);
  const r = await runCli(['fetch', 'x\u001b[2J\nFORGED line.txt', '--pkgs-dir', join(dir, 'pkgs')], { cwd: dir });
  assert.equal(r.code, 2);
  assertClean(r, /^FORGED/m);
  assert.match(r.stderr, /x\\u001b\[2J\\u000aFORGED line\.txt/);
});

test('lock-file values (environment names with escapes, C1 and bidi controls) are printed escaped', async (t) => {
  const dir = await tempDir(t);
  const lock = join(dir, 'pixi.lock');
  await writeFile(lock, [
    'version: 6',
    'environments:',
    '  "evil\\e[2J\\nFORGED\\x85\\u202Eenv":',
    '    packages: {}',
    'packages: []',
    '',
  ].join('\n'));
  for (const json of [false, true]) {
    const r = await runCli(['fetch', lock, '--pkgs-dir', join(dir, 'pkgs'), ...(json ? ['--json'] : [])], { cwd: dir });
    assert.equal(r.code, 2, r.stderr);
    assertClean(r, /^FORGED/m);
    if (json) {
      const error = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { message: string };
      assert.match(error.message, /evil\u001b\[2J\nFORGED\u0085\u202eenv/, 'JSON keeps the value, escaped only in transport');
    }
  }
});

test('escapeControls and escapeOutput: controls visible as \\uXXXX, our own newlines kept only in whole output', () => {
  assert.equal(escapeControls('a\u001b[2J\nb\rc\td\u0085e\u202ef'), 'a\\u001b[2J\\u000ab\\u000dc\\u0009d\\u0085e\\u202ef');
  assert.equal(escapeOutput('line 1\n\tline 2\u001b[31m\r\n'), 'line 1\n\tline 2\\u001b[31m\\u000d\n');
  assert.equal(escapeOutput('numpy-2.1.0 ü → ok'), 'numpy-2.1.0 ü → ok');
});
