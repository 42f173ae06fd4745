import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RetryBudget } from '../../../src/core/retry.js';
import type { RetryEvent } from '../../../src/core/types.js';
import { testSettings } from '../../helpers/settings.js';

test('RetryBudget: remote_max_retries retries, conda backoff, one log line, onRetry and wait each', async () => {
  const settings = testSettings({ remoteMaxRetries: 3, remoteBackoffFactor: 1, remoteRetryAfterMaxSecs: 10 });
  const logs: string[] = [];
  const events: RetryEvent[] = [];
  const waits: number[] = [];
  const budget = new RetryBudget(settings, {
    log: (m) => logs.push(m), onRetry: (e) => events.push(e), sleep: async (ms) => { waits.push(ms); },
  });
  const spent: number[] = [];
  while (budget.canRetry) {
    spent.push(await budget.spend({ url: 'https://h/x', reason: 'ECONNRESET', message: (ms, n) => `retry ${n} in ${ms}` }));
  }
  assert.deepEqual(spent, [0, 2000, 4000]);
  assert.deepEqual(waits, spent);
  assert.deepEqual(logs, ['retry 1 in 0', 'retry 2 in 2000', 'retry 3 in 4000']);
  assert.deepEqual(events.map((e) => [e.attempt, e.delayMs, e.reason, e.url]),
    [[1, 0, 'ECONNRESET', 'https://h/x'], [2, 2000, 'ECONNRESET', 'https://h/x'], [3, 4000, 'ECONNRESET', 'https://h/x']]);
  assert.equal(budget.used, 3);
});

test('RetryBudget: Retry-After wins when longer (capped), the reported attempt can be the caller\'s', async () => {
  const settings = testSettings({ remoteMaxRetries: 2, remoteBackoffFactor: 0, remoteRetryAfterMaxSecs: 5 });
  const events: RetryEvent[] = [];
  const budget = new RetryBudget(settings, { onRetry: (e) => events.push(e), sleep: async () => undefined });
  assert.equal(await budget.spend({ url: 'u', reason: 'HTTP 503', retryAfterMs: 60_000, attempt: 7, message: () => '' }), 5000);
  assert.equal(events[0]!.attempt, 7);
});

test('RetryBudget: a cancelled operation has no retry left', () => {
  const controller = new AbortController();
  const budget = new RetryBudget(testSettings({ remoteMaxRetries: 3 }), { signal: controller.signal });
  assert.equal(budget.canRetry, true);
  controller.abort();
  assert.equal(budget.canRetry, false);
});

test('RetryBudget: remote_max_retries 0 allows no retry', () => {
  assert.equal(new RetryBudget(testSettings({ remoteMaxRetries: 0 }), {}).canRetry, false);
});
