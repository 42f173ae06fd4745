import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { download, isGatewayError, loadSettings } from '../../../src/index.js';
import { createSession } from '../../../src/session/index.js';
import { startFileServer, type FileServer } from '../../helpers/servers/http.js';
import { bytes, listDir, sha256, tempDir } from '../../helpers/fs.js';

const BASIC = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

async function protectedServer(t: import('node:test').TestContext, user: string, pass: string): Promise<{ server: FileServer; body: Buffer }> {
  const server = await startFileServer(t);
  const body = bytes(50_000, 3);
  server.route('/private/pkg.conda', (req: IncomingMessage, res: ServerResponse) => {
    if (req.headers.authorization !== BASIC(user, pass)) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="conda"' });
      res.end('unauthorized');
      return;
    }
    res.writeHead(200, { 'content-length': String(body.length) });
    res.end(body);
  });
  return { server, body };
}

function settingsFor(home: string, env: Record<string, string> = {}) {
  return loadSettings({ env: { HOME: home, ...env }, overrides: { remoteBackoffFactor: 0, remoteMaxRetries: 0 } });
}

test('a session sends ~/.netrc credentials for the matching host by default', async (t) => {
  const { server, body } = await protectedServer(t, 'alice', 'n3trc-s3cret');
  const home = await tempDir(t);
  await writeFile(join(home, '.netrc'), 'machine 127.0.0.1 login alice password n3trc-s3cret\n', { mode: 0o600 });
  const logs: string[] = [];
  const session = createSession({ settings: settingsFor(home), log: (m) => logs.push(m) });
  t.after(() => session.close());
  const res = await session.fetch(`${server.url}/private/pkg.conda`);
  assert.equal(res.status, 200);
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), body);
  assert.ok(logs.some((l) => l.includes('127.0.0.1') && l.includes(join(home, '.netrc'))), 'the source is named in the log');
  assert.ok(!logs.join('\n').includes('n3trc-s3cret'), 'the password is never logged');
});

test('NETRC points at another file, and ~/.netrc is then not read', async (t) => {
  const { server } = await protectedServer(t, 'bob', 'fr0m-env');
  const home = await tempDir(t);
  await writeFile(join(home, '.netrc'), 'machine 127.0.0.1 login bob password wrong\n');
  const other = join(home, 'custom-netrc');
  await writeFile(other, 'default login bob password fr0m-env\n');
  const session = createSession({ settings: settingsFor(home, { NETRC: other }) });
  t.after(() => session.close());
  const res = await session.fetch(`${server.url}/private/pkg.conda`);
  assert.equal(res.status, 200);
  await res.arrayBuffer();
});

test('credentials in the URL win over .netrc', async (t) => {
  const { server } = await protectedServer(t, 'carol', 'url-pass');
  const home = await tempDir(t);
  await writeFile(join(home, '.netrc'), 'default login carol password netrc-pass\n');
  const session = createSession({ settings: settingsFor(home) });
  t.after(() => session.close());
  const res = await session.fetch(`http://carol:url-pass@${server.url.slice('http://'.length)}/private/pkg.conda`);
  assert.equal(res.status, 200);
  await res.arrayBuffer();
});

test('download() uses .netrc, and a wrong password is a 401 that names no secret and leaves no file', async (t) => {
  const { server, body } = await protectedServer(t, 'dave', 'right-pass');
  const home = await tempDir(t);
  const dir = await tempDir(t);
  await writeFile(join(home, '.netrc'), 'machine 127.0.0.1 login dave password right-pass\n');
  const ok = await download(`${server.url}/private/pkg.conda`, join(dir, 'pkg.conda'), { sha256: sha256(body), settings: settingsFor(home) });
  assert.equal(ok.bytes, body.length);

  const home2 = await tempDir(t);
  await writeFile(join(home2, '.netrc'), 'machine 127.0.0.1 login dave password wrong-pass-xyz\n');
  const dir2 = await tempDir(t);
  await assert.rejects(download(`${server.url}/private/pkg.conda`, join(dir2, 'pkg.conda'), { settings: settingsFor(home2) }),
    (e: unknown) => isGatewayError(e) && e.code === 'CG_HTTP_STATUS' && !JSON.stringify(e).includes('wrong-pass-xyz') &&
      !String(e.stack).includes('wrong-pass-xyz'));
  assert.deepEqual(await listDir(dir2), []);
});

test('a malformed .netrc fails the request with a credentials error naming the file and line', async (t) => {
  const { server } = await protectedServer(t, 'erin', 'pw');
  const home = await tempDir(t);
  await writeFile(join(home, '.netrc'), 'machine 127.0.0.1\n  login erin\n  pasword pw\n');
  const session = createSession({ settings: settingsFor(home) });
  t.after(() => session.close());
  await assert.rejects(session.fetch(`${server.url}/private/pkg.conda`), (e: unknown) =>
    isGatewayError(e) && e.code === 'CG_CREDENTIALS_INVALID' && e.message.includes(`${join(home, '.netrc')} line 3`));
  assert.equal(server.requests.length, 0);
});
