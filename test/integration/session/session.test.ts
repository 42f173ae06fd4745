import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getSession, closeSessions, isGatewayError, type RetryEvent } from '../../../src/index.js';
import { createSession, getResponseInfo, packageVersion } from '../../../src/session/index.js';
import { startFileServer } from '../../helpers/servers/http.js';
import { redirect, status } from '../../helpers/faults.js';
import { testSettings } from '../../helpers/settings.js';

test('session.fetch answers with a WHATWG Response and conda-like default headers', async (t) => {
  const server = await startFileServer(t);
  server.setFile('/a.txt', 'hello');
  const session = createSession({ settings: testSettings() });
  t.after(() => session.close());
  const res = await session.fetch(`${server.url}/a.txt`);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'hello');
  const headers = server.requests[0]!.headers;
  assert.match(String(headers['user-agent']), new RegExp(`^conda-gateway/${packageVersion().replace(/\./g, '\\.')} undici/\\S+ node/\\S+ \\S+/\\S+`));
  assert.equal(headers.accept, '*/*');
  assert.match(String(headers['accept-encoding']), /gzip/);
});

test('a 500 costs 1 + remote_max_retries requests, waits 0, 2, 4 s, and the last response is returned', async (t) => {
  const server = await startFileServer(t);
  server.setFile('/x', 'x');
  server.script('/x', [status(500), status(500), status(500), status(500)]);
  const delays: number[] = [];
  const events: RetryEvent[] = [];
  const session = createSession({ settings: testSettings({ remoteBackoffFactor: 1 }), sleep: async (ms) => { delays.push(ms); }, onRetry: (e) => events.push(e) });
  t.after(() => session.close());
  const res = await session.fetch(`${server.url}/x`);
  assert.equal(res.status, 500);
  assert.equal(server.requestsFor('/x').length, 4);
  assert.deepEqual(delays, [0, 2000, 4000]);
  assert.equal(getResponseInfo(res)?.attempts, 4);
  assert.deepEqual(events.map((e) => e.reason), ['HTTP 500', 'HTTP 500', 'HTTP 500']);
});

test('404 and 418 are not retried', async (t) => {
  const server = await startFileServer(t);
  server.script('/teapot', [status(418)]);
  const session = createSession({ settings: testSettings() });
  t.after(() => session.close());
  assert.equal((await session.fetch(`${server.url}/missing`)).status, 404);
  assert.equal((await session.fetch(`${server.url}/teapot`)).status, 418);
  assert.equal(server.requests.length, 2);
});

test('user:pass in the URL becomes Basic auth and is kept on a same-host redirect', async (t) => {
  const server = await startFileServer(t);
  server.setFile('/b', 'b');
  server.script('/a', [redirect('/b')]);
  const session = createSession({ settings: testSettings() });
  t.after(() => session.close());
  const res = await session.fetch(`http://us%40er:p%3Ass@127.0.0.1:${server.port}/a`);
  assert.equal(await res.text(), 'b');
  const expected = `Basic ${Buffer.from('us@er:p:ss').toString('base64')}`;
  assert.equal(server.requestsFor('/a')[0]!.headers.authorization, expected);
  assert.equal(server.requestsFor('/b')[0]!.headers.authorization, expected);
  assert.equal(getResponseInfo(res)?.redirected, true);
});

test('Authorization and Cookie are dropped on a redirect to another host', async (t) => {
  const a = await startFileServer(t);
  const b = await startFileServer(t);
  b.setFile('/z', 'z');
  a.script('/a', [redirect(`http://localhost:${b.port}/z`, 307)]);
  const session = createSession({ settings: testSettings() });
  t.after(() => session.close());
  const res = await session.fetch(`${a.url}/a`, { headers: { authorization: 'Bearer secret', cookie: 'sid=1' } });
  assert.equal(await res.text(), 'z');
  assert.equal(b.requests[0]!.headers.authorization, undefined);
  assert.equal(b.requests[0]!.headers.cookie, undefined);
});

test('redirect loops and too many hops are refused with CG_REDIRECT', async (t) => {
  const server = await startFileServer(t);
  server.route('/loop', (_req, res) => { res.writeHead(302, { location: '/loop' }); res.end(); });
  let n = 0;
  server.route('/hop', (_req, res) => { res.writeHead(302, { location: `/hop?${++n}` }); res.end(); });
  const session = createSession({ settings: testSettings() });
  t.after(() => session.close());
  await assert.rejects(session.fetch(`${server.url}/loop`), (e: unknown) => isGatewayError(e) && e.code === 'CG_REDIRECT');
  await assert.rejects(session.fetch(`${server.url}/hop`), (e: unknown) => isGatewayError(e) && e.code === 'CG_REDIRECT' && /30 redirects/.test(e.message));
});

test('connection refused is retried, then a CondaHTTPError 000 with the attempt count', async (t) => {
  const events: RetryEvent[] = [];
  const session = createSession({ settings: testSettings({ remoteMaxRetries: 2 }), onRetry: (e) => events.push(e) });
  t.after(() => session.close());
  await assert.rejects(session.fetch('http://127.0.0.1:9/x'), (e: unknown) => {
    assert.ok(isGatewayError(e));
    assert.equal(e.code, 'CG_CONNECTION');
    assert.equal(e.attempts, 3);
    return true;
  });
  assert.deepEqual(events.map((e) => e.reason), ['ECONNREFUSED', 'ECONNREFUSED']);
});

test('a server that never answers hits the read timeout', async (t) => {
  const server = await startFileServer(t);
  server.route('/silent', () => undefined);
  const session = createSession({ settings: testSettings({ remoteReadTimeoutSecs: 0.2, remoteMaxRetries: 0 }) });
  t.after(() => session.close());
  await assert.rejects(session.fetch(`${server.url}/silent`), (e: unknown) => isGatewayError(e) && e.code === 'CG_TIMEOUT');
});

test('gzip bodies are decoded unless identity was asked for', async (t) => {
  const { gzipSync } = await import('node:zlib');
  const server = await startFileServer(t);
  server.route('/gz', (_req, res) => { res.writeHead(200, { 'content-encoding': 'gzip' }); res.end(gzipSync('{"a":1}')); });
  const session = createSession({ settings: testSettings() });
  t.after(() => session.close());
  assert.equal(await (await session.fetch(`${server.url}/gz`)).text(), '{"a":1}');
  const raw = Buffer.from(await (await session.fetch(`${server.url}/gz`, { headers: { 'accept-encoding': 'identity' } })).arrayBuffer());
  assert.equal(raw[0], 0x1f);
});

test('getSession returns one session per settings object; HEAD has no body', async (t) => {
  const server = await startFileServer(t);
  server.setFile('/h', 'body');
  const settings = testSettings();
  const s1 = getSession(`${server.url}/h`, { settings });
  const s2 = getSession(`${server.url}/other`, { settings });
  assert.equal(s1, s2);
  t.after(() => closeSessions(settings));
  const res = await s1.fetch(`${server.url}/h`, { method: 'HEAD' });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-length'), '4');
  assert.equal(res.body, null);
});

test('malformed URLs and unknown schemes are clear errors', async () => {
  const session = createSession({ settings: testSettings() });
  await assert.rejects(session.fetch('::nope'), (e: unknown) => isGatewayError(e) && e.code === 'CG_INVALID_ARGUMENT');
  await assert.rejects(session.fetch('gopher://h/x'), (e: unknown) => isGatewayError(e) && e.code === 'CG_UNSUPPORTED_SCHEME');
  await session.close();
});
