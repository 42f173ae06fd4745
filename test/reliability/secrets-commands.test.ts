/**
 * Secret leaks in the auth, config, fetch and repodata commands: secrets in URLs, .condarc,
 * .netrc, the credential store and the environment; all output and every file they write
 * to the package cache and the repodata cache scanned.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startFaultServer } from '../helpers/fault-server.js';
import { runCli } from '../helpers/cli.js';
import { bytes, sha256, tempDir } from '../helpers/fs.js';
import { findLeak } from './suites/secrets.js';

/** Every file under `dir` (recursively) that holds a secret. */
async function filesWithSecrets(dir: string): Promise<string[]> {
  const { readdir, readFile } = await import('node:fs/promises');
  const out: string[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const leak = findLeak((await readFile(path)).toString('latin1'));
    if (leak) out.push(`${path}: …${leak}…`);
  }
  return out;
}

test('auth, config, fetch and repodata with secrets in URLs, .condarc, .netrc, the store and the environment print and persist no secret', async (t) => {
  const { writeFile, mkdir } = await import('node:fs/promises');
  const server = await startFaultServer(t, { seed: 8 });
  const body = bytes(60_000, 12);
  const pkgPath = '/t/tk-s3cr3t/chan/noarch/p-1.0-0.conda';
  server.addFile(pkgPath, body);
  server.addFile('/t/tk-s3cr3t/chan/noarch/repodata.json', Buffer.from(JSON.stringify({
    info: { subdir: 'noarch' }, packages: {}, 'packages.conda': { 'p-1.0-0.conda': { name: 'p', version: '1.0', build: '0', sha256: sha256(body) } },
  })));
  server.script(pkgPath, ['status503', 'cut']);
  const dir = await tempDir(t);
  const home = join(dir, 'home');
  await mkdir(home);
  const base = `http://user:s3cr3t@127.0.0.1:${server.http.port}`;
  await writeFile(join(home, '.netrc'), `machine 127.0.0.1 login netuser password s3cr3t-netrc\n`);
  await writeFile(join(home, '.condarc'), [
    `channel_alias: ${base}/t/tk-s3cr3t`,
    'proxy_servers:',
    '  ftp: http://proxyuser:pr0xy-pass@127.0.0.1:9',
    'remote_backoff_factor: 0',
  ].join('\n') + '\n');
  const good = join(dir, 'good.txt');
  await writeFile(good, `@EXPLICIT\n${base}${pkgPath}#sha256:${sha256(body)}\n`);
  const bad = join(dir, 'bad.txt');
  await writeFile(bad, `@EXPLICIT\n${base}/t/tk-s3cr3t/chan/noarch/missing-1-0.conda\n${base}${pkgPath}?X-Amz-Signature=s3cr3t#sha256:${'0'.repeat(64)}\n`);
  const env = { HOME: home, NETRC: join(home, '.netrc'), AWS_SECRET_ACCESS_KEY: 's3cr3t-aws', CONDA_REMOTE_BACKOFF_FACTOR: '0' };
  const pkgs = join(dir, 'pkgs');
  const cache = join(dir, 'cache');
  const cases: string[][] = [
    ['auth', 'login', `${base}/t/tk-s3cr3t/chan`, '--token', 's3cr3t-bearer'],
    ['auth', 'login', '127.0.0.1', '--username', 'u', '--password', 's3cr3t-basic', '--json'],
    ['auth', 'login', 's3://bucket', '--s3-access-key-id', 'AKIAS3CR3T', '--s3-secret-access-key', 's3cr3t-key', '--s3-session-token', 's3cr3t-st'],
    ['auth', 'login', 'repo.example.com', '--conda-token', 'tk-s3cr3t'],
    ['auth', 'login', '127.0.0.1', '--password', 's3cr3t-no-user'],
    ['auth', 'list'], ['auth', 'list', '--json'], ['-v', 'auth', 'list'],
    ['config'], ['config', '--json'], ['-v', 'config'], ['--insecure', 'config', '--json'],
  ];
  for (const flags of [[], ['-v'], ['--json'], ['-v', '--json']]) {
    cases.push([...flags, 'fetch', '--no-extract', good, '--pkgs-dir', pkgs], [...flags, 'fetch', '--no-extract', bad, '--pkgs-dir', pkgs],
      [...flags, 'fetch', '--no-extract', `${base}${pkgPath}?token=s3cr3t#sha256:${sha256(body)}`, '--pkgs-dir', join(dir, 'pkgs2'), '--dry-run'],
      [...flags, 'repodata', `${base}/t/tk-s3cr3t/chan`, '--subdir', 'noarch', '--cache-dir', cache],
      [...flags, 'repodata', 'chan', '--subdir', 'noarch', '--cache-dir', cache],
      [...flags, 'repodata', `${base}/t/tk-s3cr3t/nochannel`, '--subdir', 'noarch', '--cache-dir', cache]);
  }
  cases.push(['auth', 'logout', '127.0.0.1'], ['auth', 'logout', 's3://bucket', '--json'], ['auth', 'logout', 'nowhere.example.com']);
  const leaks: string[] = [];
  let scanned = 0;
  const runOne = async (args: string[]): Promise<void> => {
    const r = await runCli(args, { env });
    scanned += r.stdout.length + r.stderr.length;
    const leak = findLeak(r.stdout + r.stderr);
    if (leak) leaks.push(`${args.join(' ')}: …${leak}…`);
  };
  // auth runs in order (login, list, logout around the rest); the rest two at a time.
  const isAuth = (args: string[]): boolean => args.includes('auth');
  const logins = cases.filter((a) => isAuth(a) && !a.includes('logout'));
  const middle = cases.filter((a) => !isAuth(a));
  for (const args of logins) await runOne(args);
  const worker = async (): Promise<void> => {
    for (let args = middle.shift(); args; args = middle.shift()) await runOne(args);
  };
  await Promise.all([worker(), worker()]);
  for (const args of cases.filter((a) => a.includes('logout'))) await runOne(args);
  const { readFile } = await import('node:fs/promises');
  assert.deepEqual(await readFile(join(pkgs, 'p-1.0-0.conda')), body, 'the good spec was fetched despite 503 and a cut');
  const persisted = [...await filesWithSecrets(cache), ...await filesWithSecrets(pkgs), ...await filesWithSecrets(join(dir, 'pkgs2')).catch(() => [])];
  const line = `secrets (auth/config/fetch/repodata CLI): ${cases.length} runs, ${scanned} bytes scanned, ${leaks.length} leaks in output, ` +
    `${persisted.length} files in the pkgs dir or repodata cache holding a secret`;
  t.diagnostic(line);
  console.log(line);
  assert.deepEqual(leaks, []);
  assert.deepEqual(persisted, []);
});

test('urls.txt in the package cache records no signed query string', async (t) => {
  const { urlForCache } = await import('../../src/packages/pkgs-dir.js');
  assert.equal(findLeak(urlForCache('https://h/t/tk-s3cr3t/c/noarch/p-1-0.conda?X-Amz-Signature=s3cr3t')), undefined);
  t.diagnostic('urls.txt checked');
});
