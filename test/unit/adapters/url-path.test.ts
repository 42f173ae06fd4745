import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertPlainPathUrl, decodedPath } from '../../../src/core/url-path.js';
import { localPathOf } from '../../../src/adapters/localfs/index.js';
import { contentTypeFor } from '../../../src/adapters/localfs/content-type.js';
import { ftpTarget } from '../../../src/adapters/ftp/index.js';
import { s3Target } from '../../../src/adapters/s3/index.js';
import { isGatewayError } from '../../../src/index.js';

const invalid = (e: unknown) => isGatewayError(e) && e.code === 'CG_INVALID_ARGUMENT';

test('paths are percent-decoded', () => {
  assert.equal(decodedPath(new URL('file:///tmp/with%20space/%C3%BC.json')), '/tmp/with space/ü.json');
});

test('encoded separators, dot segments, control characters and bad escapes are refused', () => {
  for (const url of ['file:///a%2F..%2Fb', 'file:///a/%2e%2e%2Fb', 'file:///a%5Cb', 'ftp://h/a%0D%0ADELE', 'file:///a%00', 'file:///a%zz', 's3://b/x%2F..%2Fy']) {
    assert.throws(() => decodedPath(new URL(url)), invalid, url);
  }
});

test('file:// accepts empty, localhost and loopback hosts, and refuses other hosts', () => {
  assert.equal(localPathOf(new URL('file:///tmp/x')), '/tmp/x');
  assert.equal(localPathOf(new URL('file://localhost/tmp/x')), '/tmp/x');
  assert.equal(localPathOf(new URL('file://127.0.0.1/tmp/x')), '/tmp/x');
  assert.throws(() => localPathOf(new URL('file://fileserver/share/x')), invalid);
});

test('ftp:// targets default to port 21 and a path relative to the login directory', () => {
  assert.deepEqual(ftpTarget(new URL('ftp://h/pub/x.conda')), { host: 'h', port: 21, path: 'pub/x.conda' });
  assert.deepEqual(ftpTarget(new URL('ftp://[::1]:2121/a%20b')), { host: '::1', port: 2121, path: 'a b' });
});

test('s3:// targets need a bucket and an object key', () => {
  assert.deepEqual(s3Target(new URL('s3://bucket/chan/noarch/repodata.json')), { bucket: 'bucket', key: 'chan/noarch/repodata.json' });
  for (const url of ['s3://', 's3:///key', 's3://bucket', 's3://bucket/', 's3://bucket/prefix/']) {
    assert.throws(() => s3Target(new URL(url)), invalid, url);
  }
});

test('content types follow Python\'s mimetypes for the files conda serves, text/plain otherwise', () => {
  assert.equal(contentTypeFor('/c/noarch/repodata.json'), 'application/json');
  assert.equal(contentTypeFor('/c/noarch/repodata.json.zst'), 'application/zstd');
  assert.equal(contentTypeFor('/c/linux-64/x-1-0.tar.bz2'), 'application/x-tar');
  assert.equal(contentTypeFor('/c/linux-64/x-1-0.conda'), 'text/plain');
});

test('file, ftp and s3 URL text with whitespace or dot segments is refused before parsing; http is left alone', () => {
  for (const bad of ['file:///tmp/a b', 'file:///chan/../etc/passwd', 'ftp://h/./x', 's3://b/%2E%2E/x', 'FILE:///a/..']) {
    assert.throws(() => assertPlainPathUrl(bad), invalid, bad);
  }
  for (const good of ['file:///tmp/a%20b/x..y', 'ftp://h/pub/.hidden', 's3://b/k?x=..', 'https://h/a/../b', ' file:///tmp/x ']) {
    assert.doesNotThrow(() => assertPlainPathUrl(good), good);
  }
});
