/** `mirrors:` in the session: every request (repodata included) goes to the mirrors, failing over on errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { download, fetchRepodata } from '../../../src/index.js';
import { createSession } from '../../../src/session/index.js';
import { startFileServer } from '../../helpers/servers/http.js';
import { noSleep, testSettings } from '../../helpers/settings.js';
import { sha256, tempDir } from '../../helpers/fs.js';

const REPODATA = JSON.stringify({ info: { subdir: 'noarch' }, packages: { 'a-1-0.tar.bz2': { name: 'a', version: '1', build: '0' } } });

test('repodata of a mirrored channel comes from the mirrors: a 503 mirror fails over at once, the origin is never asked', async (t) => {
  const origin = await startFileServer(t);
  const broken = await startFileServer(t);
  const good = await startFileServer(t);
  broken.route('/chan/noarch/repodata.json', (_req, res) => res.writeHead(503).end('down'));
  broken.route('/chan/noarch/repodata.json.zst', (_req, res) => res.writeHead(503).end('down'));
  good.setFile('/chan/noarch/repodata.json', REPODATA);
  origin.setFile('/chan/noarch/repodata.json', '{"packages": {}}');
  const logs: string[] = [];
  const mirrors = { [`${origin.url}/chan`]: [`${broken.url}/chan`, `${good.url}/chan`] };
  const result = await fetchRepodata(`${origin.url}/chan`, 'noarch', {
    cacheDir: await tempDir(t), settings: testSettings({ mirrors, repodataUseShards: false }), sleep: noSleep, log: (m) => logs.push(m),
  });
  assert.deepEqual(Object.keys(result.repodata.packages ?? {}), ['a-1-0.tar.bz2']);
  assert.equal(origin.requests.length, 0);
  assert.ok(broken.requests.length >= 1);
  assert.ok(logs.some((l) => /mirror .* answered 503/.test(l)), logs.join('\n'));
});

test('a URL outside every mirror prefix is fetched as is; the original is a last resort only when listed', async (t) => {
  const origin = await startFileServer(t);
  const mirror = await startFileServer(t);
  origin.setFile('/other/x.txt', 'origin');
  origin.setFile('/chan/x.txt', 'origin copy');
  const mirrors = { [`${origin.url}/chan`]: [`${mirror.url}/chan`, `${origin.url}/chan`] };
  const session = createSession({ settings: testSettings({ mirrors }), sleep: noSleep });
  t.after(() => session.close());
  assert.equal(await (await session.fetch(`${origin.url}/other/x.txt`)).text(), 'origin');
  // The mirror has no copy (404): the listed original serves it.
  assert.equal(await (await session.fetch(`${origin.url}/chan/x.txt`)).text(), 'origin copy');
  assert.equal(mirror.requestsFor('/chan/x.txt').length, 1);
});

test("download()'s digest hint for oci:// (x-expected-sha256) never goes on the wire to an http server", async (t) => {
  const server = await startFileServer(t);
  server.setFile('/chan/noarch/p-1-0.conda', 'package bytes');
  const dir = await tempDir(t);
  await download(`${server.url}/chan/noarch/p-1-0.conda`, join(dir, 'p-1-0.conda'), { settings: testSettings(), sha256: sha256('package bytes') });
  const sent = server.requestsFor('/chan/noarch/p-1-0.conda');
  assert.equal(sent.length, 1);
  assert.equal(sent[0]!.headers['x-expected-sha256'], undefined);
});
