/**
 * Issue 11 #4: a gzip-encoded repodata.json sent with `Connection: close` and no length (the
 * body ends when the server closes) must be cached whole, not fail with "closed while paused".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdir, readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { fetchRepodata } from '../../../src/index.js';
import { tempDir } from '../../helpers/fs.js';
import { testSettings } from '../../helpers/settings.js';
import { repodataOf } from '../../unit/repodata/fixtures.js';

const INDEX = repodataOf('noarch', Array.from({ length: 60_000 }, (_, i) => ({
  name: `pkg-${i % 3000}`, version: `${i}.0`, subdir: 'noarch', depends: ['python >=3.8', `dep-${i % 50}`],
})));
const TEXT = JSON.stringify(INDEX);
const GZ = gzipSync(TEXT);

test('a gzip repodata.json with Connection: close and no Content-Length is cached whole', async (t) => {
  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    if (!req.url?.endsWith('/repodata.json')) {
      res.writeHead(404, { connection: 'close' }).end();
      return;
    }
    // Written raw: the whole gzip at once, then the close that ends the body.
    res.socket?.write(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nConnection: close\r\n\r\n`);
    res.socket?.end(GZ);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/chan`;
  const cacheDir = await tempDir(t);
  for (let round = 0; round < 3; round++) {
    const result = await fetchRepodata(url, 'noarch', {
      cacheDir, settings: testSettings({ remoteMaxRetries: 0, localRepodataTtl: 0, repodataUseZst: false }),
    });
    assert.equal(result.source, 'repodata.json');
    assert.equal((await readFile(result.cachePath, 'utf8')).length, TEXT.length);
  }
  assert.ok(requests >= 3);
  assert.deepEqual((await readdir(cacheDir)).filter((f) => f.endsWith('.tmp')), []);
});
