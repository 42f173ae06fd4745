/**
 * download() takes the partial's size from the lock (one stat fewer per package): the size must
 * be the one under the lock, after any writer before us, and a stale file must not lend its size.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { download } from '../../../src/index.js';
import { lockFile } from '../../../src/core/file-lock.js';
import { startFileServer } from '../../helpers/servers/http.js';
import { bytes, listDir, tempDir } from '../../helpers/fs.js';
import { testSettings } from '../../helpers/settings.js';

test('the lock reports the size under the lock: after the writer before us, and 0 for a file renamed away meanwhile', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'x.partial');
  const first = await lockFile(path);
  assert.equal(first.size, 0);
  await first.handle.write(bytes(1234, 1), 0, 1234, 0);
  const waiter = lockFile(path);
  await new Promise((r) => setTimeout(r, 20));
  await first.handle.write(bytes(777, 2), 0, 777, 1234);
  await first.release();
  const second = await waiter;
  assert.equal(second.waited, true);
  assert.equal(second.size, 2011, 'the bytes the holder wrote before releasing count');
  assert.equal((await second.handle.stat()).size, 2011);

  const waiter2 = lockFile(path);
  await new Promise((r) => setTimeout(r, 20));
  await rename(path, join(dir, 'done.conda'));
  await second.release();
  const third = await waiter2;
  assert.equal(third.size, 0, 'a fresh file, not the size of the one renamed away');
  assert.equal((await third.handle.stat()).size, 0);
  await third.release();
  assert.deepEqual(await listDir(dir), ['done.conda', 'x.partial']);
});

test('without a checksum a leftover .partial is not trusted: the whole body is fetched, no Range', async (t) => {
  const server = await startFileServer(t);
  const body = bytes(50_000, 3);
  server.setFile('/pkg.conda', body, { etag: '"e"' });
  const dir = await tempDir(t);
  const target = join(dir, 'pkg.conda');
  await writeFile(`${target}.partial`, 'old bytes, not a prefix of anything');
  const result = await download(`${server.url}/pkg.conda`, target, { settings: testSettings() });
  assert.equal(result.resumedFrom, 0);
  assert.equal(server.requestsFor('/pkg.conda')[0]!.headers.range, undefined);
  assert.deepEqual(await readFile(target), body);
  assert.deepEqual(await listDir(dir), ['pkg.conda']);
});

test('a target that appears while we are not looking is still checked under the lock (prevent refuses it)', async (t) => {
  const server = await startFileServer(t);
  const body = bytes(40_000, 4);
  server.setFile('/pkg.conda', body);
  const dir = await tempDir(t);
  const target = join(dir, 'pkg.conda');
  // Hold the partial's lock so download() checks the target (absent), then waits; place a file meanwhile.
  const held = await lockFile(`${target}.partial`);
  const settings = { ...testSettings(), pathConflict: 'prevent' as const };
  const pending = download(`${server.url}/pkg.conda`, target, { settings });
  await new Promise((r) => setTimeout(r, 50));
  await writeFile(target, 'someone else\'s file');
  await held.release();
  await assert.rejects(pending, (e: unknown) => (e as { code?: string }).code === 'CG_PATH_CONFLICT');
  assert.equal(await readFile(target, 'utf8'), 'someone else\'s file');
  assert.equal(server.requestsFor('/pkg.conda').length, 0);
});

test('a complete target reused without the lock clears an empty .partial nobody holds; a held or non-empty one stays', async (t) => {
  const server = await startFileServer(t);
  const body = bytes(30_000, 5);
  server.setFile('/pkg.conda', body);
  const { createHash } = await import('node:crypto');
  const sha256 = createHash('sha256').update(body).digest('hex');
  const dir = await tempDir(t);
  const target = join(dir, 'pkg.conda');
  const partial = `${target}.partial`;
  await writeFile(target, body);

  // What a peer killed between creating the partial and removing it leaves behind.
  await writeFile(partial, '');
  const reused = await download(`${server.url}/pkg.conda`, target, { sha256, settings: testSettings() });
  assert.equal(reused.reused, true);
  assert.deepEqual(await listDir(dir), ['pkg.conda']);

  // Held by a writer (here in this process): left alone, and no wait for it.
  const held = await lockFile(partial);
  const again = await download(`${server.url}/pkg.conda`, target, { sha256, settings: testSettings() });
  assert.equal(again.reused, true);
  assert.deepEqual(await listDir(dir), ['pkg.conda', 'pkg.conda.partial']);
  await held.release();

  // Not empty: someone's resumable bytes, never ours to remove.
  await writeFile(partial, body.subarray(0, 100));
  await download(`${server.url}/pkg.conda`, target, { sha256, settings: testSettings() });
  assert.deepEqual(await readFile(partial), body.subarray(0, 100));
  assert.equal(server.requestsFor('/pkg.conda').length, 0);
});
