import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { runHere } from '../config/run-in-process.js';
import { cleanEnv, cliCommand } from '../../helpers/cli.js';
import { startFileServer } from '../../helpers/servers/http.js';
import { listDir, tempDir } from '../../helpers/fs.js';

test('auth login writes a rattler-compatible credentials.json (0600), list masks it, logout removes it', async (t) => {
  const h = await tempDir(t);
  const env = { HOME: h };
  assert.equal((await runHere(['auth', 'login', 'https://repo.example.com/chan/noarch', '--token', 'tok-secret'], env, h)).code, 0);
  assert.equal((await runHere(['auth', 'login', '*.corp.example', '--username', 'me', '--password', 'pw-secret'], env, h)).code, 0);
  assert.equal((await runHere(['auth', 'login', 'conda.example.net', '--conda-token', 'tk-cond-secret'], env, h)).code, 0);
  assert.equal((await runHere(['auth', 'login', 's3://bucket/x', '--s3-access-key-id', 'AKIAXYZ', '--s3-secret-access-key', 'sk-secret'], env, h)).code, 0);
  const file = join(h, '.rattler', 'credentials.json');
  assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), {
    'repo.example.com': { BearerToken: 'tok-secret' },
    '*.corp.example': { BasicHTTP: { username: 'me', password: 'pw-secret' } },
    'conda.example.net': { CondaToken: 'tk-cond-secret' },
    's3://bucket': { S3Credentials: { access_key_id: 'AKIAXYZ', secret_access_key: 'sk-secret', session_token: null } },
  });
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  assert.deepEqual(await listDir(join(h, '.rattler')), ['credentials.json'], 'no temp file is left');

  const list = await runHere(['auth', 'list', '--json'], env, h);
  const rows = (JSON.parse(list.stdout) as { credentials: Array<{ host: string; kind: string }> }).credentials;
  assert.deepEqual(rows.map((r) => [r.host, r.kind]), [
    ['repo.example.com', 'BearerToken'], ['*.corp.example', 'BasicHTTP'], ['conda.example.net', 'CondaToken'], ['s3://bucket', 'S3Credentials'],
  ]);
  const text = await runHere(['auth', 'list'], env, h);
  for (const secret of ['tok-secret', 'pw-secret', 'tk-cond-secret', 'sk-secret']) {
    assert.ok(!list.stdout.includes(secret) && !text.stdout.includes(secret), secret);
  }
  assert.equal((await runHere(['auth', 'logout', 'repo.example.com'], env, h)).code, 0);
  assert.equal(JSON.parse(await readFile(file, 'utf8'))['repo.example.com'], undefined);
  const again = await runHere(['auth', 'logout', 'repo.example.com'], env, h);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /No credentials are stored for 'repo\.example\.com'/);
});

test('stored credentials are used by download at once', async (t) => {
  const server = await startFileServer(t);
  server.route('/private/x.json', (req, res) => {
    res.writeHead(req.headers.authorization === 'Bearer live-token' ? 200 : 401);
    res.end('{}');
  });
  const h = await tempDir(t);
  const env = { HOME: h, CONDA_REMOTE_MAX_RETRIES: '0' };
  const denied = await runHere(['download', `${server.url}/private/x.json`, '-o', join(h, 'a.json')], env, h);
  assert.notEqual(denied.code, 0);
  await runHere(['auth', 'login', '127.0.0.1', '--token', 'live-token'], env, h);
  const ok = await runHere(['-v', 'download', `${server.url}/private/x.json`, '-o', join(h, 'b.json')], env, h);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stderr, /credentials for 127\.0\.0\.1.*\(bearer\) from .*credentials\.json/);
  assert.ok(!ok.stderr.includes('live-token'));
});

test('login needs exactly one kind of credentials; a store that is not JSON is refused, naming the file', async (t) => {
  const h = await tempDir(t);
  const env = { HOME: h, RATTLER_AUTH_FILE: join(h, 'auth.json') };
  const none = await runHere(['auth', 'login', 'h.example'], env, h);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /exactly one kind/);
  const two = await runHere(['auth', 'login', 'h.example', '--token', 'a', '--conda-token', 'b'], env, h);
  assert.equal(two.code, 2);
  const half = await runHere(['auth', 'login', 'h.example', '--username', 'u'], env, h);
  assert.equal(half.code, 2);
  await writeFile(join(h, 'auth.json'), '{"h.example": {"BearerToken": "keep-me-secret"},');
  for (const args of [['auth', 'list'], ['auth', 'login', 'x.example', '--token', 't']]) {
    const r = await runHere(args, env, h);
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`credentials file ${join(h, 'auth.json').replace(/[.]/g, '\\.')}.*not valid JSON`));
    assert.ok(!r.stderr.includes('keep-me-secret'));
  }
  assert.equal(await readFile(join(h, 'auth.json'), 'utf8'), '{"h.example": {"BearerToken": "keep-me-secret"},', 'a broken store is not overwritten');
});

test('a secret given as "-" is read from standard input, so it never sits in the process list', async (t) => {
  const h = await tempDir(t);
  const { command, args } = cliCommand();
  const child = spawn(command, [...args, 'auth', 'login', 'repo.example.com', '--username', 'me', '--password', '-'], {
    env: cleanEnv({ HOME: h }), stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  child.stdin.end('from-stdin-pw\n');
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 0, out);
  assert.deepEqual(JSON.parse(await readFile(join(h, '.rattler', 'credentials.json'), 'utf8')),
    { 'repo.example.com': { BasicHTTP: { username: 'me', password: 'from-stdin-pw' } } });
  assert.ok(!out.includes('from-stdin-pw'));
});
