/**
 * Issue 16 item 2: a hostile http server redirecting to another scheme. Before the fix an
 * http redirect to file:///home/u/.netrc copied that file into the pkgs dir, to ftp:// sent
 * the .netrc password in clear and to s3:// signed a GetObject with the user's AWS keys.
 * Only http(s) → http(s) redirects are followed; everything else is CG_REDIRECT naming the
 * masked target, nothing is written and no connection is made to the other scheme.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { download, fetchPackages, isGatewayError, loadSettings } from '../../src/index.js';
import { createSession } from '../../src/session/index.js';
import { parseSpecText } from '../../src/packages/index.js';
import { startFileServer, type FileServer } from '../helpers/servers/http.js';
import { startFtpServer } from '../helpers/servers/ftp.js';
import { startS3Server } from '../helpers/servers/s3.js';
import { listDir, sha256, tempDir } from '../helpers/fs.js';
import { noSleep, testSettings } from '../helpers/settings.js';

const SECRET = 'machine example.com login u password s3cr3t-netrc\n';

async function secretFile(t: TestContext): Promise<string> {
  const dir = await tempDir(t, 'cg-home-');
  const path = join(dir, '.netrc');
  await writeFile(path, SECRET, { mode: 0o600 });
  return path;
}

async function hostileServer(t: TestContext, location: string): Promise<FileServer> {
  const server = await startFileServer(t);
  server.route('/pkg/evil-1-0.conda', (_req, res) => {
    res.writeHead(302, { location });
    res.end();
  });
  return server;
}

function refusedRedirect(target: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(isGatewayError(e), String(e));
    assert.equal(e.code, 'CG_REDIRECT', e.message);
    assert.match(e.message, /only redirects to http\(s\)/);
    assert.match(e.message, target, 'the error names the refused target');
    assert.doesNotMatch(e.message, /s3cr3t/, 'the target is masked');
    return true;
  };
}

/** Every file under dir, recursively (the pkgs dir must hold nothing but bookkeeping). */
async function allFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(join(entry.parentPath, entry.name));
  }
  return out;
}

test('an http redirect to file:// of a secret file is refused by download(): nothing is copied', async (t) => {
  const secret = await secretFile(t);
  const server = await hostileServer(t, pathToFileURL(secret).href);
  const dir = await tempDir(t);
  await assert.rejects(download(`${server.url}/pkg/evil-1-0.conda`, join(dir, 'evil-1-0.conda'), { settings: testSettings(), sleep: noSleep }),
    refusedRedirect(/file:\/\/.*\.netrc/));
  assert.deepEqual(await listDir(dir), [], 'nothing written into the target dir');
});

test('an http redirect to file:// in a fetched explicit file leaves the pkgs dir without the secret', async (t) => {
  const secret = await secretFile(t);
  const server = await hostileServer(t, pathToFileURL(secret).href);
  const pkgsDir = join(await tempDir(t), 'pkgs');
  const parsed = await parseSpecText(`@EXPLICIT\n${server.url}/pkg/evil-1-0.conda#sha256:${sha256(SECRET)}\n`, 'env.txt', { platforms: ['noarch'] });
  const summary = await fetchPackages(parsed.packages, { pkgsDir, settings: testSettings(), sleep: noSleep });
  assert.equal(summary.failed, 1);
  assert.equal(summary.failures[0]?.error.code, 'CG_REDIRECT', JSON.stringify(summary.failures));
  for (const file of await allFiles(pkgsDir).catch(() => [])) {
    const { readFile } = await import('node:fs/promises');
    assert.doesNotMatch(await readFile(file, 'utf8'), /s3cr3t-netrc/, `${file} holds no copy of the secret`);
    assert.doesNotMatch(file, /evil-1-0\.conda$/, 'no package file was written');
  }
});

test('an http redirect to ftp:// is refused before any FTP connection (no .netrc password in clear)', async (t) => {
  const ftp = await startFtpServer(t, { users: { alice: 's3cr3t-ftp' } });
  await ftp.setFile('/pkg/evil-1-0.conda', 'x');
  const netrc = join(await tempDir(t, 'cg-home-'), 'netrc');
  await writeFile(netrc, `machine 127.0.0.1 login alice password s3cr3t-ftp\n`, { mode: 0o600 });
  const server = await hostileServer(t, `${ftp.url}/pkg/evil-1-0.conda`);
  const dir = await tempDir(t);
  await assert.rejects(download(`${server.url}/pkg/evil-1-0.conda`, join(dir, 'evil-1-0.conda'),
    { settings: testSettings({}, { NETRC: netrc }), sleep: noSleep }), refusedRedirect(/ftp:\/\/127\.0\.0\.1/));
  assert.equal(ftp.connections, 0, 'the FTP server was never contacted');
  assert.deepEqual(ftp.logins, []);
  assert.deepEqual(await listDir(dir), []);
});

test('an http redirect to s3:// is refused before any signed request (no GetObject with the user\'s keys)', async (t) => {
  let s3;
  try {
    s3 = await startS3Server(t);
  } catch (e) {
    t.skip(`no moto S3 server here: ${(e as Error).message}`);
    return;
  }
  await s3.putObject('private/evil-1-0.conda', 'x');
  const server = await hostileServer(t, `s3://${s3.bucket}/private/evil-1-0.conda`);
  const dir = await tempDir(t);
  const settings = loadSettings({ env: s3.env(), overrides: { remoteBackoffFactor: 0 } });
  await assert.rejects(download(`${server.url}/pkg/evil-1-0.conda`, join(dir, 'evil-1-0.conda'), { settings, sleep: noSleep }),
    refusedRedirect(/s3:\/\/conda-channel\/private/));
  assert.equal(s3.connections, 0, 'the S3 endpoint was never contacted');
  assert.deepEqual(await listDir(dir), []);
});

test('redirects to data:, gopher: and a relative file path on a file: base are all refused by the session', async (t) => {
  const session = createSession({ settings: testSettings(), sleep: noSleep });
  t.after(() => session.close());
  for (const [location, name] of [['data:text/plain,s3cr3t', /to data:…:/], ['gopher://127.0.0.1/x', /gopher:/],
    ['FILE:///etc/passwd', /file:\/\/\/etc\/passwd/], ['ftp://user:s3cr3t@127.0.0.1:1/x', /ftp:\/\/.*127\.0\.0\.1/]] as const) {
    const server = await hostileServer(t, location);
    await assert.rejects(session.fetch(`${server.url}/pkg/evil-1-0.conda`), refusedRedirect(name));
  }
  // http → https and https-less hops between http servers still work.
  const good = await startFileServer(t);
  good.setFile('/ok', Buffer.from('ok'));
  const hop = await hostileServer(t, `${good.url}/ok`);
  const res = await session.fetch(`${hop.url}/pkg/evil-1-0.conda`);
  assert.equal(await res.text(), 'ok');
});
