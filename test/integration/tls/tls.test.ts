import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { download, isGatewayError, loadSettings } from '../../../src/index.js';
import { createSession } from '../../../src/session/index.js';
import { type SettingValues } from '../../../src/config/index.js';
import { startFileServer } from '../../helpers/servers/http.js';
import { testCerts, type CertPair } from '../../helpers/certs.js';
import { listDir, tempDir } from '../../helpers/fs.js';
import { runCli } from '../../helpers/cli.js';

async function httpsServer(t: import('node:test').TestContext, pair: CertPair, requestCert = false) {
  const certs = await testCerts();
  const server = await startFileServer(t, { tls: { key: pair.key, cert: pair.cert, ca: certs.ca, requestCert } });
  server.setFile('/chan/noarch/repodata.json', '{"ok":true}');
  return server;
}

async function get(url: string, overrides: Partial<SettingValues> = {}, env: Record<string, string> = {}) {
  const settings = loadSettings({ env, overrides: { remoteMaxRetries: 0, ...overrides } });
  const session = createSession({ settings, credentialSources: [] });
  try {
    const res = await session.fetch(url);
    return { status: res.status, text: await res.text() };
  } finally {
    await session.close();
  }
}

const isTlsError = (e: unknown) => isGatewayError(e) && e.code === 'CG_TLS' && e.name === 'CondaSSLError' && /ssl_verify/.test(e.hint ?? '');

test('verification is on by default: a server signed by a private CA is refused with a hint naming ssl_verify', async (t) => {
  const certs = await testCerts();
  const server = await httpsServer(t, certs.server);
  const dir = await tempDir(t);
  await assert.rejects(download(`${server.url}/chan/noarch/repodata.json`, join(dir, 'r.json'),
    { settings: loadSettings({ overrides: { remoteMaxRetries: 0 } }) }), isTlsError);
  assert.deepEqual(await listDir(dir), []);
});

test('ssl_verify naming a CA bundle file or a directory of CAs makes the server trusted', async (t) => {
  const certs = await testCerts();
  const server = await httpsServer(t, certs.server);
  assert.equal((await get(`${server.url}/chan/noarch/repodata.json`, { sslVerify: certs.caPath })).text, '{"ok":true}');
  assert.equal((await get(`${server.url}/chan/noarch/repodata.json`, { sslVerify: certs.caDir })).status, 200);
});

test('REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE and SSL_CERT_FILE apply when ssl_verify is true, not when it is a path', async (t) => {
  const certs = await testCerts();
  const server = await httpsServer(t, certs.server);
  const url = `${server.url}/chan/noarch/repodata.json`;
  for (const name of ['REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE', 'SSL_CERT_FILE']) {
    assert.equal((await get(url, {}, { [name]: certs.caPath })).status, 200, name);
  }
  const other = await tempDir(t);
  await writeFile(join(other, 'other.pem'), (await testCerts()).unknownCa.cert);
  await assert.rejects(get(url, { sslVerify: join(other, 'other.pem') }, { REQUESTS_CA_BUNDLE: certs.caPath }), isTlsError);
});

test('ssl_verify: false accepts any certificate', async (t) => {
  const certs = await testCerts();
  const server = await httpsServer(t, certs.unknownCa);
  assert.equal((await get(`${server.url}/chan/noarch/repodata.json`, { sslVerify: false })).status, 200);
});

test('expired, wrong-host and unknown-CA certificates are each a CondaSSLError even with the CA trusted', async (t) => {
  const certs = await testCerts();
  for (const [label, pair] of [['expired', certs.expired], ['wrong host', certs.wrongHost], ['unknown CA', certs.unknownCa]] as const) {
    const server = await httpsServer(t, pair);
    await assert.rejects(get(`${server.url}/chan/noarch/repodata.json`, { sslVerify: certs.caPath }), (e: unknown) => {
      assert.ok(isTlsError(e), `${label}: ${String(e)}`);
      return true;
    });
  }
});

test('ssl_verify: truststore uses the operating system store (which does not know the test CA)', async (t) => {
  const certs = await testCerts();
  const server = await httpsServer(t, certs.server);
  await assert.rejects(get(`${server.url}/chan/noarch/repodata.json`, { sslVerify: 'truststore' }), isTlsError);
});

test('mTLS: client_ssl_cert with client_ssl_cert_key, or both in one file, is presented to the server', async (t) => {
  const certs = await testCerts();
  const server = await httpsServer(t, certs.server, true);
  const url = `${server.url}/chan/noarch/repodata.json`;
  assert.equal((await get(url, { sslVerify: certs.caPath, clientSslCert: certs.client.certPath, clientSslCertKey: certs.client.keyPath })).status, 200);
  assert.equal((await get(url, { sslVerify: certs.caPath, clientSslCert: certs.clientCombinedPath })).status, 200);
  await assert.rejects(get(url, { sslVerify: certs.caPath }), isClientCertMissing);
});

// conda: requests raises SSLError for the server's "certificate required" alert, and
// conda_http_errors / download_http_errors turn it into CondaSSLError (not a connection failure).
const isClientCertMissing = (e: unknown): boolean => {
  assert.ok(isGatewayError(e), String(e));
  assert.equal(e.name, 'CondaSSLError', e.message);
  assert.equal(e.code, 'CG_TLS');
  assert.match(e.message, /^Encountered an SSL error\. Most likely a certificate verification issue\./);
  assert.match(e.hint ?? '', /client_ssl_cert/);
  assert.doesNotMatch(e.message, /CONNECTION FAILED/);
  return true;
};

test('mTLS on TLS 1.3 without a client certificate: CondaSSLError naming client_ssl_cert, in download() and the CLI', async (t) => {
  const certs = await testCerts();
  const server = await httpsServer(t, certs.server, true);
  server.setFile('/chan/noarch/p-1-0.conda', 'x');
  const dir = await tempDir(t);
  for (let i = 0; i < 3; i++) {
    await assert.rejects(download(`${server.url}/chan/noarch/p-1-0.conda`, join(dir, 'p-1-0.conda'),
      { settings: loadSettings({ overrides: { sslVerify: certs.caPath, remoteMaxRetries: 0 } }) }), isClientCertMissing);
  }
  assert.deepEqual(await listDir(dir), []);
  const r = await runCli(['download', `${server.url}/chan/noarch/p-1-0.conda`, '-o', join(dir, 'p.conda')], { env: { CONDA_SSL_VERIFY: certs.caPath } });
  assert.match(r.stderr, /CondaSSLError: Encountered an SSL error/);
  assert.match(r.stderr, /client_ssl_cert/);
});

test('a CA path that does not exist, in ssl_verify or REQUESTS_CA_BUNDLE, is a ConfigError naming it', async () => {
  assert.throws(() => loadSettings({ env: { CONDA_SSL_VERIFY: '/nowhere/ca.pem' } }), (e: unknown) =>
    isGatewayError(e) && e.code === 'CG_CONFIG_INVALID' && e.message.includes("ssl_verify value '/nowhere/ca.pem'") && e.message.includes('env:CONDA_SSL_VERIFY'));
  await assert.rejects(get('https://127.0.0.1:9/x', {}, { REQUESTS_CA_BUNDLE: '/nowhere/bundle.pem' }), (e: unknown) =>
    isGatewayError(e) && e.code === 'CG_CONFIG_INVALID' && e.message.includes('REQUESTS_CA_BUNDLE') && e.message.includes('/nowhere/bundle.pem'));
});

test('a client key that does not belong to the certificate, or a missing certificate file, is a ConfigError', async () => {
  const certs = await testCerts();
  await assert.rejects(get('https://127.0.0.1:9/x', { clientSslCert: certs.client.certPath, clientSslCertKey: certs.server.keyPath }),
    (e: unknown) => isGatewayError(e) && e.code === 'CG_CONFIG_INVALID' && e.message.includes('client_ssl_cert'));
  await assert.rejects(get('https://127.0.0.1:9/x', { clientSslCert: '/nowhere/client.pem' }),
    (e: unknown) => isGatewayError(e) && e.code === 'CG_CONFIG_INVALID' && e.message.includes('/nowhere/client.pem'));
});
