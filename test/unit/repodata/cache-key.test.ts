import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cacheKey, cachePaths, credentialFreeUrl, keyedUrl } from '../../../src/repodata/index.js';

test('cache keys match the names conda gives its cache files', () => {
  assert.equal(cacheKey('https://conda.anaconda.org/conda-forge/linux-64'), '497deca9');
  assert.equal(cacheKey('https://conda.anaconda.org/conda-forge/linux-64/'), '497deca9');
  assert.equal(cacheKey('https://repo.anaconda.com/pkgs/main/noarch'), '3e39a7aa');
  assert.equal(cacheKey('https://conda.anaconda.org/conda-forge/linux-64', 'current_repodata.json'), '18414ddb');
});

test('credentials are part of the cache key, as in conda, but never of the recorded URL', () => {
  const plain = 'https://conda.anaconda.org/private/linux-64';
  assert.equal(credentialFreeUrl('https://user:s3cr3t@conda.anaconda.org/private/linux-64'), plain);
  assert.equal(credentialFreeUrl('https://conda.anaconda.org/t/tk-s3cr3t/private/linux-64/'), plain);
  // conda: cache_fn_url(url_w_credentials) = md5(url + '/')[:8]
  const md5 = (text: string) => createHash('md5').update(text).digest('hex').slice(0, 8);
  const token = 'https://conda.anaconda.org/t/tk-s3cr3t/private/linux-64';
  assert.equal(cacheKey(token), md5(`${token}/`));
  assert.equal(cacheKey(`${token}/`), md5(`${token}/`));
  assert.equal(cacheKey('https://user:s3cr3t@conda.anaconda.org/private/linux-64'), md5('https://user:s3cr3t@conda.anaconda.org/private/linux-64/'));
  assert.notEqual(cacheKey(token), cacheKey(plain));
  assert.equal(keyedUrl(`${token}?x=1#f`), token);
});

test('the shard index has its own cache file, keyed with its file name', () => {
  const p = cachePaths('/c', 'https://conda.anaconda.org/conda-forge/linux-64', 'repodata_shards.msgpack.zst');
  assert.match(p.data, /^\/c\/[0-9a-f]{8}\.msgpack\.zst$/);
  assert.equal(p.state, p.data.replace('.msgpack.zst', '.info.json'));
  assert.notEqual(p.base, cachePaths('/c', 'https://conda.anaconda.org/conda-forge/linux-64').base);
});
