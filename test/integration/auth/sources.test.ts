import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { closeSessions, getSession, isGatewayError, loadSettings } from '../../../src/index.js';
import { createSession } from '../../../src/session/index.js';
import { PluginRegistry } from '../../../src/plugins/index.js';
import { startFileServer } from '../../helpers/servers/http.js';
import { tempDir } from '../../helpers/fs.js';
import { Headers as UndiciHeaders } from 'undici';

async function serverWithFile(t: import('node:test').TestContext) {
  const server = await startFileServer(t);
  server.setFile('/chan/noarch/repodata.json', '{}');
  server.setFile('/t/tk-file-123/chan/noarch/repodata.json', '{"token":true}');
  return server;
}

function settingsFor(home: string, env: Record<string, string> = {}, extra: Record<string, unknown> = {}) {
  return loadSettings({ env: { HOME: home, ...env }, overrides: { remoteMaxRetries: 0, ...extra } });
}

test('a bearer token from the credential store is sent as Authorization: Bearer', async (t) => {
  const server = await serverWithFile(t);
  const home = await tempDir(t);
  await mkdir(join(home, '.rattler'));
  await writeFile(join(home, '.rattler', 'credentials.json'), JSON.stringify({ '127.0.0.1': { BearerToken: 'bearer-s3cret' } }));
  const logs: string[] = [];
  const session = createSession({ settings: settingsFor(home), log: (m) => logs.push(m) });
  t.after(() => session.close());
  const res = await session.fetch(`${server.url}/chan/noarch/repodata.json`);
  assert.equal(res.status, 200);
  await res.text();
  assert.equal(server.requests[0]?.headers.authorization, 'Bearer bearer-s3cret');
  assert.ok(logs.some((l) => l.includes('(bearer) from') && l.includes('credentials.json')));
  assert.ok(!logs.join('\n').includes('bearer-s3cret'));
});

test('RATTLER_AUTH_FILE with basic credentials, and a conda token that goes into the path', async (t) => {
  const server = await serverWithFile(t);
  const home = await tempDir(t);
  const file = join(home, 'auth.json');
  await writeFile(file, JSON.stringify({ '127.0.0.1': { CondaToken: 'tk-file-123' } }));
  const session = createSession({ settings: settingsFor(home, { RATTLER_AUTH_FILE: file }) });
  t.after(() => session.close());
  const res = await session.fetch(`${server.url}/chan/noarch/repodata.json`);
  assert.equal(await res.text(), '{"token":true}');
  assert.equal(server.requests[0]?.path, '/t/tk-file-123/chan/noarch/repodata.json');

  await writeFile(file, JSON.stringify({ '*.0.0.1': { BasicHTTP: { username: 'u', password: 'p' } } }));
  const s2 = createSession({ settings: settingsFor(home, { RATTLER_AUTH_FILE: file }) });
  t.after(() => s2.close());
  await (await s2.fetch(`${server.url}/chan/noarch/repodata.json`)).text();
  assert.equal(server.requests[1]?.headers.authorization, `Basic ${Buffer.from('u:p').toString('base64')}`);
});

test('a credentials file that is not JSON fails the request before anything is sent', async (t) => {
  const server = await serverWithFile(t);
  const home = await tempDir(t);
  const file = join(home, 'auth.json');
  await writeFile(file, '{ "127.0.0.1": ');
  const session = createSession({ settings: settingsFor(home, { RATTLER_AUTH_FILE: file }) });
  t.after(() => session.close());
  await assert.rejects(session.fetch(`${server.url}/chan/noarch/repodata.json`), (e: unknown) =>
    isGatewayError(e) && e.code === 'CG_CREDENTIALS_INVALID' && e.message.includes(file));
  assert.equal(server.requests.length, 0);
});

test('an anaconda-client token file adds /t/<token>/ for its URL, unless add_anaconda_token is off', async (t) => {
  const server = await serverWithFile(t);
  const home = await tempDir(t);
  const binstar = join(home, 'binstar');
  await mkdir(join(binstar, 'data'), { recursive: true });
  await writeFile(join(binstar, 'data', `${encodeURIComponent(server.url)}.token`), 'tk-file-123');
  const env = { BINSTAR_CONFIG_DIR: binstar };
  const s1 = createSession({ settings: settingsFor(home, env) });
  t.after(() => s1.close());
  assert.equal(await (await s1.fetch(`${server.url}/chan/noarch/repodata.json`)).text(), '{"token":true}');
  const s2 = createSession({ settings: settingsFor(home, env, { addAnacondaToken: false }) });
  t.after(() => s2.close());
  assert.equal(await (await s2.fetch(`${server.url}/chan/noarch/repodata.json`)).text(), '{}');
});

test('getSession picks the auth handler named by channel_settings, one session per handler and channel', async (t) => {
  const server = await serverWithFile(t);
  server.setFile('/other/noarch/repodata.json', '{}');
  const home = await tempDir(t);
  await writeFile(join(home, '.netrc'), 'default login n password netrc-pass\n');
  const created: string[] = [];
  const plugins = new PluginRegistry([{
    name: 'corp-auth',
    authHandlers: [{
      name: 'corp-token',
      create(channelName) {
        created.push(channelName);
        return {
          authenticate(req) {
            const headers = new UndiciHeaders(req.headers);
            headers.set('authorization', `Bearer handler-for-${channelName.split('/').pop()}`);
            return { ...req, headers };
          },
        };
      },
    }],
  }]);
  const settings = settingsFor(home, {}, { channelSettings: [{ channel: `${server.url}/chan`, auth: 'Corp-Token' }] });
  t.after(() => closeSessions(settings));
  const url = `${server.url}/chan/noarch/repodata.json`;
  const session = getSession(url, { settings, plugins });
  assert.equal(getSession(url, { settings, plugins }), session, 'sessions are reused');
  await (await session.fetch(url)).text();
  assert.equal(server.requests[0]?.headers.authorization, 'Bearer handler-for-chan', 'the handler replaces the default auth (.netrc)');
  assert.deepEqual(created, [`${server.url}/chan`]);

  const other = getSession(`${server.url}/other/noarch/repodata.json`, { settings, plugins });
  assert.notEqual(other, session);
  await (await other.fetch(`${server.url}/other/noarch/repodata.json`)).text();
  assert.equal(server.requests[1]?.headers.authorization, `Basic ${Buffer.from('n:netrc-pass').toString('base64')}`,
    'a channel without an entry keeps the default credential sources');
});

test('an auth handler name no plugin provides falls back to the default session and says so in the log', async (t) => {
  const server = await serverWithFile(t);
  const home = await tempDir(t);
  const settings = settingsFor(home, {}, { channelSettings: [{ channel: `${server.url}/*`, auth: 'missing' }] });
  t.after(() => closeSessions(settings));
  const logs: string[] = [];
  const session = getSession(`${server.url}/chan/noarch/repodata.json`, { settings, plugins: new PluginRegistry(), log: (m) => logs.push(m) });
  assert.equal((await session.fetch(`${server.url}/chan/noarch/repodata.json`)).status, 200);
  assert.ok(logs.some((l) => l.includes("'missing'")));
});

test('plugin session and request headers are sent over the defaults, under the caller\'s own', async (t) => {
  const server = await serverWithFile(t);
  const home = await tempDir(t);
  const plugins = new PluginRegistry([{
    name: 'hdr',
    sessionHeaders: () => [{ name: 'X-Session', value: 's' }, { name: 'User-Agent', value: 'plugin-agent' }],
    requestHeaders: (_h, path) => (path.endsWith('repodata.json') ? [{ name: 'X-Request', value: 'r' }, { name: 'X-Caller', value: 'plugin' }] : []),
  }]);
  const session = createSession({ settings: settingsFor(home), plugins });
  t.after(() => session.close());
  await (await session.fetch(`${server.url}/chan/noarch/repodata.json`, { headers: { 'x-caller': 'me' } })).text();
  const h = server.requests[0]?.headers ?? {};
  assert.equal(h['x-session'], 's');
  assert.equal(h['x-request'], 'r');
  assert.equal(h['user-agent'], 'plugin-agent');
  assert.equal(h['x-caller'], 'me');
});

test('a plugin setting a forbidden header fails the request with a PluginError and sends nothing', async (t) => {
  const server = await serverWithFile(t);
  const home = await tempDir(t);
  const plugins = new PluginRegistry([{ name: 'evil', sessionHeaders: () => [{ name: 'Proxy-Authorization', value: 'x' }] }]);
  const session = createSession({ settings: settingsFor(home), plugins });
  t.after(() => session.close());
  await assert.rejects(session.fetch(`${server.url}/chan/noarch/repodata.json`), (e: unknown) =>
    isGatewayError(e) && e.code === 'CG_PLUGIN_INVALID' && /evil/.test(e.message));
  assert.equal(server.requests.length, 0);
});
