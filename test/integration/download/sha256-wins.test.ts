/**
 * Issue 15 item 3. conda's download_partial_file: "if sha256 is given it is used (md5 is then
 * ignored)". So with both, a malformed or wrong md5 never fails a download whose sha256
 * matches; we log a warning (shown with -v) instead.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { download, isGatewayError } from '../../../src/index.js';
import { startFileServer } from '../../helpers/servers/http.js';
import { bytes, listDir, md5, sha256, tempDir } from '../../helpers/fs.js';
import { noSleep, testSettings } from '../../helpers/settings.js';
import { runCli } from '../../helpers/cli.js';

const BODY = bytes(50_000, 77);

async function setup(t: import('node:test').TestContext) {
  const server = await startFileServer(t);
  server.setFile('/c/noarch/p-1-0.conda', BODY);
  return { url: `${server.url}/c/noarch/p-1-0.conda`, dir: await tempDir(t) };
}

test("conda: sha256 wins — a malformed md5 next to a matching sha256 is ignored with a warning, not a CondaValueError", async (t) => {
  const { url, dir } = await setup(t);
  const logs: string[] = [];
  const result = await download(url, join(dir, 'p-1-0.conda'), { sha256: sha256(BODY), md5: 'md5', settings: testSettings(), log: (m) => logs.push(m) });
  assert.equal(result.sha256, sha256(BODY));
  assert.ok(logs.some((l) => /ignoring the malformed md5 'md5'/.test(l)), logs.join('\n'));
  assert.deepEqual(await readFile(join(dir, 'p-1-0.conda')), BODY);
});

test('conda: sha256 wins — a wrong md5 next to a matching sha256 keeps the file and warns', async (t) => {
  const { url, dir } = await setup(t);
  const logs: string[] = [];
  const wrong = '0'.repeat(32);
  const result = await download(url, join(dir, 'p-1-0.conda'), { sha256: sha256(BODY), md5: wrong, settings: testSettings(), log: (m) => logs.push(m) });
  assert.equal(result.md5, md5(BODY), 'the result reports the real md5');
  assert.ok(logs.some((l) => l.includes(`is ${md5(BODY)}, not the expected ${wrong}`)), logs.join('\n'));
  assert.deepEqual(await listDir(dir), ['p-1-0.conda']);
  // The existing file is reused on the next call too: the md5 does not invalidate it.
  const again = await download(url, join(dir, 'p-1-0.conda'), { sha256: sha256(BODY), md5: wrong, settings: testSettings() });
  assert.equal(again.reused, true);
});

test('a wrong sha256 still fails even when the md5 matches; an md5 alone is still checked', async (t) => {
  const { url, dir } = await setup(t);
  await assert.rejects(download(url, join(dir, 'a.conda'), { sha256: 'f'.repeat(64), md5: md5(BODY), settings: testSettings(), sleep: noSleep }),
    (e: unknown) => isGatewayError(e) && e.code === 'CG_CHECKSUM_MISMATCH' && /expected sha256/.test(e.message));
  await assert.rejects(download(url, join(dir, 'b.conda'), { md5: '0'.repeat(32), settings: testSettings(), sleep: noSleep }),
    (e: unknown) => isGatewayError(e) && e.code === 'CG_CHECKSUM_MISMATCH' && /expected md5/.test(e.message));
  await assert.rejects(download(url, join(dir, 'c.conda'), { md5: 'md5', settings: testSettings() }),
    (e: unknown) => isGatewayError(e) && e.name === 'CondaValueError', 'a malformed md5 with no sha256 is conda\'s CondaValueError');
});

test('the CLI shows the md5 warning with -v and succeeds', async (t) => {
  const { url, dir } = await setup(t);
  const r = await runCli(['-v', 'download', url, '-o', join(dir, 'p.conda'), '--sha256', sha256(BODY), '--md5', '1'.repeat(32)]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /warning: md5 of .* not the expected 1{32}/);
  const quiet = await runCli(['download', url, '-o', join(dir, 'q.conda'), '--sha256', sha256(BODY), '--md5', 'md5']);
  assert.equal(quiet.code, 0, quiet.stderr);
});
