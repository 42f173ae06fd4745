import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildProgram } from '../../../src/cli/main.js';
import { runHere } from './run-in-process.js';
import { runCli, type CliResult } from '../../helpers/cli.js';
import { startFileServer } from '../../helpers/servers/http.js';
import { startProxy } from '../../helpers/servers/proxy.js';
import { bytes, sha256, tempDir } from '../../helpers/fs.js';

// Every secret below is configured somewhere a conda user keeps one; none may ever be printed.
const SECRETS = {
  proxyPassword: 'PROXY-PW-s3cr3t1',
  aliasToken: 'tk-ALIAS-s3cr3t2',
  netrcPassword: 'NETRC-PW-s3cr3t3',
  bearer: 'BEARER-s3cr3t4',
  s3Secret: 'S3-SECRET-KEY-s3cr3t5',
  binstarToken: 'tk-BINSTAR-s3cr3t6',
  envProxyPassword: 'ENV-PROXY-PW-s3cr3t7',
  awsSecret: 'AWS-SECRET-s3cr3t8',
  loginToken: 'LOGIN-TOKEN-s3cr3t9',
  loginPassword: 'LOGIN-PW-s3cr3t10',
  urlPassword: 'URL-PW-s3cr3t11',
  urlToken: 'tk-URL-s3cr3t12',
  condaToken: 'tk-CONDA-s3cr3t13',
};

// A few runs go through a real child process, so output written outside the injected streams is caught too.
const SPAWNED = new Set(['config', 'download', 'list']);

test('no CLI command prints a secret, whatever the configuration holds', async (t) => {
  const server = await startFileServer(t);
  const body = bytes(20_000, 9);
  server.setFile(`/t/${SECRETS.urlToken}/chan/noarch/pkg-1.0-0.conda`, body);
  server.setFile(`/t/${SECRETS.binstarToken}/chan/noarch/pkg-1.0-0.conda`, body);
  const proxy = await startProxy(t, { auth: { username: 'puser', password: SECRETS.proxyPassword } });
  const home = await tempDir(t);
  const work = await tempDir(t);
  await writeFile(join(home, '.condarc'), [
    'remote_max_retries: 0',
    'proxy_servers:',
    `  http: ${proxy.urlWithCredentials()}`,
    `channel_alias: ${server.url}/t/${SECRETS.aliasToken}`,
    'channel_settings:',
    `  - channel: ${server.url}/*`,
    '    auth: no-such-handler',
    '',
  ].join('\n'));
  await writeFile(join(home, '.netrc'), `machine 127.0.0.1 login u password ${SECRETS.netrcPassword}\n`);
  await mkdir(join(home, '.rattler'));
  await writeFile(join(home, '.rattler', 'credentials.json'), JSON.stringify({
    '*.example.com': { BearerToken: SECRETS.bearer },
    'conda.example.net': { CondaToken: SECRETS.condaToken },
    's3://bucket': { S3Credentials: { access_key_id: 'AKIAEXAMPLE', secret_access_key: SECRETS.s3Secret, session_token: null } },
  }));
  const binstar = join(home, 'binstar');
  await mkdir(join(binstar, 'data'), { recursive: true });
  await writeFile(join(binstar, 'data', `${encodeURIComponent(server.url)}.token`), SECRETS.binstarToken);
  const env = {
    HOME: home, BINSTAR_CONFIG_DIR: binstar, CONDA_GATEWAY_NO_PROGRESS: '1',
    HTTPS_PROXY: `http://u:${SECRETS.envProxyPassword}@127.0.0.1:9`, AWS_SECRET_ACCESS_KEY: SECRETS.awsSecret,
  };
  const secretUrl = `http://u:${SECRETS.urlPassword}@127.0.0.1:${server.port}/t/${SECRETS.urlToken}/chan/noarch/pkg-1.0-0.conda`;
  const plainUrl = `${server.url}/chan/noarch/pkg-1.0-0.conda`;

  const commands = buildProgram({ stdout: process.stdout, stderr: process.stderr, env: {}, cwd: work }, () => undefined)
    .commands.map((c) => c.name());
  const runs: Array<{ args: string[]; expect?: number }> = [
    { args: ['--help'], expect: 0 },
    { args: ['--version'], expect: 0 },
    ...commands.map((name) => ({ args: [name, '--help'], expect: 0 })),
    { args: ['-v', 'config'], expect: 0 },
    { args: ['-v', 'config', '--json'], expect: 0 },
    { args: ['-v', 'auth', 'list'], expect: 0 },
    { args: ['-v', 'auth', 'list', '--json'], expect: 0 },
    { args: ['-v', 'auth', 'login', 'example.org', '--token', SECRETS.loginToken], expect: 0 },
    { args: ['-v', 'auth', 'login', 'https://repo.example.org/chan', '--username', 'me', '--password', SECRETS.loginPassword, '--json'], expect: 0 },
    { args: ['-v', 'auth', 'list'], expect: 0 },
    { args: ['-v', 'auth', 'logout', 'example.org'], expect: 0 },
    { args: ['-v', 'download', secretUrl, '-o', join(work, 'a.conda'), '--sha256', sha256(body)], expect: 0 },
    { args: ['-v', 'download', plainUrl, '-o', join(work, 'b.conda'), '--json'], expect: 0 },
    { args: ['-v', '--insecure', 'download', secretUrl, '-o', join(work, 'c.conda'), '--sha256', '0'.repeat(64)] },
    { args: ['-v', 'download', `${secretUrl}.missing`, '-o', join(work, 'd.conda'), '--json'] },
    { args: ['-v', 'download', `https://u:${SECRETS.urlPassword}@127.0.0.1:9/t/${SECRETS.urlToken}/x.conda`, '-o', join(work, 'e.conda')] },
    { args: ['-v', 'fetch', '--no-extract', secretUrl, '--pkgs-dir', join(work, 'pkgs')] },
    { args: ['-v', 'fetch', '--no-extract', secretUrl, '--pkgs-dir', join(work, 'pkgs2'), '--json'] },
    { args: ['-v', 'repodata', 'chan', '--subdir', 'noarch', '--cache-dir', join(work, 'cache')] },
    { args: ['-v', 'repodata', 'chan', '--subdir', 'noarch', '--cache-dir', join(work, 'cache'), '--json'] },
    { args: ['-v', 'demo'] },
  ];
  const covered = new Set(runs.filter((r) => !r.args.includes('--help')).flatMap((r) => r.args.filter((a) => commands.includes(a)).slice(0, 1)));
  for (const name of commands) assert.ok(covered.has(name), `the command '${name}' is run with secrets configured`);

  const results: Array<{ args: string[]; r: CliResult }> = [];
  let spawned = 0;
  for (const run of runs) {
    const spawn = run.args.some((a) => SPAWNED.has(a)) && !run.args.includes('--help') && spawned++ < 3;
    const r = spawn ? await runCli(run.args, { env, cwd: work }) : await runHere(run.args, env, work);
    results.push({ args: run.args, r });
    if (run.expect !== undefined) assert.equal(r.code, run.expect, `${run.args.join(' ')}: ${r.stderr}`);
    const printed = `${r.stdout}\n${r.stderr}`;
    for (const [name, secret] of Object.entries(SECRETS)) {
      assert.ok(!printed.includes(secret), `'${run.args.join(' ')}' printed ${name}:\n${printed}`);
    }
  }
  const insecure = results.find((x) => x.args.includes('--insecure'));
  assert.match(insecure?.r.stderr ?? '', /WARNING: --insecure: TLS certificate verification is OFF/);
  const verbose = results.find((x) => x.args.includes(plainUrl))?.r.stderr ?? '';
  assert.match(verbose, /credentials for 127\.0\.0\.1.*\(basic\) from .*\.netrc/, 'with -v the credential source is named');
  assert.match(verbose, /credentials for 127\.0\.0\.1.*\(conda-token\) from .*binstar/);
  assert.ok(proxy.requests.length > 0 && proxy.requests.every((r) => r.authorized), 'downloads went through the authenticated proxy');
});
