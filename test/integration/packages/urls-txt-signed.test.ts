import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fetchPackages, loadSettings } from '../../../src/index.js';
import { startFileServer } from '../../helpers/servers/http.js';
import { bytes, listDir, sha256, tempDir } from '../../helpers/fs.js';

test('a package fetched through a signed URL is recorded in urls.txt without its query string or token', async (t) => {
  const server = await startFileServer(t);
  const body = bytes(30_000, 7);
  server.setFile('/t/tk-s3cr3t-123/chan/noarch/p-1.0-0.conda', body);
  const dir = join(await tempDir(t), 'pkgs');
  const signed = `${server.url}/t/tk-s3cr3t-123/chan/noarch/p-1.0-0.conda?X-Amz-Credential=AKIA/s3cr3t&X-Amz-Signature=s3cr3tsig#frag`;
  const summary = await fetchPackages([{ url: signed, fileName: 'p-1.0-0.conda', sha256: sha256(body) }],
    { extract: false, pkgsDir: dir, settings: loadSettings({ overrides: { remoteBackoffFactor: 0 } }) });
  assert.equal(summary.fetched, 1);
  assert.ok((await listDir(dir)).includes('p-1.0-0.conda'));
  const urlsTxt = await readFile(join(dir, 'urls.txt'), 'utf8');
  assert.equal(urlsTxt, `${server.url}/chan/noarch/p-1.0-0.conda\n`);
  assert.doesNotMatch(urlsTxt, /s3cr3t|X-Amz|\?|#/);
});
