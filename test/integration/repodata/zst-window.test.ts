import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { fetchRepodata } from '../../../src/index.js';
import { cachePaths } from '../../../src/repodata/index.js';
import { tempDir } from '../../helpers/fs.js';
import { testSettings } from '../../helpers/settings.js';
import { repodataOf } from '../../unit/repodata/fixtures.js';
import { startChannelServer } from './channel-server.js';

const LINUX = repodataOf('linux-64', [{ name: 'python', version: '3.12.7', subdir: 'linux-64' }]);

test('a .zst declaring a huge window falls back to repodata.json at once, as an invalid .zst does', async (t) => {
  const server = await startChannelServer(t);
  server.setRepodata('linux-64', LINUX);
  server.setFiles('linux-64', new Map([['repodata.json.zst', Buffer.from([40, 181, 47, 253, 21, 165, 68, 235, 148, 125, 8, 133])]]));
  const cacheDir = await tempDir(t);
  const logs: string[] = [];
  const started = performance.now();
  const result = await fetchRepodata(server.url, 'linux-64', { cacheDir, settings: testSettings({ remoteMaxRetries: 0 }), log: (m) => logs.push(m) });
  assert.ok(performance.now() - started < 1500, 'no window was allocated');
  assert.equal(result.source, 'repodata.json');
  assert.deepEqual(result.repodata, LINUX);
  assert.ok(logs.some((l) => /Fall back to \.json\..*window, over the 128 MiB limit/.test(l)), logs.join('\n'));
  const state = JSON.parse(await readFile(cachePaths(cacheDir, `${server.url}/linux-64`).state, 'utf8')) as { has_zst: { value: boolean } };
  assert.equal(state.has_zst.value, false);
  assert.deepEqual((await readdir(cacheDir)).filter((f) => f.endsWith('.tmp')), []);
});
