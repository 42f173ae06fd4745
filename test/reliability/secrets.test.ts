/**
 * Secret leaks: every error code and class built from secret-bearing URLs, system errors
 * mapped by the session, and real CLI runs with secrets in URLs and the environment;
 * every printed form and all captured output scanned.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Headers, Response } from 'undici';
import { BasicClobberError, ChecksumMismatchError, CondaHTTPError, ERROR_CODES, GatewayError, OfflineError, ProxyError, download, isGatewayError, type ErrorCode } from '../../src/index.js';
import { toGatewayError } from '../../src/session/index.js';
import { httpErrorFromResponse } from '../../src/errors/index.js';
import { maskUrl, redactText } from '../../src/redact/index.js';
import { parseRequestUrl } from '../../src/session/create-session.js';
import { startFaultServer } from '../helpers/fault-server.js';
import { runCli } from '../helpers/cli.js';
import { startProxy } from '../helpers/servers/proxy.js';
import { bytes, sha256, tempDir } from '../helpers/fs.js';
import { testSettings } from '../helpers/settings.js';
import { SECRET_URLS, findLeak, printedForms } from './suites/secrets.js';

function systemError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/** Errors for one code, built every way the library builds them, each naming `url` everywhere it can. */
function errorsFor(code: ErrorCode, url: string): GatewayError[] {
  const cause = new Error(`low-level failure talking to ${url}`, { cause: new Error(`inner: ${url}`) });
  const out: GatewayError[] = [
    new GatewayError(`failed on ${url}`, { code, url, cause, hint: `retry ${url}`, details: { url, note: `see ${url}` } }),
  ];
  if (code === 'CG_HTTP_STATUS' || code === 'CG_CONNECTION' || code === 'CG_TIMEOUT') {
    out.push(new CondaHTTPError({ url, status: code === 'CG_HTTP_STATUS' ? 401 : undefined, code, cause, elapsedMs: 5, serverMessage: `token in ${url}` }));
  }
  if (code === 'CG_CHECKSUM_MISMATCH') {
    out.push(new ChecksumMismatchError({ url, target: '/tmp/x.conda', check: 'sha256', expected: 'a', actual: 'b', cause }));
  }
  if (code === 'CG_OFFLINE') out.push(new OfflineError(url, { cause }));
  if (code === 'CG_PROXY') out.push(new ProxyError(`proxy ${url} refused`, { url, cause }));
  if (code === 'CG_PATH_CONFLICT') out.push(new BasicClobberError('/tmp/x.conda', url));
  return out;
}

const SYSTEM_ERRORS: Array<[string, string]> = [
  ['ENOSPC', 'no space left on device, write'], ['ECONNRESET', 'read ECONNRESET'], ['ETIMEDOUT', 'connect ETIMEDOUT'],
  ['UND_ERR_BODY_TIMEOUT', 'Body Timeout Error'], ['DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'],
  ['EACCES', 'permission denied'], ['ABORT_ERR', 'This operation was aborted'], ['UND_ERR_SOCKET', 'other side closed'],
  ['ECONNREFUSED', 'connect ECONNREFUSED'], ['EWHATEVER', 'something new'],
];

test('a password containing a raw @ is masked whole in free text', () => {
  const out = redactText('GET https://user:pa@ss-s3cr3t@repo.example.com/x failed');
  assert.equal(out, 'GET https://<CREDENTIALS>@repo.example.com/x failed');
});

test('a /t/ token with dots or underscores is masked', () => {
  assert.equal(maskUrl('https://h/t/tk_s3cr3t.v2/chan/x.conda'), 'https://h/t/<TOKEN>/chan/x.conda');
});

test('a hint that names a URL with credentials is masked', () => {
  const err = new GatewayError('x', { code: 'CG_CONNECTION', hint: 'check https://user:s3cr3t@repo.example.com/' });
  assert.equal(findLeak(err.hint ?? ''), undefined);
  assert.equal(findLeak(JSON.stringify(err)), undefined);
});

test('a malformed URL with credentials is masked up to its last @', () => {
  assert.equal(maskUrl('https://///user:s3cr3t&x@h:99999/p'), 'https://///<CREDENTIALS>@h:99999/p');
  assert.equal(maskUrl('ftp:tk-s3cr3t@h:99999/x?token=s3cr3t'), 'ftp:<CREDENTIALS>@h:99999/x?token=<REDACTED>');
});

test('a host-less URL such as s3:key:secret@bucket is masked', () => {
  assert.equal(findLeak(maskUrl('s3:AKIA:s3cr3t@bucket/key')), undefined);
  assert.equal(findLeak(maskUrl('https:/user:s3cr3t@h/x')), undefined);
});

test('the raw input kept on a URL parse error is masked in every printed form', () => {
  const err = (() => {
    try {
      parseRequestUrl('https://///user:s3cr3t@127.0.0.1:99999/t/tk-s3cr3t/x');
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  assert.ok(isGatewayError(err));
  for (const text of Object.values(printedForms(err))) assert.equal(findLeak(text), undefined, text);
});

test('no error code leaks a secret through String, stack, inspect, JSON, hint or cause', (t) => {
  let errors = 0;
  let forms = 0;
  const leaks: string[] = [];
  for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
    for (const url of SECRET_URLS) {
      for (const err of errorsFor(code, url)) {
        errors++;
        assert.ok(isGatewayError(err));
        for (const [form, text] of Object.entries(printedForms(err))) {
          forms++;
          const leak = findLeak(text);
          if (leak) leaks.push(`${code} ${err.name} ${form}: …${leak}…`);
        }
      }
    }
  }
  for (const url of SECRET_URLS) {
    for (const [code, message] of SYSTEM_ERRORS) {
      const mapped = toGatewayError(systemError(code, `${message} (${url})`), { url, path: '/tmp/x.conda.partial' });
      errors++;
      assert.ok(isGatewayError(mapped));
      for (const [form, text] of Object.entries(printedForms(mapped))) {
        forms++;
        const leak = findLeak(text);
        if (leak) leaks.push(`${code}→${mapped.code} ${form}: …${leak}…`);
      }
    }
  }
  const line = `secrets (errors): ${Object.keys(ERROR_CODES).length} codes × ${SECRET_URLS.length} secret URLs, ` +
    `${errors} errors, ${forms} printed forms scanned, ${leaks.length} leaks`;
  t.diagnostic(line);
  console.log(line);
  assert.deepEqual(leaks, []);
});

test('an error body that echoes the URL is masked in the message', async () => {
  for (const url of SECRET_URLS) {
    const res = new Response(JSON.stringify({ reason: 'NOPE', message: `denied for ${url}` }), {
      status: 403, headers: new Headers({ 'content-type': 'application/json' }),
    });
    const err = await httpErrorFromResponse(res, { url });
    for (const text of Object.values(printedForms(err))) assert.equal(findLeak(text), undefined, text);
  }
});

test('library logs, retry events and progress of a faulty download carry no secret', async (t) => {
  const server = await startFaultServer(t, { seed: 3 });
  const body = bytes(200_000, 9);
  server.addFile('/t/tk-s3cr3t/chan/noarch/p.conda', body);
  server.script('/t/tk-s3cr3t/chan/noarch/p.conda', ['status503', 'cut', 'redirect', 'stall', 'wrongBytes', 'wrongBytes']);
  const dir = await tempDir(t);
  const captured: string[] = [];
  const url = `http://user:s3cr3t@127.0.0.1:${server.http.port}/t/tk-s3cr3t/chan/noarch/p.conda?X-Amz-Signature=s3cr3t`;
  const opts = {
    sha256: sha256(body), settings: testSettings({ remoteReadTimeoutSecs: 0.2 }), sleep: async () => undefined,
    log: (m: string) => captured.push(m), onRetry: (e: unknown) => captured.push(JSON.stringify(e)),
    onProgress: (p: unknown) => captured.push(JSON.stringify(p)),
  };
  const first = await download(url, join(dir, 'p.conda'), opts).catch((err: unknown) => err);
  assert.ok(isGatewayError(first), 'wrong bytes end as a typed error');
  captured.push(...Object.values(printedForms(first)));
  const result = await download(url, join(dir, 'p.conda'), opts);
  captured.push(JSON.stringify(result), String(result.url));
  assert.ok(captured.length > 5);
  for (const text of captured) assert.equal(findLeak(text), undefined, text);
});

interface CliCase {
  name: string;
  args: string[];
  env?: Record<string, string>;
}

test('CLI commands with secret URLs, proxy credentials and S3 keys print no secret', async (t) => {
  const server = await startFaultServer(t, { seed: 5 });
  const body = bytes(120_000, 11);
  const path = '/t/tk-s3cr3t/chan/noarch/p.conda';
  server.addFile(path, body);
  const dir = await tempDir(t);
  const base = `http://user:s3cr3t@127.0.0.1:${server.http.port}`;
  const url = `${base}${path}?X-Amz-Signature=s3cr3tsig`;
  const secretEnv = {
    AWS_ACCESS_KEY_ID: 'AKIAS3CR3T', AWS_SECRET_ACCESS_KEY: 's3cr3t-aws-key', AWS_SESSION_TOKEN: 's3cr3t-session',
    CONDA_PROXY_SERVERS_HTTP: 'http://proxyuser:pr0xy-pass@127.0.0.1:9',
  };
  const proxyEnv = { HTTP_PROXY: 'http://proxyuser:pr0xy-pass@127.0.0.1:9', HTTPS_PROXY: 'http://proxyuser:pr0xy-pass@127.0.0.1:9', NO_PROXY: '' };
  const out = (n: string) => join(dir, n);
  const cases: CliCase[] = [];
  for (const flags of [[], ['-v'], ['--json'], ['-v', '--json']]) {
    const tag = flags.join('') || 'plain';
    cases.push(
      { name: `ok ${tag}`, args: [...flags, 'download', url, '-o', out(`ok${tag}`), '--sha256', sha256(body)], env: secretEnv },
      { name: `404 ${tag}`, args: [...flags, 'download', `${base}/t/tk-s3cr3t/missing.conda?token=s3cr3t`, '-o', out(`m${tag}`)] },
      { name: `mismatch ${tag}`, args: [...flags, 'download', url, '-o', out(`bad${tag}`), '--sha256', '0'.repeat(64)] },
      { name: `refused ${tag}`, args: [...flags, 'download', 'http://user:s3cr3t@127.0.0.1:9/t/tk-s3cr3t/x.conda', '-o', out(`r${tag}`)],
        env: { CONDA_REMOTE_MAX_RETRIES: '0' } },
      { name: `offline ${tag}`, args: [...flags, '--offline', 'download', url, '-o', out(`off${tag}`)] },
      { name: `proxy ${tag}`, args: [...flags, 'download', url, '-o', out(`px${tag}`)], env: { ...proxyEnv, CONDA_REMOTE_MAX_RETRIES: '0' } },
      { name: `scheme ${tag}`, args: [...flags, 'download', 'gopher://user:s3cr3t@127.0.0.1/t/tk-s3cr3t/x', '-o', out(`g${tag}`)] },
      { name: `malformed ${tag}`, args: [...flags, 'download', 'http://user:s3cr3t@[bad/t/tk-s3cr3t/x', '-o', out(`mal${tag}`)] },
      { name: `s3 ${tag}`, args: [...flags, 'download', 's3://AKIAS3CR3T:s3cr3t-key@127.0.0.1:9/b/x.conda', '-o', out(`s3${tag}`)],
        env: { ...secretEnv, CONDA_REMOTE_MAX_RETRIES: '0' } },
    );
  }
  server.script(path, ['status503', 'status503', 'cut']);
  cases.push({ name: 'retries -v', args: ['-v', 'download', url, '-o', out('retry'), '--sha256', sha256(body)] });
  const proxy = await startProxy(t, { auth: { username: 'proxyuser', password: 'pr0xy-pass' } });
  for (const flags of [['-v'], ['-v', '--json']]) {
    cases.push(
      { name: `via proxy ${flags.join('')}`, args: [...flags, 'download', url, '-o', out(`via${flags.length}`), '--sha256', sha256(body)],
        env: { HTTP_PROXY: proxy.urlWithCredentials(), NO_PROXY: '' } },
      { name: `proxy 407 ${flags.join('')}`, args: [...flags, 'download', url, '-o', out(`p407${flags.length}`)],
        env: { HTTP_PROXY: proxy.urlWithCredentials('proxyuser', 'wrong-pr0xy-pass'), NO_PROXY: '' } },
    );
  }
  cases.push({ name: 'demo', args: ['demo'], env: { ...secretEnv, ...proxyEnv, NO_PROXY: '127.0.0.1,localhost' } });
  cases.push({ name: 'help', args: ['--help'], env: secretEnv });

  const leaks: string[] = [];
  let scanned = 0;
  const queue = [...cases];
  const worker = async (): Promise<void> => {
    for (let c = queue.shift(); c; c = queue.shift()) {
      const r = await runCli(c.args, { env: { CONDA_REMOTE_BACKOFF_FACTOR: '0', ...c.env } });
      scanned += r.stdout.length + r.stderr.length;
      const leak = findLeak(r.stdout + r.stderr);
      if (leak) leaks.push(`${c.name}: …${leak}…`);
      if (c.args.includes('--json') && r.stdout.trim()) JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    }
  };
  await Promise.all([worker(), worker(), worker()]);
  assert.ok(proxy.requests.some((r) => r.authorized), 'the proxied runs went through the proxy');
  const line = `secrets (CLI): ${cases.length} runs, ${scanned} bytes of stdout+stderr scanned, ${leaks.length} leaks`;
  t.diagnostic(line);
  console.log(line);
  assert.deepEqual(leaks, []);
});

test('progress bars on a terminal carry no secret', async (t) => {
  const { execFileSync, spawn } = await import('node:child_process');
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('this test needs the `script` command (Debian package bsdutils) to give the CLI a terminal');
  }
  const { cliCommand, cleanEnv } = await import('../helpers/cli.js');
  const server = await startFaultServer(t, { seed: 9, throttle: { chunk: 16 * 1024, delayMs: 20 } });
  const body = bytes(400_000, 13);
  const path = '/t/tk-s3cr3t/chan/noarch/p-1.0-0.conda';
  server.addFile(path, body);
  const dir = await tempDir(t);
  const url = `http://user:s3cr3t@127.0.0.1:${server.http.port}${path}?X-Amz-Signature=s3cr3t`;
  const spec = join(dir, 'spec.txt');
  const { writeFile } = await import('node:fs/promises');
  await writeFile(spec, `@EXPLICIT\n${url}#sha256:${sha256(body)}\n`);
  const { command, args } = cliCommand();
  const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const runs = [
    ['-v', 'download', url, '-o', join(dir, 'a.conda'), '--sha256', sha256(body)],
    ['-v', 'fetch', '--no-extract', spec, '--pkgs-dir', join(dir, 'pkgs')],
  ];
  let scanned = 0;
  for (const run of runs) {
    const line = [command, ...args, ...run].map(quote).join(' ');
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn('script', ['-qfec', line, '/dev/null'], { env: cleanEnv({ TERM: 'xterm', COLUMNS: '120' }), stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${out}`))));
    });
    scanned += output.length;
    assert.match(output, /\|[█░\-=#]+\||\d+%/, 'a progress bar was drawn');
    assert.equal(findLeak(output), undefined, output);
  }
  const line = `secrets (terminal progress): ${runs.length} runs under a pty, ${scanned} bytes scanned, 0 leaks`;
  t.diagnostic(line);
  console.log(line);
});
