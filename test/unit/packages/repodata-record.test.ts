/**
 * repodata_record.json against a fixture written with Python's json.dumps(indent=2), the
 * way conda's ExtractPackageAction dumps PackageRecord.from_objects(index.json, url=,
 * channel=, fn=, sha256=, size=, md5=): field order, dropped unknown keys, derived
 * package_type, null arch/platform kept, empty track_features left out, ensure_ascii.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildRepodataRecord, channelOf, serializeRecord } from '../../../src/packages/extract/repodata-record.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/repodata-record/', import.meta.url));

test('the record equals, byte for byte, the one conda writes for the same index.json and spec', () => {
  const index = JSON.parse(readFileSync(`${FIXTURES}index.json`, 'utf8')) as Record<string, unknown>;
  const expected = readFileSync(`${FIXTURES}repodata_record.json`, 'utf8');
  const record = buildRepodataRecord(index, {
    url: 'https://conda.anaconda.org/conda-forge/noarch/pip-24.0-pyhd8ed1ab_0.conda',
    fn: 'pip-24.0-pyhd8ed1ab_0.conda', md5: 'f586ac1e56c8638b64f9c8122a7b8a67',
    sha256: 'b7c1c5d8f13e8cb491c4bd1d0d1896a4cf80fc47de01059ad77509112b664a4a', size: 1398245,
  });
  assert.equal(serializeRecord(record), expected);
});

test('channel: the folder URL without credentials or token; <unknown> when the parent is not a known subdir', () => {
  assert.equal(channelOf('https://u:p@host:8443/t/tk-1/chan/sub/linux-64/x-1-0.conda?sig=1'), 'https://host:8443/chan/sub/linux-64');
  assert.equal(channelOf('file:///srv/chan/noarch/x-1-0.tar.bz2'), 'file:///srv/chan/noarch');
  assert.equal(channelOf('https://host/downloads/x-1-0.conda'), '<unknown>');
});

test('field rules: platform names become values, second timestamps become milliseconds, features are space-joined', () => {
  const src = { url: 'https://h/c/osx-64/a-1-0.conda', fn: 'a-1-0.conda', md5: 'm', sha256: 's', size: 1 };
  const r = buildRepodataRecord({
    name: 'a', version: '1', build: '0', build_number: 0, platform: 'osx', arch: 'x86_64', timestamp: 1606604745,
    track_features: 'mkl, blas', features: ['x'], constrains: ['b <2'], extra_key: 1,
  }, src);
  assert.equal(r.platform, 'darwin');
  assert.equal(r.timestamp, 1606604745000);
  assert.equal(r.track_features, 'mkl blas');
  assert.equal(r.features, 'x');
  assert.equal(r.subdir, 'osx-64', 'subdir from the URL when index.json has none');
  assert.deepEqual(r.constrains, ['b <2']);
  assert.equal('extra_key' in r, false);
  assert.deepEqual(Object.keys(r), ['name', 'version', 'build', 'build_number', 'channel', 'subdir', 'fn', 'md5', 'url', 'sha256',
    'arch', 'platform', 'depends', 'constrains', 'track_features', 'features', 'timestamp', 'size']);
});
