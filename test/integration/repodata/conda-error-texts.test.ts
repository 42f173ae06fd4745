/**
 * Issue 15 items 1 and 4: conda's help texts for 401/403 on token URLs (chosen from the real
 * URL, printed masked) in download and repodata, and conda_http_errors' repodata wording
 * (`<subdir>/repodata.json` named for a failed `.json.zst`, the repo.anaconda.com paragraph).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { CondaHTTPError, download, fetchRepodata } from '../../../src/index.js';
import { repodataHelpText } from '../../../src/repodata/transfer.js';
import { startFileServer } from '../../helpers/servers/http.js';
import { status } from '../../helpers/faults.js';
import { tempDir } from '../../helpers/fs.js';
import { noSleep, testSettings } from '../../helpers/settings.js';
import { runCli } from '../../helpers/cli.js';

const TOKEN = 'tk-s3cr3t-42';
const TEXTS = {
  401: /\n\nThe token given for the URL is invalid\.\n\nYou will need to adjust your conda configuration to proceed\./,
  403: /\n\nThe token given for the URL has insufficient permissions to access this resource\./,
} as const;

function isTokenText(code: 401 | 403) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof CondaHTTPError, String(e));
    assert.equal(e.status, code);
    assert.match(e.message, TEXTS[code]);
    assert.match(e.message, /\/t\/<TOKEN>\//, 'the URL is printed masked');
    assert.ok(!e.message.includes(TOKEN), 'the token itself is never printed');
    return true;
  };
}

async function serverAnswering(t: TestContext, code: number) {
  const server = await startFileServer(t);
  for (const path of [`/t/${TOKEN}/c/noarch/p-1-0.conda`, `/t/${TOKEN}/c/linux-64/repodata.json`, `/t/${TOKEN}/c/linux-64/repodata.json.zst`]) {
    server.script(path, Array.from({ length: 5 }, () => status(code)));
  }
  return server;
}

for (const code of [401, 403] as const) {
  test(`conda's ${code} text for a /t/<token>/ URL in download(), printed with /t/<TOKEN>/`, async (t) => {
    const server = await serverAnswering(t, code);
    const dir = await tempDir(t);
    await assert.rejects(download(`${server.url}/t/${TOKEN}/c/noarch/p-1-0.conda`, join(dir, 'p-1-0.conda'),
      { settings: testSettings(), sleep: noSleep }), isTokenText(code));
  });

  test(`conda's ${code} text for a /t/<token>/ URL in repodata (conda_http_errors uses Channel(url).token)`, async (t) => {
    const server = await serverAnswering(t, code);
    const cacheDir = await tempDir(t);
    await assert.rejects(fetchRepodata(`${server.url}/t/${TOKEN}/c`, 'linux-64', { cacheDir, settings: testSettings(), sleep: noSleep }),
      (e: unknown) => isTokenText(code)(e) && /\/linux-64\/repodata\.json>/.test((e as Error).message));
  });
}

test('the CLI prints the token text with the URL masked', async (t) => {
  const server = await serverAnswering(t, 401);
  const dir = await tempDir(t);
  const r = await runCli(['download', `${server.url}/t/${TOKEN}/c/noarch/p-1-0.conda`, '-o', join(dir, 'p.conda')]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /The token given for the URL is invalid/);
  assert.match(r.stderr, /\/t\/<TOKEN>\/c\/noarch\/p-1-0\.conda/);
  assert.ok(!r.stderr.includes(TOKEN) && !r.stdout.includes(TOKEN));
});

test("conda_http_errors names <subdir>/repodata.json when the failed request was repodata.json.zst", async (t) => {
  const server = await startFileServer(t);
  server.script('/c/linux-64/repodata.json.zst', [status(416)]);
  const cacheDir = await tempDir(t);
  await assert.rejects(fetchRepodata(`${server.url}/c`, 'linux-64', { cacheDir, settings: testSettings({ remoteMaxRetries: 0 }), sleep: noSleep }),
    (e: unknown) => {
      assert.ok(e instanceof CondaHTTPError);
      assert.equal(server.requests.at(-1)?.path, '/c/linux-64/repodata.json.zst', 'only the .zst was asked for');
      assert.match(e.message, new RegExp(`^HTTP 416 .* for url <${server.url}/c/linux-64/repodata\\.json>\\n`));
      // conda's "other status" text ends with repr(url) of the subdir URL.
      assert.match(e.message, new RegExp(`simple retry will get you on your way\\.\\n'${server.url}/c/linux-64'\\n$`));
      return true;
    });
});

test("conda_http_errors adds the repo.anaconda.com firewall paragraph for non-5xx errors on that host only", () => {
  const anaconda = repodataHelpText(418, 'https://repo.anaconda.com/pkgs/main/linux-64')!;
  assert.equal(anaconda, 'An HTTP error occurred when trying to retrieve this URL.\n' +
    'HTTP errors are often intermittent, and a simple retry will get you on your way.\n\n' +
    'If your current network has https://repo.anaconda.com blocked, please file\n' +
    'a support request with your network engineering team.\n\n' +
    "'https://repo.anaconda.com/pkgs/main/linux-64'\n");
  assert.doesNotMatch(repodataHelpText(404, 'https://mirror.example.com/pkgs/main/linux-64')!, /blocked/);
  assert.match(repodataHelpText(503, 'https://repo.anaconda.com/pkgs/main/linux-64')!, /^A remote server error occurred/);
  assert.equal(repodataHelpText(401, 'https://repo.anaconda.com/pkgs/main/linux-64'), undefined, '401/403 keep the download texts');
  assert.doesNotMatch(repodataHelpText(400, 'https://u:s3cr3t@h.example/t/tk-s3cr3t/c/linux-64')!, /s3cr3t/);
});
