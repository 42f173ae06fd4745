import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Headers } from 'undici';
import { decideConditionalRange, decideRange, ifRangeHolds } from '../../../src/adapters/byte-range.js';

test('open, bounded and suffix ranges are clamped to the object', () => {
  assert.deepEqual(decideRange('bytes=10-', 100), { kind: 'partial', start: 10, end: 99 });
  assert.deepEqual(decideRange('bytes=10-19', 100), { kind: 'partial', start: 10, end: 19 });
  assert.deepEqual(decideRange('bytes=90-500', 100), { kind: 'partial', start: 90, end: 99 });
  assert.deepEqual(decideRange('bytes=-5', 100), { kind: 'partial', start: 95, end: 99 });
  assert.deepEqual(decideRange('bytes=-500', 100), { kind: 'partial', start: 0, end: 99 });
  assert.deepEqual(decideRange(' Bytes = 3 - 4 ', 100), { kind: 'partial', start: 3, end: 4 });
});

test('a range starting at or past the end, or an empty suffix, is unsatisfiable', () => {
  assert.deepEqual(decideRange('bytes=100-', 100), { kind: 'unsatisfiable' });
  assert.deepEqual(decideRange('bytes=-0', 100), { kind: 'unsatisfiable' });
  assert.deepEqual(decideRange('bytes=0-', 0), { kind: 'unsatisfiable' });
});

test('ranges we do not understand are ignored (whole object)', () => {
  for (const header of [undefined, '', 'items=1-2', 'bytes=1-2,5-6', 'bytes=-', 'bytes=9-3', 'bytes=abc-']) {
    assert.deepEqual(decideRange(header, 100), { kind: 'full' }, String(header));
  }
});

test('If-Range holds only for the same strong ETag or exactly the same date', () => {
  const current = { etag: '"abc"', lastModified: 'Mon, 23 Nov 2026 19:39:05 GMT' };
  assert.equal(ifRangeHolds(undefined, current), true);
  assert.equal(ifRangeHolds('"abc"', current), true);
  assert.equal(ifRangeHolds('"abd"', current), false);
  assert.equal(ifRangeHolds('W/"abc"', current), false);
  assert.equal(ifRangeHolds('Mon, 23 Nov 2026 19:39:05 GMT', current), true);
  assert.equal(ifRangeHolds('Mon, 23 Nov 2026 19:39:06 GMT', current), false);
  assert.equal(ifRangeHolds('"abc"', { lastModified: current.lastModified }), false);
});

test('a failed If-Range turns the Range request into a full one', () => {
  const headers = new Headers({ range: 'bytes=5-', 'if-range': '"old"' });
  assert.deepEqual(decideConditionalRange(headers, 10, { etag: '"new"' }), { kind: 'full' });
  headers.set('if-range', '"new"');
  assert.deepEqual(decideConditionalRange(headers, 10, { etag: '"new"' }), { kind: 'partial', start: 5, end: 9 });
});
