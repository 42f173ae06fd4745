/** Lazy records of a fetchRepodata result: nothing parsed by the fetch; recordsFor() without a full parse. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fetchRepodata, type Repodata } from '../../../src/index.js';
import { sparseRecords } from '../../../src/repodata/index.js';
import { tempDir } from '../../helpers/fs.js';
import { testSettings } from '../../helpers/settings.js';
import { repodataOf, type FixtureRecord } from '../../unit/repodata/fixtures.js';
import { startChannelServer } from './channel-server.js';

// Enough records to cross the 8 MiB read chunks several times, with names that share prefixes.
const RECORDS: FixtureRecord[] = Array.from({ length: 40_000 }, (_, i) => ({
  name: ['numpy', 'numpy-base', 'python', 'python-dateutil', `pkg-${i % 500}`][i % 5]!, version: `${i}.0`, subdir: 'linux-64',
  depends: ['python >=3.8', 'python-dateutil', 'numpy-base'],
}));

function filterByName(index: Repodata, names: string[]): Repodata {
  const pick = (g: Repodata['packages']) => Object.fromEntries(Object.entries(g ?? {}).filter(([, r]) => names.includes(r.name)));
  return { packages: pick(index.packages), 'packages.conda': pick(index['packages.conda']) };
}

test('recordsFor() returns exactly the records of the named packages, across read chunks, from the cache file', async (t) => {
  const server = await startChannelServer(t);
  const index = repodataOf('linux-64', RECORDS) as Repodata;
  // Some .tar.bz2 records too, under "packages".
  index.packages = { 'numpy-1.0-0.tar.bz2': { name: 'numpy', version: '1.0', build: '0', depends: [] } };
  server.setRepodata('linux-64', index);
  const cacheDir = await tempDir(t);
  const result = await fetchRepodata(server.url, 'linux-64', { cacheDir, settings: testSettings() });
  assert.equal(await result.recordCount(), 40_001);
  const some = await result.recordsFor(['numpy', 'python']);
  const expected = filterByName(index, ['numpy', 'python']);
  assert.deepEqual(Object.keys(some['packages.conda']!).sort(), Object.keys(expected['packages.conda']!).sort());
  assert.deepEqual(some.packages, expected.packages);
  assert.deepEqual(some['packages.conda']!['numpy-5.0-h0_0.conda'], expected['packages.conda']!['numpy-5.0-h0_0.conda']);
  assert.deepEqual(some.info, { subdir: 'linux-64' });
  assert.equal(some.repodata_version, 1);
  assert.deepEqual(await result.recordsFor(['not-there']), { info: { subdir: 'linux-64' }, repodata_version: 1, packages: {}, 'packages.conda': {} });
  // The full parse agrees, and afterwards recordsFor answers from it.
  assert.deepEqual(await result.records(), index);
  assert.deepEqual(Object.keys((await result.recordsFor(['numpy-base']))['packages.conda']!).length, 8000);
  // A hit gives the same view.
  const hit = await fetchRepodata(server.url, 'linux-64', { cacheDir, settings: testSettings() });
  assert.equal(hit.cacheResult, 'hit');
  assert.equal(Object.keys((await hit.recordsFor(['python-dateutil']))['packages.conda']!).length, 8000);
  assert.equal(await hit.recordCount(), 40_001);
});

test('sparseRecords copes with pretty-printed JSON and keys that only look like records', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'r.json');
  const index = {
    info: { subdir: 'noarch' },
    packages: { 'a-1-0.tar.bz2': { name: 'a', version: '1', depends: ['a-b >=1'] } },
    'packages.conda': { 'a-b-1-0.conda': { name: 'a-b', version: '1', note: '"a-1-0.tar.bz2": {' } },
    removed: ['a-0-0.tar.bz2'], repodata_version: 2,
  };
  await writeFile(path, JSON.stringify(index, null, 2));
  const got = await sparseRecords(path, ['a']);
  assert.deepEqual(got.packages, index.packages);
  assert.deepEqual(got['packages.conda'], {});
  assert.equal(got.repodata_version, 2);
  assert.deepEqual((await sparseRecords(path, ['A-B']))['packages.conda'], index['packages.conda']);
  assert.ok((await readFile(path, 'utf8')).length > 0);
});
