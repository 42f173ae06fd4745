/** ProxyError hints say where the proxy was configured (variable or file:line), never its credentials. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { isGatewayError, loadCondaSettings, loadSettings, type Settings } from '../../../src/index.js';
import { createSession } from '../../../src/session/index.js';
import { startFileServer } from '../../helpers/servers/http.js';
import { startProxy } from '../../helpers/servers/proxy.js';
import { testCerts } from '../../helpers/certs.js';
import { tempDir } from '../../helpers/fs.js';

async function proxyFailure(url: string, settings: Settings): Promise<{ code: string; hint: string; printed: string }> {
  const session = createSession({ settings, credentialSources: [] });
  try {
    await session.fetch(url);
  } catch (err) {
    assert.ok(isGatewayError(err), String(err));
    return { code: err.code, hint: err.hint ?? '', printed: `${String(err)}\n${err.stack ?? ''}\n${JSON.stringify(err)}` };
  } finally {
    await session.close();
  }
  throw new Error('the request succeeded');
}

test('a 407 without proxy credentials names the variable the proxy came from', async (t) => {
  const server = await startFileServer(t);
  server.setFile('/x.json', '{}');
  const proxy = await startProxy(t, { auth: { username: 'proxyuser', password: 'right' } });
  const { code, hint } = await proxyFailure(`${server.url}/x.json`, loadSettings({ env: { HTTP_PROXY: proxy.url }, overrides: { remoteMaxRetries: 0 } }));
  assert.equal(code, 'CG_PROXY');
  assert.match(hint, /407/);
  assert.match(hint, /put user:password .* set in env:HTTP_PROXY/);
});

test('a 407 for wrong proxy credentials, plain or CONNECT, names the .condarc line and hides the password', async (t) => {
  const server = await startFileServer(t);
  server.setFile('/x.json', '{}');
  const certs = await testCerts();
  const tlsServer = await startFileServer(t, { tls: { key: certs.server.key, cert: certs.server.cert } });
  tlsServer.setFile('/x.json', '{}');
  const proxy = await startProxy(t, { auth: { username: 'proxyuser', password: 'right' } });
  const wrong = proxy.urlWithCredentials('proxyuser', 'wrong-hint-pass');
  const home = await tempDir(t);
  await writeFile(join(home, '.condarc'), `ssl_verify: ${certs.caPath}\nproxy_servers:\n  http: ${wrong}\n  https: ${wrong}\n`);
  const settings = loadCondaSettings({ env: { HOME: home }, platform: 'linux', overrides: { remoteMaxRetries: 0 } });
  for (const [url, key, line] of [[`${server.url}/x.json`, 'http', 3], [`${tlsServer.url}/x.json`, 'https', 4]] as const) {
    const { code, hint, printed } = await proxyFailure(url, settings);
    assert.equal(code, 'CG_PROXY', url);
    assert.match(hint, /refused the credentials/, url);
    assert.ok(hint.includes(`proxy_servers.${key} (from ${join(home, '.condarc')}:${line})`), hint);
    assert.ok(!printed.includes('wrong-hint-pass'));
  }
});

test('an unreachable proxy\'s hint names where it was set', async () => {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  const { code, hint } = await proxyFailure('http://127.0.0.1:9/x', loadSettings({ env: { http_proxy: `http://127.0.0.1:${port}` }, overrides: { remoteMaxRetries: 0 } }));
  assert.equal(code, 'CG_PROXY');
  assert.match(hint, /env:http_proxy/);
});

/** A tinyproxy-like proxy: answers every CONNECT with `status` (tinyproxy says 401 to bad credentials). */
async function refusingProxy(t: { after(fn: () => unknown): void }, status: number): Promise<string> {
  const srv = createServer((socket) => {
    socket.once('data', () => socket.end(`HTTP/1.0 ${status} Refused\r\nContent-Length: 0\r\n\r\n`));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => srv.close(() => resolve())));
  return `http://u:bad-tiny-pass@127.0.0.1:${(srv.address() as { port: number }).port}`;
}

test('a 401 or 403 to CONNECT (tinyproxy) reads as refused credentials, like a 407', async (t) => {
  for (const status of [401, 403]) {
    const proxy = await refusingProxy(t, status);
    const { code, hint, printed } = await proxyFailure('https://127.0.0.1:9/x.json',
      loadSettings({ env: { HTTPS_PROXY: proxy }, overrides: { remoteMaxRetries: 0 } }));
    assert.equal(code, 'CG_PROXY');
    assert.match(hint, new RegExp(`refused the credentials .*\\(${status}\\)`));
    assert.doesNotMatch(hint, /running and reachable/);
    assert.ok(!printed.includes('bad-tiny-pass'));
  }
});
