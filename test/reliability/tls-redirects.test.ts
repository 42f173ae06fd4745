/**
 * TLS and redirects: verification is on by default, unknown and self-signed certificates
 * are refused, Authorization and cookies never follow a cross-host redirect, and https
 * never downgrades to http. Certificates are made with openssl per run.
 */
import { after, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { download, isGatewayError } from '../../src/index.js';
import { createSession } from '../../src/session/index.js';
import { startFileServer, type FileServer } from '../helpers/servers/http.js';
import { redirect } from '../helpers/faults.js';
import { bytes, listDir, sha256, tempDir } from '../helpers/fs.js';
import { noSleep, testSettings } from '../helpers/settings.js';
import { runCli } from '../helpers/cli.js';
import { testCerts } from '../helpers/certs.js';

let checks = 0;
const count = (): void => {
  checks++;
};

const pki = testCerts;

const BODY = bytes(40_000, 21);

async function httpsServer(t: TestContext, which: 'server' | 'selfSigned'): Promise<FileServer> {
  const p = await pki();
  const server = await startFileServer(t, { tls: p[which] });
  server.setFile('/p.conda', BODY);
  return server;
}

async function refusedWithTls(t: TestContext, url: string, settings = testSettings()): Promise<void> {
  const dir = await tempDir(t);
  await assert.rejects(download(url, join(dir, 'p.conda'), { sha256: sha256(BODY), settings, sleep: noSleep }),
    (e: unknown) => isGatewayError(e) && e.code === 'CG_TLS' && e.name === 'CondaSSLError');
  assert.deepEqual(await listDir(dir), [], 'nothing is written when TLS fails');
  count();
}

test('verification is on by default: a certificate from an unknown CA is refused', async (t) => {
  const server = await httpsServer(t, 'server');
  await refusedWithTls(t, `${server.url}/p.conda`);
  assert.equal(server.requests.length, 0, 'no request reached the server');
});

test('a self-signed certificate is refused by default', async (t) => {
  const server = await httpsServer(t, 'selfSigned');
  await refusedWithTls(t, `${server.url}/p.conda`);
});

test('ssl_verify pointing at the CA bundle, or REQUESTS_CA_BUNDLE, lets the download verify', async (t) => {
  const server = await httpsServer(t, 'server');
  const p = await pki();
  const dir = await tempDir(t);
  for (const [i, settings] of [testSettings({ sslVerify: p.caPath }), testSettings({}, { REQUESTS_CA_BUNDLE: p.caPath })].entries()) {
    const result = await download(`${server.url}/p.conda`, join(dir, `p${i}.conda`), { sha256: sha256(BODY), settings });
    assert.equal(result.sha256, sha256(BODY));
    count();
  }
  // The CA only vouches for its own certificates: a self-signed server stays refused.
  const self = await httpsServer(t, 'selfSigned');
  await refusedWithTls(t, `${self.url}/p.conda`, testSettings({ sslVerify: p.caPath }));
});

test('ssl_verify false accepts the self-signed server (the explicit opt-out)', async (t) => {
  const server = await httpsServer(t, 'selfSigned');
  const dir = await tempDir(t);
  await download(`${server.url}/p.conda`, join(dir, 'p.conda'), { sha256: sha256(BODY), settings: testSettings({ sslVerify: false }) });
  assert.deepEqual(await readFile(join(dir, 'p.conda')), BODY);
  count();
});

test('Authorization and cookies are dropped on a cross-host redirect and kept on the same origin', async (t) => {
  const target = await startFileServer(t);
  target.setFile('/p.conda', BODY);
  const origin = await startFileServer(t);
  origin.setFile('/same.conda', BODY);
  for (const [path, to] of [['/cross-port', `${target.url}/p.conda`], ['/cross-name', `http://localhost:${target.port}/p.conda`]] as const) {
    origin.route(path, (_req, res) => {
      res.writeHead(302, { location: to });
      res.end();
    });
  }
  origin.script('/hop.conda', [redirect('/same.conda')]);
  const session = createSession({ settings: testSettings(), sleep: noSleep });
  t.after(() => session.close());
  const headers = { authorization: 'Bearer tk-s3cr3t', cookie: 'session=s3cr3t' };
  for (const path of ['/cross-port', '/cross-name']) {
    const res = await session.fetch(`http://user:s3cr3t@127.0.0.1:${origin.port}${path}`, { headers });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    const arrived = target.requests.at(-1)!;
    assert.equal(arrived.headers.authorization, undefined, `${path}: no Authorization on the other host`);
    assert.equal(arrived.headers.cookie, undefined, `${path}: no Cookie on the other host`);
    count();
  }
  const same = await session.fetch(`http://127.0.0.1:${origin.port}/hop.conda`, { headers });
  await same.arrayBuffer();
  const hop = origin.requestsFor('/same.conda').at(-1)!;
  assert.equal(hop.headers.authorization, 'Bearer tk-s3cr3t', 'same origin keeps Authorization');
  count();
  // download() with credentials in the URL: they never reach the other host either.
  const dir = await tempDir(t);
  await download(`http://user:s3cr3t@127.0.0.1:${origin.port}/cross-name`, join(dir, 'p.conda'), { sha256: sha256(BODY), settings: testSettings() });
  assert.equal(target.requests.at(-1)!.headers.authorization, undefined);
  count();
});

test('a redirect from https to http is refused and writes nothing', async (t) => {
  const plain = await startFileServer(t);
  plain.setFile('/p.conda', BODY);
  const secure = await httpsServer(t, 'server');
  secure.route('/down.conda', (_req, res) => {
    res.writeHead(301, { location: `http://127.0.0.1:${plain.port}/p.conda` });
    res.end();
  });
  const dir = await tempDir(t);
  const p = await pki();
  await assert.rejects(
    download(`${secure.url}/down.conda`, join(dir, 'p.conda'), { sha256: sha256(BODY), settings: testSettings({ sslVerify: p.caPath }) }),
    (e: unknown) => isGatewayError(e) && e.code === 'CG_REDIRECT' && /downgrade/.test(e.message));
  assert.equal(plain.requests.length, 0, 'the http server was never contacted');
  assert.deepEqual(await listDir(dir), []);
  count();
});

test('the CLI refuses a self-signed server with CondaSSLError and accepts it only with --insecure', async (t) => {
  const server = await httpsServer(t, 'selfSigned');
  const dir = await tempDir(t);
  const refused = await runCli(['download', `${server.url}/p.conda`, '-o', join(dir, 'a.conda')]);
  assert.equal(refused.code, 3, refused.stderr);
  assert.match(refused.stderr, /CondaSSLError: /);
  assert.match(refused.stderr, /hint: .*ssl_verify/);
  const insecure = await runCli(['--insecure', 'download', `${server.url}/p.conda`, '-o', join(dir, 'b.conda'), '--sha256', sha256(BODY)]);
  assert.equal(insecure.code, 0, insecure.stderr);
  assert.deepEqual(await listDir(dir), ['b.conda']);
  count();
  count();
});

// The summary line is a report, not a test: each test above asserts its own checks, and runs alone (--test-name-pattern).
after(() => {
  console.log(`tls: ${checks} checks passed in this run (of 13: unknown CA refused, self-signed refused, CA bundle and ` +
    'REQUESTS_CA_BUNDLE accepted, ssl_verify false opt-out, Authorization/Cookie dropped cross-host, https→http refused, CLI)');
});
