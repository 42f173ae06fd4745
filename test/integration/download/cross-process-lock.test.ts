import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startFileServer } from '../../helpers/servers/http.js';
import { bytes, listDir, sha256, tempDir } from '../../helpers/fs.js';
import { runCli } from '../../helpers/cli.js';

test('two processes downloading one target never interleave: one transfer, the other reuses the verified file', async (t) => {
  const server = await startFileServer(t);
  const body = bytes(400_000, 11);
  server.setFile('/big.conda', body);
  // Trickle the body so both processes are certainly running at once.
  server.route('/big.conda', (_req, res) => {
    res.writeHead(200, { 'content-length': String(body.length), etag: '"big"' });
    let offset = 0;
    const timer = setInterval(() => {
      res.write(body.subarray(offset, offset + 40_000));
      offset += 40_000;
      if (offset >= body.length) {
        clearInterval(timer);
        res.end();
      }
    }, 40);
  });
  const dir = await tempDir(t);
  const target = join(dir, 'big.conda');
  const args = ['download', `${server.url}/big.conda`, '-o', target, '--sha256', sha256(body), '--json'];
  const [a, b] = await Promise.all([runCli(args), runCli(args)]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  const results = [JSON.parse(a.stdout), JSON.parse(b.stdout)] as Array<{ reused: boolean }>;
  assert.equal(server.requestsFor('/big.conda').length, 1);
  assert.equal(results.filter((r) => r.reused).length, 1);
  assert.deepEqual(await readFile(target), body);
  assert.deepEqual(await listDir(dir), ['big.conda']);
});
