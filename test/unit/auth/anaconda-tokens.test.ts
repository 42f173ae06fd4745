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
