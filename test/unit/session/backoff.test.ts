import { test } from 'node:test';
import assert from 'node:assert/strict';
import { delayFor, parseRetryAfter, BACKOFF_MAX_MS, isRetryableStatus } from '../../../src/session/index.js';

test('backoff waits 0, then factor·2^(n-1) seconds, like urllib3 with conda defaults', () => {
  const delays = [1, 2, 3, 4].map((retry) => delayFor({ retry, backoffFactor: 1, retryAfterMaxMs: 60_000 }));
  assert.deepEqual(delays, [0, 2000, 4000, 8000]);
});

test('backoff is capped at 120 s', () => {
  assert.equal(delayFor({ retry: 20, backoffFactor: 1, retryAfterMaxMs: 0 }), BACKOFF_MAX_MS);
});

test('Retry-After wins when longer, up to the cap', () => {
  assert.equal(delayFor({ retry: 1, backoffFactor: 1, retryAfterMs: 5000, retryAfterMaxMs: 60_000 }), 5000);
  assert.equal(delayFor({ retry: 1, backoffFactor: 1, retryAfterMs: 500_000, retryAfterMaxMs: 60_000 }), 60_000);
  assert.equal(delayFor({ retry: 3, backoffFactor: 1, retryAfterMs: 1000, retryAfterMaxMs: 60_000 }), 4000);
});

test('Retry-After parses seconds and HTTP dates, and ignores junk', () => {
  assert.equal(parseRetryAfter('30'), 30_000);
  const now = Date.parse('Wed, 25 Nov 2026 10:00:00 GMT');
  assert.equal(parseRetryAfter('Wed, 25 Nov 2026 10:00:10 GMT', now), 10_000);
  assert.equal(parseRetryAfter('Wed, 25 Nov 2026 09:00:00 GMT', now), 0);
  for (const junk of [null, '', 'soon', '-5', '1.5', '99999999999999999999']) assert.equal(parseRetryAfter(junk), undefined);
});

test("conda's retry statuses plus 408, 502 and 504 are retried; 404 and 418 are not", () => {
  for (const s of [408, 413, 429, 500, 502, 503, 504]) assert.ok(isRetryableStatus(s), String(s));
  for (const s of [400, 401, 403, 404, 416, 418, 501]) assert.ok(!isRetryableStatus(s), String(s));
});
