import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runHere } from './run-in-process.js';
import { tempDir } from '../../helpers/fs.js';

async function home(t: import('node:test').TestContext, condarc?: string) {
  const dir = await tempDir(t);
  if (condarc !== undefined) await writeFile(join(dir, '.condarc'), condarc);
  return dir;
}

test('config --json shows each setting with its value and where it came from', async (t) => {
  const h = await home(t, 'remote_max_retries: 5\nproxy_servers:\n  https: http://u:pw-secret@proxy.corp:3128\n');
  await mkdir(join(h, '.conda'));
  await writeFile(join(h, '.conda', 'condarc'), 'proxy_servers:\n  http: http://proxy.corp:3128\n');
  const r = await runHere(['config', '--json'], { HOME: h, CONDA_OFFLINE: 'true' }, h);
  assert.equal(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout) as { files: string[]; settings: Record<string, { value: unknown; source: string; also?: string[] }> };
  assert.deepEqual(json.files.filter((f) => f.startsWith(h)), [join(h, '.conda', 'condarc'), join(h, '.condarc')]);
  assert.deepEqual(json.settings.remote_max_retries, { value: 5, source: `${join(h, '.condarc')}:1` });
  assert.deepEqual(json.settings.offline, { value: true, source: 'env:CONDA_OFFLINE' });
  assert.deepEqual(json.settings.ssl_verify, { value: true, source: 'default' });
  assert.deepEqual(json.settings.proxy_servers?.value, { http: 'http://proxy.corp:3128', https: 'http://<CREDENTIALS>@proxy.corp:3128' });
  assert.deepEqual(json.settings.proxy_servers?.also, [`${join(h, '.conda', 'condarc')}:1`]);
  assert.ok(!r.stdout.includes('pw-secret'));
});

test('config prints a readable table naming the files, variables and credential places', async (t) => {
  const h = await home(t, 'ssl_verify: false\n');
  await writeFile(join(h, '.netrc'), 'default login u password p\n');
  const r = await runHere(['config'], { HOME: h, HTTPS_PROXY: 'http://u:envpw@proxy:1', NO_PROXY: 'localhost' }, h);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`ssl_verify\\s+: false\\s+# ${join(h, '.condarc')}:1`));
  assert.match(r.stdout, /HTTPS_PROXY=http:\/\/<CREDENTIALS>@proxy:1/);
  assert.match(r.stdout, new RegExp(`\\.netrc: ${join(h, '.netrc')}`));
  assert.match(r.stderr, /WARNING: TLS certificate verification is OFF: ssl_verify is false/);
  assert.ok(!r.stdout.includes('envpw'));
});

test('bad configuration exits non-zero with the file, line and key named', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['ssl_verify: true\nproxy_servers:\n  http: [oops\n', /ConfigError: Cannot parse .*\.condarc line \d/],
    ['remote_max_retries: lots\n', /ConfigError: Invalid value 'lots' for setting 'remote_max_retries' \(from .*\.condarc:1\)/],
    ['ssl_verify: /no/such/ca.pem\n', /ssl_verify value '\/no\/such\/ca.pem' must be a boolean.*\.condarc:1/s],
    ['client_ssl_cert_key: /x/key.pem\n', /'client_ssl_cert' is required when 'client_ssl_cert_key' is defined.*\.condarc:1/s],
  ];
  for (const [text, pattern] of cases) {
    const h = await home(t, text);
    for (const args of [['config'], ['download', 'http://127.0.0.1:9/x.conda', '-o', join(h, 'x')]]) {
      const r = await runHere(args, { HOME: h }, h);
      assert.equal(r.code, 2, `${args[0]} with ${JSON.stringify(text)}: ${r.stderr}`);
      assert.match(r.stderr, pattern);
    }
    const json = await runHere(['config', '--json'], { HOME: h }, h);
    assert.equal(json.code, 2);
    assert.equal((JSON.parse(json.stdout) as { code: string }).code, 'CG_CONFIG_INVALID');
  }
});

test('a wrong type in a CONDA_ variable names the variable', async (t) => {
  const h = await home(t);
  const r = await runHere(['config'], { HOME: h, CONDA_REMOTE_MAX_RETRIES: 'lots' }, h);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /'remote_max_retries' \(from env:CONDA_REMOTE_MAX_RETRIES\)/);
});

test('CONDARC adds a file read last, and CONDA_RESTRICT_RC_SEARCH_PATH reads only that one', async (t) => {
  const h = await home(t, 'remote_max_retries: 5\nremote_backoff_factor: 4\n');
  const extra = join(h, 'extra.rc');
  await writeFile(extra, 'remote_max_retries: 9\n');
  const r = await runHere(['config', '--json'], { HOME: h, CONDARC: extra }, h);
  const s = (JSON.parse(r.stdout) as { settings: Record<string, { value: unknown }> }).settings;
  assert.equal(s.remote_max_retries?.value, 9);
  assert.equal(s.remote_backoff_factor?.value, 4);
  const only = await runHere(['config', '--json'], { HOME: h, CONDARC: extra, CONDA_RESTRICT_RC_SEARCH_PATH: '1' }, h);
  const s2 = (JSON.parse(only.stdout) as { settings: Record<string, { value: unknown }> }).settings;
  assert.equal(s2.remote_backoff_factor?.value, 1);
});

test('--insecure says loudly that verification is off, once, for every command that builds settings', async (t) => {
  const h = await home(t);
  for (const args of [['--insecure', 'config'], ['--insecure', 'download', 'http://127.0.0.1:9/x.conda', '-o', join(h, 'x')]]) {
    const r = await runHere(args, { HOME: h, CONDA_REMOTE_MAX_RETRIES: '0' }, h);
    assert.equal((r.stderr.match(/WARNING: --insecure/g) ?? []).length, 1, r.stderr);
  }
});

test('config checks what a request would need: CA bundles, client certificates and proxy URLs', async (t) => {
  const h = await home(t, 'proxy_servers:\n  https: proxy.corp:3128\n');
  const bad = await runHere(['config'], { HOME: h }, h);
  assert.equal(bad.code, 3);
  assert.match(bad.stderr, /ProxyError: Invalid proxy URL 'proxy.corp:3128' from proxy_servers.https/);
  const h2 = await home(t);
  const ca = await runHere(['config'], { HOME: h2, REQUESTS_CA_BUNDLE: join(h2, 'missing.pem') }, h2);
  assert.equal(ca.code, 2);
  assert.match(ca.stderr, /REQUESTS_CA_BUNDLE/);
  const envProxy = await runHere(['config', '--json'], { HOME: h2, https_proxy: 'user:pw-x@proxy:1' }, h2);
  assert.equal(envProxy.code, 3);
  assert.ok(!envProxy.stdout.includes('pw-x'));
});

test('the demo ignores the user\'s .condarc, so a proxy configured there cannot break it', async (t) => {
  const { runCli } = await import('../../helpers/cli.js');
  const h = await home(t, 'proxy_servers:\n  http: http://127.0.0.1:9\nssl_verify: false\n');
  const r = await runCli(['demo'], { env: { HOME: h }, cwd: h });
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /WARNING/);
});
