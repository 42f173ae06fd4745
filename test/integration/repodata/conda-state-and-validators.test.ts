/**
 * Issue 15 items 6 and 7: state files as conda writes them, and the conditional headers conda
 * sends per repo interface (ZstdRepoInterface: If-None-Match only, for .json.zst and its
 * .json fallback; CondaRepoInterface: If-None-Match and If-Modified-Since).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { fetchRepodata } from '../../../src/index.js';
import { cachePaths, parseState, serializeState } from '../../../src/repodata/index.js';
import { tempDir } from '../../helpers/fs.js';
import { testSettings } from '../../helpers/settings.js';
import { repodataOf } from '../../unit/repodata/fixtures.js';
import { startChannelServer } from './channel-server.js';

const LINUX = repodataOf('linux-64', [{ name: 'python', version: '3.12.7', subdir: 'linux-64' }]);

async function setup(t: import('node:test').TestContext) {
  const server = await startChannelServer(t);
  server.setRepodata('linux-64', LINUX);
  const cacheDir = await tempDir(t);
  const fetch = (overrides: Parameters<typeof testSettings>[0] = {}) =>
    fetchRepodata(server.url, 'linux-64', { cacheDir, settings: testSettings({ remoteMaxRetries: 0, localRepodataTtl: 0, ...overrides }) });
  const paths = cachePaths(cacheDir, `${server.url}/linux-64`);
  return { server, fetch, paths };
}

test("conda's ZstdRepoInterface sends If-None-Match only, on .json.zst and on its .json fallback", async (t) => {
  const { server, fetch } = await setup(t);
  await fetch();
  server.clear();
  assert.equal((await fetch()).cacheResult, 'revalidated');
  const zst = server.requests[0]!;
  assert.equal(zst.path, '/linux-64/repodata.json.zst');
  assert.ok(zst.headers['if-none-match']);
  assert.equal(zst.headers['if-modified-since'], undefined);

  server.mode('linux-64', { noZst: true });
  server.clear();
  await fetch();
  const json = server.requestsFor('/linux-64/repodata.json').at(-1)!;
  assert.ok(json.headers['if-none-match']);
  assert.equal(json.headers['if-modified-since'], undefined, 'the .json fallback of the zst interface: If-None-Match only');
});

test("conda's CondaRepoInterface (repodata_use_zst false) sends If-None-Match and If-Modified-Since", async (t) => {
  const { server, fetch } = await setup(t);
  await fetch({ repodataUseZst: false });
  server.clear();
  assert.equal((await fetch({ repodataUseZst: false })).cacheResult, 'revalidated');
  const [req] = server.requests;
  assert.equal(req?.path, '/linux-64/repodata.json');
  assert.ok(req?.headers['if-none-match']);
  assert.ok(req?.headers['if-modified-since']);
});

test('a state file with "mod": NaN (Python json) keeps its etag and stat: the cache is revalidated, not downloaded again', async (t) => {
  const { server, fetch, paths } = await setup(t);
  await fetch();
  const written = await readFile(paths.state, 'utf8');
  const { state } = parseState(written);
  await writeFile(paths.state, serializeState(state).replace(/"mod": "[^"]*"/, '"mod": NaN'));
  server.clear();
  const result = await fetch();
  assert.equal(result.cacheResult, 'revalidated', 'the rest of the state was kept, so the cached data is still trusted');
  assert.equal(server.requests[0]?.status, 304);
  assert.equal(server.requests[0]?.headers['if-none-match'], state.etag);
  assert.deepEqual(result.repodata, LINUX);
});

test('has_zst with an unparsable last_checked reads as not known: .json.zst is tried', async (t) => {
  const { server, fetch, paths } = await setup(t);
  await fetch();
  const { state } = parseState(await readFile(paths.state, 'utf8'));
  const text = serializeState({ ...state, has_zst: { value: false, last_checked: 'Tuesday 5' } });
  await writeFile(paths.state, text);
  server.clear();
  await fetch();
  assert.equal(server.requests[0]?.path, '/linux-64/repodata.json.zst', 'a has_zst conda cannot read does not suppress .zst');
});
