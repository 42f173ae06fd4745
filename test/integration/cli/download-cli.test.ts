import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startFileServer } from '../../helpers/servers/http.js';
import { wrongBytes } from '../../helpers/faults.js';
import { bytes, listDir, sha256, tempDir } from '../../helpers/fs.js';
import { runCli } from '../../helpers/cli.js';

test('conda-gateway download fetches, verifies and prints JSON', async (t) => {
  const server = await startFileServer(t);
  const body = bytes(50_000, 3);
  server.setFile('/pkg-1.0-0.conda', body);
  const dir = await tempDir(t);
  const out = join(dir, 'x.conda');
  const r = await runCli(['download', `${server.url}/pkg-1.0-0.conda`, '-o', out, '--sha256', sha256(body), '--size', '50000', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.equal(json.ok, true);
  assert.equal(json.sha256, sha256(body));
  assert.equal(json.bytes, 50_000);
  assert.deepEqual(await readFile(out), body);
});

test('default output name is the URL file name in the working directory', async (t) => {
  const server = await startFileServer(t);
  server.setFile('/a/b/tool-2.0-h1.conda', 'abc');
  const dir = await tempDir(t);
  const r = await runCli(['download', `${server.url}/a/b/tool-2.0-h1.conda`, '-q'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await listDir(dir), ['tool-2.0-h1.conda']);
  assert.equal(r.stdout, '');
});

test('a checksum mismatch prints conda\'s error and a hint, exits non-zero, leaves nothing', async (t) => {
  const server = await startFileServer(t);
  const body = bytes(10_000, 4);
  server.setFile('/t/tk-s3cr3t/p.conda', body);
  server.script('/t/tk-s3cr3t/p.conda', [wrongBytes()]);
  const dir = await tempDir(t);
  const r = await runCli(['download', `http://u:pw-s3cr3t@127.0.0.1:${server.port}/t/tk-s3cr3t/p.conda`, '-o', join(dir, 'p.conda'), '--sha256', sha256(body)]);
  assert.equal(r.code, 5);
  assert.match(r.stderr, /ChecksumMismatchError: Conda detected a mismatch between the expected content and downloaded content/);
  assert.match(r.stderr, /\nhint: /);
  assert.ok(!/s3cr3t/.test(r.stdout + r.stderr), r.stderr);
  assert.deepEqual(await listDir(dir), []);
});

test('errors with --json are one JSON object on stdout, masked', async (t) => {
  const server = await startFileServer(t);
  const dir = await tempDir(t);
  const r = await runCli(['download', `http://u:pw-s3cr3t@127.0.0.1:${server.port}/t/tk-s3cr3t/missing.conda`, '-o', join(dir, 'm'), '--json']);
  assert.equal(r.code, 4);
  const json = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.equal(json.ok, false);
  assert.equal(json.code, 'CG_HTTP_STATUS');
  assert.equal(json.error, 'CondaHTTPError');
  assert.ok(!/s3cr3t/.test(r.stdout + r.stderr));
});

test('bad arguments: non-hex checksum, negative size, malformed URL, unknown scheme exit non-zero with a code', async (t) => {
  const dir = await tempDir(t);
  for (const args of [
    ['http://127.0.0.1:9/x', '--sha256', 'nothex'],
    ['http://127.0.0.1:9/x', '--size', '-5'],
    ['not a url'],
    ['gopher://example.com/x'],
  ]) {
    const r = await runCli(['download', ...args, '-o', join(dir, 'out'), '--json']);
    assert.notEqual(r.code, 0, args.join(' '));
    const json = JSON.parse(r.stdout) as { code: string };
    assert.match(json.code, /^CG_(INVALID_ARGUMENT|UNSUPPORTED_SCHEME)$/, args.join(' '));
  }
  assert.deepEqual(await listDir(dir), []);
});

test('--version and --help work; an unknown command fails', async () => {
  const v = await runCli(['--version']);
  assert.equal(v.code, 0);
  assert.match(v.stdout, /^\d+\.\d+\.\d+/);
  const h = await runCli(['--help']);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /download/);
  const bad = await runCli(['frobnicate']);
  assert.notEqual(bad.code, 0);
});

test('--insecure warns loudly on stderr', async (t) => {
  const server = await startFileServer(t);
  server.setFile('/f', 'f');
  const dir = await tempDir(t);
  const r = await runCli(['--insecure', 'download', `${server.url}/f`, '-o', join(dir, 'f')]);
  assert.equal(r.code, 0);
  assert.match(r.stderr, /WARNING: --insecure: TLS certificate verification is OFF/);
});

test('npm start\'s demo runs offline against the embedded channel', async () => {
  const r = await runCli(['demo'], { env: { HTTP_PROXY: 'http://127.0.0.1:9', HTTPS_PROXY: 'http://127.0.0.1:9' } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /everything verified/);
  assert.match(r.stdout, /first run: +6 fetched .*, 0 failed/);
  assert.match(r.stdout, /second run: 6 from the cache, 0 fetched, 0 requests made/);
});
