import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { download, isGatewayError, loadCondaSettings, loadSettings } from '../../../src/index.js';
import { createSession } from '../../../src/session/index.js';
import { type SettingValues } from '../../../src/config/index.js';
import { PROXY_ERROR_MESSAGE } from '../../../src/errors/index.js';
import { selectProxyWithSource, shouldBypassProxy } from '../../../src/session/proxy.js';
import { startFileServer } from '../../helpers/servers/http.js';
import { startProxy } from '../../helpers/servers/proxy.js';
import { testCerts } from '../../helpers/certs.js';
import { listDir, tempDir } from '../../helpers/fs.js';

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

async function plainServer(t: import('node:test').TestContext) {
  const server = await startFileServer(t);
  server.setFile('/chan/noarch/repodata.json', '{"via":"proxy?"}');
  return server;
}

async function deadPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

test('proxy_servers.http carries plain http requests as forward requests', async (t) => {
  const server = await plainServer(t);
  const proxy = await startProxy(t);
  const res = await get(`${server.url}/chan/noarch/repodata.json`, { proxyServers: { http: proxy.url } });
  assert.equal(res.status, 200);
  assert.deepEqual(proxy.requests.map((r) => [r.method, r.target]), [['GET', `${server.url}/chan/noarch/repodata.json`]]);
});

test('HTTPS goes through the proxy with CONNECT, and TLS is still verified end to end', async (t) => {
  const certs = await testCerts();
  const server = await startFileServer(t, { tls: { key: certs.server.key, cert: certs.server.cert } });
  server.setFile('/x.json', '{}');
  const proxy = await startProxy(t);
  const res = await get(`${server.url}/x.json`, { sslVerify: certs.caPath }, { HTTPS_PROXY: proxy.url });
  assert.equal(res.status, 200);
  assert.deepEqual(proxy.requests.map((r) => [r.method, r.target]), [['CONNECT', `127.0.0.1:${server.port}`]]);
  await assert.rejects(get(`${server.url}/x.json`, {}, { HTTPS_PROXY: proxy.url }), (e: unknown) => isGatewayError(e) && e.code === 'CG_TLS');
});

test('proxy credentials in the proxy URL are sent as Proxy-Authorization, percent-decoded', async (t) => {
  const server = await plainServer(t);
  const password = 'p@ss:w/rd%';
  const proxy = await startProxy(t, { auth: { username: 'proxyuser', password } });
  const res = await get(`${server.url}/chan/noarch/repodata.json`, {}, { http_proxy: proxy.urlWithCredentials() });
  assert.equal(res.status, 200);
  assert.equal(proxy.requests[0]?.authorized, true);
});

test('a 407 from the proxy is a ProxyError with conda\'s message, for http and for CONNECT, and names no secret', async (t) => {
  const server = await plainServer(t);
  const certs = await testCerts();
  const tlsServer = await startFileServer(t, { tls: { key: certs.server.key, cert: certs.server.cert } });
  const proxy = await startProxy(t, { auth: { username: 'proxyuser', password: 'right' } });
  const wrong = proxy.urlWithCredentials('proxyuser', 'wrong-proxy-pass');
  const dir = await tempDir(t);
  for (const url of [`${server.url}/chan/noarch/repodata.json`, `${tlsServer.url}/chan/noarch/repodata.json`]) {
    await assert.rejects(download(url, join(dir, 'r.json'), {
      settings: loadSettings({ env: { HTTP_PROXY: wrong, HTTPS_PROXY: wrong }, overrides: { remoteMaxRetries: 0, sslVerify: certs.caPath } }),
    }), (e: unknown) => {
      assert.ok(isGatewayError(e) && e.code === 'CG_PROXY' && e.name === 'ProxyError', String(e));
      assert.equal(e.message, PROXY_ERROR_MESSAGE);
      assert.ok(!JSON.stringify(e).includes('wrong-proxy-pass') && !String(e.stack).includes('wrong-proxy-pass'));
      return true;
    });
  }
  assert.deepEqual(await listDir(dir), []);
  assert.ok(proxy.requests.every((r) => !r.authorized));
});

test('an unreachable proxy is a ProxyError, not a channel error', async () => {
  const port = await deadPort();
  await assert.rejects(get('http://127.0.0.1:9/x', { proxyServers: { http: `http://127.0.0.1:${port}` } }), (e: unknown) =>
    isGatewayError(e) && e.code === 'CG_PROXY' && e.message === PROXY_ERROR_MESSAGE);
});

test('NO_PROXY bypasses environment proxies (CIDR too) but not proxy_servers, as requests does', async (t) => {
  const server = await plainServer(t);
  const proxy = await startProxy(t);
  const url = `${server.url}/chan/noarch/repodata.json`;
  assert.equal((await get(url, {}, { HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1' })).status, 200);
  assert.equal((await get(url, {}, { http_proxy: proxy.url, no_proxy: '127.0.0.0/8' })).status, 200);
  assert.equal(proxy.requests.length, 0);
  assert.equal((await get(url, { proxyServers: { http: proxy.url } }, { NO_PROXY: '127.0.0.1' })).status, 200);
  assert.equal(proxy.requests.length, 1);
});

test('ALL_PROXY serves schemes without their own proxy; lowercase variables beat uppercase', async (t) => {
  const server = await plainServer(t);
  const proxy = await startProxy(t);
  const port = await deadPort();
  const url = `${server.url}/chan/noarch/repodata.json`;
  assert.equal((await get(url, {}, { ALL_PROXY: proxy.url })).status, 200);
  assert.equal((await get(url, {}, { http_proxy: proxy.url, HTTP_PROXY: `http://127.0.0.1:${port}` })).status, 200);
  assert.equal(proxy.requests.length, 2);
});

test('proxy_servers keys: scheme://host beats scheme beats all', () => {
  const settings = loadSettings({ overrides: { proxyServers: { all: 'http://all:1', http: 'http://scheme:1', 'http://special.example': 'http://host:1' } } });
  const pick = (u: string) => selectProxyWithSource(new URL(u), settings)?.url;
  assert.equal(pick('http://special.example/x'), 'http://host:1');
  assert.equal(pick('http://other.example/x'), 'http://scheme:1');
  assert.equal(pick('https://other.example/x'), 'http://all:1');
  assert.equal(selectProxyWithSource(new URL('http://other.example/'), settings)?.source, 'proxy_servers.http (from override)');
  assert.ok(shouldBypassProxy(new URL('http://a.corp.example/'), 'localhost,.corp.example'));
  assert.ok(!shouldBypassProxy(new URL('http://127.0.0.1/'), 'localhost'));
  assert.ok(shouldBypassProxy(new URL('http://anything/'), '*'));
});

test('a proxy URL without a scheme is a ProxyError naming the variable or file and line, credentials masked', async (t) => {
  await assert.rejects(get('http://127.0.0.1:9/x', {}, { HTTP_PROXY: 'user:hunter2@proxy.corp:3128' }), (e: unknown) =>
    isGatewayError(e) && e.code === 'CG_PROXY' && e.message.includes('env:HTTP_PROXY') && !e.message.includes('hunter2') &&
    e.message.includes('<CREDENTIALS>@proxy.corp:3128'));
  const home = await tempDir(t);
  await writeFile(join(home, '.condarc'), 'proxy_servers:\n  http: proxy.corp:3128\n');
  const settings = loadCondaSettings({ env: { HOME: home }, platform: 'linux', overrides: { remoteMaxRetries: 0 } });
  const session = createSession({ settings, credentialSources: [] });
  t.after(() => session.close());
  await assert.rejects(session.fetch('http://127.0.0.1:9/x'), (e: unknown) =>
    isGatewayError(e) && e.code === 'CG_PROXY' && e.message.includes(`proxy_servers.http (from ${join(home, '.condarc')}:2)`));
});

test('the debug log names the proxy used and where it was set, with its credentials masked', async (t) => {
  const server = await plainServer(t);
  const proxy = await startProxy(t, { auth: { username: 'proxyuser', password: 'log-secret-pw' } });
  const logs: string[] = [];
  const settings = loadSettings({ env: { HTTP_PROXY: proxy.urlWithCredentials() }, overrides: { remoteMaxRetries: 0 } });
  const session = createSession({ settings, credentialSources: [], log: (m) => logs.push(m) });
  t.after(() => session.close());
  await (await session.fetch(`${server.url}/chan/noarch/repodata.json`)).text();
  assert.ok(logs.some((l) => l.includes(`proxy for http://127.0.0.1:${server.port}: http://<CREDENTIALS>@127.0.0.1:${proxy.port}`) && l.includes('env:HTTP_PROXY')), logs.join('\n'));
  assert.ok(logs.some((l) => l.startsWith('TLS: ')));
  assert.ok(!logs.join('\n').includes('log-secret-pw'));
});

test('an https:// proxy is reached over TLS, verified with the configured CA, and carries credentials', async (t) => {
  const certs = await testCerts();
  const server = await plainServer(t);
  const proxy = await startProxy(t, { tls: { key: certs.server.key, cert: certs.server.cert }, auth: { username: 'u', password: 'tls-proxy-pw' } });
  const res = await get(`${server.url}/chan/noarch/repodata.json`, { sslVerify: certs.caPath }, { HTTP_PROXY: proxy.urlWithCredentials() });
  assert.equal(res.status, 200);
  assert.equal(proxy.requests[0]?.authorized, true);
  await assert.rejects(get(`${server.url}/chan/noarch/repodata.json`, {}, { HTTP_PROXY: proxy.urlWithCredentials() }), (e: unknown) =>
    isGatewayError(e) && ['CG_TLS', 'CG_PROXY'].includes(e.code) && !JSON.stringify(e).includes('tls-proxy-pw'));
});
