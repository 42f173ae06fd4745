import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { binstarTokenDirs, createAnacondaTokenSource, replaceFirstApiWithConda } from '../../../src/auth/anaconda-tokens.js';
import { tempDir } from '../../helpers/fs.js';

test('token files live in BINSTAR_CONFIG_DIR/data, else the per-user binstar directory', () => {
  assert.deepEqual(binstarTokenDirs({ BINSTAR_CONFIG_DIR: '/b' }, '/home/u', 'linux'), [join('/b', 'data')]);
  assert.deepEqual(binstarTokenDirs({}, '/home/u', 'linux'), [join('/home/u', '.config', 'binstar'), join('/home/u', '.local', 'share', 'binstar')]);
  assert.deepEqual(binstarTokenDirs({}, '/Users/u', 'darwin'), [join('/Users/u', 'Library', 'Application Support', 'binstar')]);
});

test('the first api in a URL becomes conda, as conda registers tokens twice', () => {
  assert.equal(replaceFirstApiWithConda('https://api.anaconda.org'), 'https://conda.anaconda.org');
  assert.equal(replaceFirstApiWithConda('https://corp.example/api/repo'), 'https://corp.example/conda/repo');
});

test('a token file for api.anaconda.org gives a conda token for conda.anaconda.org URLs', async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'data'));
  await writeFile(join(dir, 'data', `${encodeURIComponent('https://api.anaconda.org')}.token`), 'tk-abc-123\n');
  const source = createAnacondaTokenSource({ BINSTAR_CONFIG_DIR: dir }, '/nowhere');
  const creds = await source.lookup(new URL('https://conda.anaconda.org/private/linux-64/repodata.json'));
  assert.equal(creds?.kind, 'conda-token');
  assert.equal(creds?.kind === 'conda-token' && creds.token, 'tk-abc-123');
  assert.equal(await source.lookup(new URL('https://other.example/private/linux-64/repodata.json')), undefined);
  assert.equal(await source.lookup(new URL('https://conda.anaconda.org/t/tk-own/private/repodata.json')), undefined, 'a URL token wins');
});

test('a malformed token file name is skipped with a log line and never breaks lookups', async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'data'));
  for (const bad of ['https%3A', 'http%3A', 'https%3A%2F%2F', 'https%3A%2F%2Fh%3A99999', 'https%3Aapi.anaconda.org', '%', 'ftp%3A%2F%2Fh']) {
    await writeFile(join(dir, 'data', `${bad}.token`), 'tk-bad-s3cr3t\n');
  }
  await writeFile(join(dir, 'data', `${encodeURIComponent('https://api.anaconda.org')}.token`), 'tk-good\n');
  const lines: string[] = [];
  const source = createAnacondaTokenSource({ BINSTAR_CONFIG_DIR: dir }, '/nowhere', (line) => lines.push(line));
  const creds = await source.lookup(new URL('https://conda.anaconda.org/private/noarch/repodata.json'));
  assert.equal(creds?.kind === 'conda-token' && creds.token, 'tk-good');
  assert.equal(await source.lookup(new URL('https://other.example/c/noarch/repodata.json')), undefined);
  assert.equal(await source.lookup(new URL('http://127.0.0.1:1/c/noarch/repodata.json')), undefined);
  assert.equal(lines.length, 7, lines.join('\n'));
  for (const line of lines) {
    assert.match(line, /^anaconda token file for .* skipped: /);
    assert.doesNotMatch(line, /s3cr3t/);
  }
});

test('token file URLs are compared as WHATWG writes request URLs (scheme and host case, default port)', async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'data'));
  await writeFile(join(dir, 'data', `${encodeURIComponent('HTTPS://Corp.Example:443/api/repo/')}.token`), 'tk-corp\n');
  const source = createAnacondaTokenSource({ BINSTAR_CONFIG_DIR: dir }, '/nowhere');
  const direct = await source.lookup(new URL('https://corp.example/api/repo/linux-64/repodata.json'));
  assert.deepEqual(direct?.kind === 'conda-token' && [direct.token, direct.pathPrefix], ['tk-corp', '/api/repo']);
  const conda = await source.lookup(new URL('https://corp.example/conda/repo/linux-64/repodata.json'));
  assert.deepEqual(conda?.kind === 'conda-token' && [conda.token, conda.pathPrefix], ['tk-corp', '/conda/repo']);
});

test('a session with a malformed token file still fetches, and says in its debug log which file it skipped', async (t) => {
  const { createSession } = await import('../../../src/session/create-session.js');
  const { testSettings } = await import('../../helpers/settings.js');
  const { startFileServer } = await import('../../helpers/servers/http.js');
  const server = await startFileServer(t);
  server.setFile('/c/noarch/repodata.json', '{}');
  const dir = await tempDir(t);
  await mkdir(join(dir, 'data'));
  await writeFile(join(dir, 'data', 'http%3A.token'), 'tk-bad\n');
  const lines: string[] = [];
  const session = createSession({ settings: testSettings({}, { BINSTAR_CONFIG_DIR: dir }), log: (line) => lines.push(line) });
  try {
    const res = await session.fetch(`${server.url}/c/noarch/repodata.json`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), '{}');
  } finally {
    await session.close();
  }
  assert.ok(lines.some((line) => /anaconda token file for http: in .* skipped/.test(line)), lines.join('\n'));
  assert.equal(server.requests[0]?.path, '/c/noarch/repodata.json', 'no token was put in the path');
});
