/**
 * Issue 15 item 9: conda's TmpDownload (conda/gateways/connection/download.py): download into
 * a fresh temporary folder, remove the folder afterwards; a local path (no "://") passes
 * through untouched. Ours: tmpDownload() (async-disposable, `await using`) and withTmpDownload().
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { access, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CondaHTTPError, tmpDownload, withTmpDownload } from '../../../src/index.js';
import { startFileServer } from '../../helpers/servers/http.js';
import { bytes, listDir, sha256, tempDir } from '../../helpers/fs.js';
import { testSettings } from '../../helpers/settings.js';

const BODY = bytes(20_000, 3);
const gone = async (path: string): Promise<boolean> => access(path).then(() => false, () => true);

async function setup(t: import('node:test').TestContext) {
  const server = await startFileServer(t);
  server.setFile('/c/noarch/p-1-0.conda', BODY);
  const base = await tempDir(t);
  return { url: `${server.url}/c/noarch/p-1-0.conda`, base, opts: { tmpDir: base, sha256: sha256(BODY), settings: testSettings() } };
}

test('await using: the file is there inside the block and its folder is gone after it (Symbol.asyncDispose)', async (t) => {
  const { url, base, opts } = await setup(t);
  let seen = '';
  {
    await using file = await tmpDownload(url, opts);
    seen = file.path;
    assert.equal(file.path.split('/').pop(), 'p-1-0.conda', 'named after the URL\'s last segment, as conda\'s basename(url)');
    assert.deepEqual(await readFile(file.path), BODY);
    assert.equal(dirname(file.path), file.dir);
    assert.equal(file.result?.sha256, sha256(BODY));
  }
  assert.ok(seen && (await gone(dirname(seen))), 'the temporary folder is removed');
  assert.deepEqual(await listDir(base), []);
});

test('the callback form removes the folder after success and after the callback throws', async (t) => {
  const { url, base, opts } = await setup(t);
  let inside = '';
  const size = await withTmpDownload(url, async (path) => {
    inside = path;
    return (await readFile(path)).length;
  }, opts);
  assert.equal(size, BODY.length);
  assert.ok(await gone(dirname(inside)));
  await assert.rejects(withTmpDownload(url, (path) => {
    inside = path;
    throw new Error('caller failed');
  }, opts), /caller failed/);
  assert.ok(await gone(dirname(inside)));
  assert.deepEqual(await listDir(base), []);
});

test('a failed download leaves no temporary folder behind', async (t) => {
  const { url, base, opts } = await setup(t);
  await assert.rejects(tmpDownload(url.replace('p-1-0', 'missing-1-0'), opts), (e: unknown) => e instanceof CondaHTTPError && e.status === 404);
  await assert.rejects(tmpDownload(url, { ...opts, sha256: 'f'.repeat(64) }), /mismatch/);
  assert.deepEqual(await listDir(base), [], 'nothing left after a 404 or a checksum error');
});

test('a local path (no "://") passes through untouched: nothing created, nothing removed', async (t) => {
  const { base } = await setup(t);
  const local = join(base, 'mine.conda');
  const { writeFile } = await import('node:fs/promises');
  await writeFile(local, 'keep me');
  await withTmpDownload(local, async (path) => {
    assert.equal(path, local);
  }, { tmpDir: base });
  const file = await tmpDownload('relative/path.conda', { tmpDir: base });
  assert.equal(file.path, 'relative/path.conda');
  assert.equal(file.dir, undefined);
  await file[Symbol.asyncDispose]();
  assert.equal(await readFile(local, 'utf8'), 'keep me');
  assert.deepEqual(await listDir(base), ['mine.conda']);
});
