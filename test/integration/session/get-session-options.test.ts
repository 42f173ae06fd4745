/** getSession reuses a cached session only for a caller with the same options; closeSessions closes every variant. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Response } from 'undici';
import { closeSessions, getSession, type RetryEvent } from '../../../src/index.js';
import type { Adapter, AdapterFactory } from '../../../src/core/adapter.js';
import { startFileServer } from '../../helpers/servers/http.js';
import { status } from '../../helpers/faults.js';
import { noSleep, testSettings } from '../../helpers/settings.js';

const memAdapter: AdapterFactory = (): Adapter => ({
  schemes: ['mem:'],
  async send() {
    return new Response('mem', { status: 200 });
  },
  async close() {},
});

test("getSession: a later caller's listeners, log and adapters are honoured, not those of the first caller", async (t) => {
  const server = await startFileServer(t);
  server.setFile('/x', 'x');
  server.script('/x', [status(503)]);
  const settings = testSettings();
  t.after(() => closeSessions(settings));
  const first: RetryEvent[] = [];
  const second: RetryEvent[] = [];
  const logs: string[] = [];
  const s1 = getSession(`${server.url}/x`, { settings, sleep: noSleep, onRetry: (e) => first.push(e) });
  const s2 = getSession(`${server.url}/x`, { settings, sleep: noSleep, onRetry: (e) => second.push(e), log: (m) => logs.push(m) });
  assert.notEqual(s1, s2);
  await (await s2.fetch(`${server.url}/x`)).arrayBuffer();
  assert.deepEqual(first, []);
  assert.equal(second.length, 1);
  assert.ok(logs.some((m) => m.startsWith('retry 1/')), logs.join('\n'));
  server.script('/x', [status(503)]);
  await (await s1.fetch(`${server.url}/x`)).arrayBuffer();
  assert.equal(first.length, 1);

  const withMem = getSession(`${server.url}/x`, { settings, adapters: { 'mem:': async () => memAdapter } });
  assert.equal(await (await withMem.fetch('mem:/y')).text(), 'mem');
  assert.deepEqual(withMem.schemes.includes('mem'), true);
  assert.equal(getSession(`${server.url}/x`, { settings }).schemes.includes('mem'), false);
});

test('getSession: the same option values share one session; closeSessions closes every variant', async (t) => {
  const server = await startFileServer(t);
  server.setFile('/x', 'x');
  const settings = testSettings();
  const log = (): void => undefined;
  const a = getSession(`${server.url}/x`, { settings, log, sleep: noSleep });
  assert.equal(getSession(`${server.url}/other`, { settings, log, sleep: noSleep }), a);
  const b = getSession(`${server.url}/x`, { settings });
  assert.equal(getSession(`${server.url}/x`, { settings }), b);
  assert.notEqual(a, b);
  await closeSessions(settings);
  // Closed sessions are gone from the cache: the next call makes a fresh one.
  const c = getSession(`${server.url}/x`, { settings });
  assert.notEqual(c, b);
  t.after(() => closeSessions(settings));
  assert.equal(await (await c.fetch(`${server.url}/x`)).text(), 'x');
});
