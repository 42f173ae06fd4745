import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isGatewayError } from '../../../src/index.js';
import { parseContentRange, normalizeChecksum, normalizeSize } from '../../../src/download/index.js';

test('Content-Range forms parse; malformed ones do not', () => {
  assert.deepEqual(parseContentRange('bytes 0-99/1000'), { start: 0, end: 99, total: 1000 });
  assert.deepEqual(parseContentRange('bytes 5-9/*'), { start: 5, end: 9 });
  assert.deepEqual(parseContentRange('bytes */1000'), { total: 1000 });
  for (const bad of [null, '', 'bytes 9-5/10', 'bytes 0-10/10', 'items 0-1/2', 'bytes=0-1/2', 'bytes a-b/c']) {
    assert.equal(parseContentRange(bad), undefined, String(bad));
  }
});

test('checksums must be hex of the right length; sizes whole and non-negative', () => {
  assert.equal(normalizeChecksum('md5', 'D41D8CD98F00B204E9800998ECF8427E'), 'd41d8cd98f00b204e9800998ecf8427e');
  for (const bad of ['xyz', 'd41d8cd98f00b204e9800998ecf8427', 12]) {
    assert.throws(() => normalizeChecksum('md5', bad), (e: unknown) => isGatewayError(e) && e.code === 'CG_INVALID_ARGUMENT');
  }
  assert.equal(normalizeSize('42'), 42);
  for (const bad of [-1, 1.5, 'abc', Number.NaN]) assert.throws(() => normalizeSize(bad));
});
