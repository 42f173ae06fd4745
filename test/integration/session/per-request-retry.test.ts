/** A shared session tells each caller about its own request's retries (FetchInit.onRetry), and the session's listener still hears all. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSession, type RetryEvent } from '../../../src/session/index.js';
import { startFileServer } from '../../helpers/servers/http.js';
import { status } from '../../helpers/faults.js';
import { noSleep, testSettings } from '../../helpers/settings.js';

test('onRetry given to one fetch hears that request only; the session listener hears both', async (t) => {
  const server = await startFileServer(t);
  server.setFile('/a.json', '{}');
  server.setFile('/b.json', '{}');
  server.script('/a.json', [status(503)]);
  server.script('/b.json', [status(502), status(500)]);
  const all: RetryEvent[] = [];
  const session = createSession({ settings: testSettings(), sleep: noSleep, onRetry: (e) => all.push(e) });
  t.after(() => session.close());
  const seenA: RetryEvent[] = [];
  const seenB: RetryEvent[] = [];
  const [a, b] = await Promise.all([
    session.fetch(`${server.url}/a.json`, { onRetry: (e) => seenA.push(e) }),
    session.fetch(`${server.url}/b.json`, { onRetry: (e) => seenB.push(e) }),
  ]);
  assert.equal(a.status, 200);
  assert.equal(b.status, 200);
  await Promise.all([a.arrayBuffer(), b.arrayBuffer()]);
  assert.deepEqual(seenA.map((e) => [e.url.endsWith('/a.json'), e.attempt, e.reason]), [[true, 1, 'HTTP 503']]);
  assert.deepEqual(seenB.map((e) => [e.url.endsWith('/b.json'), e.attempt, e.reason]), [[true, 1, 'HTTP 502'], [true, 2, 'HTTP 500']]);
  assert.equal(all.length, 3);
});
