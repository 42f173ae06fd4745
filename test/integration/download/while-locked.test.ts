/**
 * download()'s `whileLocked` step runs after the verified bytes were renamed onto the target and
 * before the target's lock is released (the package cache accepts a folder extracted while
 * downloading there, so no other writer can replace the tarball in between); not for a reused
 * target; a step that throws rejects download() and the verified target stays.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { download, isGatewayError } from '../../../src/index.js';
import { lockFile } from '../../../src/core/file-lock.js';
import { startFileServer } from '../../helpers/servers/http.js';
import { bytes, listDir, sha256, tempDir } from '../../helpers/fs.js';
import { testSettings } from '../../helpers/settings.js';

test('whileLocked sees the verified target under the lock, only for bytes this call wrote; its failure rejects download()', async (t) => {
  const server = await startFileServer(t);
  const body = bytes(200_000, 9);
  server.route('/pkg.conda', (_req, res) => {
    res.writeHead(200, { 'content-length': String(body.length) });
    res.end(body);
  });
  const dir = await tempDir(t);
  const target = join(dir, 'pkg.conda');
  const url = `${server.url}/pkg.conda`;
  const opts = { sha256: sha256(body), settings: testSettings() };
  const seen: Array<{ reused: boolean; bytes: number; locked: boolean; content: boolean }> = [];
  const whileLocked = async (r: { reused: boolean; bytes: number }): Promise<void> => {
    // Another writer of the same target (in this process, as in another) cannot take the lock now.
    const locked = await lockFile(`${target}.partial`, { timeoutMs: 0 }).then(async (l) => { await l.release(); return false; },
      (e: unknown) => isGatewayError(e) && e.code === 'CG_LOCKED');
    seen.push({ reused: r.reused, bytes: r.bytes, locked, content: (await readFile(target)).equals(body) });
  };
  const done = await download(url, target, { ...opts, whileLocked });
  assert.equal(done.reused, false);
  assert.deepEqual(seen, [{ reused: false, bytes: body.length, locked: true, content: true }]);
  // Released afterwards: the lock can be taken again.
  await (await lockFile(`${target}.partial`, { timeoutMs: 0 })).release();
  await rm(`${target}.partial`); // the test's own lock file

  // A target already there and verified: reused, the step does not run.
  const again = await download(url, target, { ...opts, whileLocked });
  assert.equal(again.reused, true);
  assert.equal(seen.length, 1);

  // A step that fails: download() rejects with its error, the verified file stays, no .partial is left.
  const other = join(dir, 'other.conda');
  await assert.rejects(download(url, other, { ...opts, whileLocked: async () => { throw new Error('step failed'); } }), /step failed/);
  assert.ok((await readFile(other)).equals(body));
  assert.deepEqual((await listDir(dir)).sort(), ['other.conda', 'pkg.conda']);
});
