import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { urlForCache } from '../../../src/packages/index.js';
import { UrlsTxt } from '../../../src/packages/pkgs-dir.js';
import { tempDir } from '../../helpers/fs.js';

test('urls.txt records a signed URL without its query string, as conda records a plain channel URL', () => {
  assert.equal(urlForCache('https://bucket.s3.amazonaws.com/chan/noarch/p-1-0.conda?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc123'),
    'https://bucket.s3.amazonaws.com/chan/noarch/p-1-0.conda');
  assert.equal(urlForCache('https://cdn.example/c/linux-64/a-1-0.tar.bz2?token=s3cr3t#sha256:00'), 'https://cdn.example/c/linux-64/a-1-0.tar.bz2');
  assert.equal(urlForCache('https://u:pw@h/t/tk-1/c/noarch/p-1-0.conda?sig=x'), 'https://h/c/noarch/p-1-0.conda');
  assert.equal(urlForCache('https://h/prefix/t/tk-1/c/noarch/p-1-0.conda'), 'https://h/prefix/c/noarch/p-1-0.conda');
  assert.equal(urlForCache('file:///srv/chan/noarch/p-1-0.conda'), 'file:///srv/chan/noarch/p-1-0.conda');
});

test('a URL that does not parse still loses its query, fragment and userinfo', () => {
  assert.equal(urlForCache('https://u:p@ss@h:99999/c/p-1-0.conda?X-Amz-Signature=s3cr3t'), 'https://h:99999/c/p-1-0.conda');
});

test('the same package fetched with two different signatures is one line in urls.txt', async (t) => {
  const dir = await tempDir(t);
  const urls = new UrlsTxt(dir);
  await urls.add('https://h/c/noarch/p-1-0.conda?X-Amz-Signature=first');
  await urls.add('https://h/c/noarch/p-1-0.conda?X-Amz-Signature=second');
  await new UrlsTxt(dir).add('https://h/c/noarch/p-1-0.conda?X-Amz-Signature=third');
  assert.equal(await readFile(join(dir, 'urls.txt'), 'utf8'), 'https://h/c/noarch/p-1-0.conda\n');
});
