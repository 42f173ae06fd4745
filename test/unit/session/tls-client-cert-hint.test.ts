/** TLS failures mention client_ssl_cert when a client certificate is configured or the server asked for one. */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type ServerOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import { isGatewayError, loadSettings } from '../../../src/index.js';
import { createSession } from '../../../src/session/index.js';
import { type SettingValues } from '../../../src/config/index.js';
import { toGatewayError } from '../../../src/session/map-error.js';
import { testCerts } from '../../helpers/certs.js';

async function tlsServer(t: TestContext, options: ServerOptions): Promise<string> {
  const server = createServer(options, (_req, res) => res.end('{}'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  return `https://127.0.0.1:${(server.address() as AddressInfo).port}/x.json`;
}

async function failure(url: string, overrides: Partial<SettingValues>): Promise<{ code: string; hint: string }> {
  const session = createSession({ settings: loadSettings({ overrides: { remoteMaxRetries: 0, ...overrides } }), credentialSources: [] });
  try {
    await session.fetch(url);
  } catch (err) {
    assert.ok(isGatewayError(err), String(err));
    return { code: err.code, hint: err.hint ?? '' };
  } finally {
    await session.close();
  }
  throw new Error('the request succeeded');
}

test('a server that asks for a client certificate (TLS 1.2 alert) gets a hint naming client_ssl_cert', async (t) => {
  const certs = await testCerts();
  const url = await tlsServer(t, { key: certs.server.key, cert: certs.server.cert, ca: certs.ca, requestCert: true, rejectUnauthorized: true, maxVersion: 'TLSv1.2' });
  const { code, hint } = await failure(url, { sslVerify: certs.caPath });
  assert.equal(code, 'CG_TLS');
  assert.match(hint, /ssl_verify/);
  assert.match(hint, /client_ssl_cert/);
});

test('a configured client certificate the server refuses is named in the hint (TLS 1.3 closes the connection)', async (t) => {
  const certs = await testCerts();
  const url = await tlsServer(t, { key: certs.server.key, cert: certs.server.cert, ca: certs.unknownCa.cert, requestCert: true, rejectUnauthorized: true });
  const { code, hint } = await failure(url, { sslVerify: certs.caPath, clientSslCert: certs.client.certPath, clientSslCertKey: certs.client.keyPath });
  assert.ok(['CG_TLS', 'CG_CONNECTION'].includes(code), code);
  assert.match(hint, new RegExp(`client_ssl_cert ${certs.client.certPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
});

test('an ordinary certificate verification failure without a client certificate does not talk about one', async (t) => {
  const certs = await testCerts();
  const url = await tlsServer(t, { key: certs.unknownCa.key, cert: certs.unknownCa.cert });
  const { code, hint } = await failure(url, { sslVerify: certs.caPath });
  assert.equal(code, 'CG_TLS');
  assert.doesNotMatch(hint, /client_ssl_cert/);
});

test('the TLS 1.3 certificate-required alert maps to a CondaSSLError whose hint names client_ssl_cert', () => {
  const alert = Object.assign(new Error('tlsv13 alert certificate required'), { code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' });
  const err = toGatewayError(alert, { url: 'https://repo.example.com/c/noarch/repodata.json' });
  assert.equal(err.code, 'CG_TLS');
  assert.match(err.hint ?? '', /client_ssl_cert/);
});
