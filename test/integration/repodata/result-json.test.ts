import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fetchRepodata } from '../../../src/index.js';
import { cachePaths, parseState } from '../../../src/repodata/index.js';
import { tempDir } from '../../helpers/fs.js';
import { testSettings } from '../../helpers/settings.js';
import { repodataOf, shardedSubdir } from '../../unit/repodata/fixtures.js';
import { startChannelServer } from './channel-server.js';

const LINUX = repodataOf('linux-64', [{ name: 'python', version: '3.12.7', subdir: 'linux-64' }]);

test('a raw fetchRepodata result goes through JSON.stringify, nanoseconds as exact decimal strings, while .info.json keeps conda\'s integers', async (t) => {
  const server = await startChannelServer(t);
  server.setRepodata('linux-64', LINUX);
  const cacheDir = await tempDir(t);
  for (const expected of ['miss', 'hit']) {
    const result = await fetchRepodata(server.url, 'linux-64', { cacheDir, settings: testSettings() });
    assert.equal(result.cacheResult, expected);
    const json = JSON.parse(JSON.stringify(result)) as { state: Record<string, unknown>; url: string; repodata: unknown };
    assert.equal(json.state.mtime_ns, result.state.mtime_ns.toString());
    assert.equal(json.state.refresh_ns, result.state.refresh_ns.toString());
    assert.equal(BigInt(json.state.mtime_ns as string), result.state.mtime_ns, 'exact, not rounded');
    assert.equal(json.state.size, result.state.size);
    assert.equal(json.state.url, `${server.url}/linux-64`);
    assert.deepEqual(json.repodata, LINUX);
    assert.equal(json.url, `${server.url}/linux-64`);
    assert.equal(typeof result.state.mtime_ns, 'bigint', 'the object itself keeps bigints');
    assert.ok(!Object.keys(result.state).includes('toJSON'));
  }
  const text = await readFile(cachePaths(cacheDir, `${server.url}/linux-64`).state, 'utf8');
  assert.match(text, /\n {2}"mtime_ns": \d+,\n {2}"size": \d+,\n {2}"refresh_ns": \d+/, 'integers on disk, in conda\'s layout');
  assert.doesNotMatch(text, /toJSON/);
  assert.equal(parseState(text).state.mtime_ns, (await fetchRepodata(server.url, 'linux-64', { cacheDir, settings: testSettings() })).state.mtime_ns);
});

test('a sharded subset result is JSON-safe too', async (t) => {
  const server = await startChannelServer(t);
  server.setFiles('linux-64', shardedSubdir('linux-64', [{ name: 'python', version: '3.12.7', subdir: 'linux-64' }]));
  server.setFiles('noarch', shardedSubdir('noarch', []));
  const cacheDir = await tempDir(t);
  const result = await fetchRepodata(server.url, 'linux-64', { cacheDir, settings: testSettings({ repodataUseShards: true }), packages: ['python'] });
  assert.equal(result.source, 'shards');
  const json = JSON.parse(JSON.stringify(result)) as { state: { refresh_ns: string } };
  assert.equal(json.state.refresh_ns, result.state.refresh_ns.toString());
});
