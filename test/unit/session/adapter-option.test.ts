/** Adapters are a session option: one session's extra scheme is not seen by another session. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Response } from 'undici';
import { createSession } from '../../../src/session/create-session.js';
import { loadSettings } from '../../../src/config/load-settings.js';
import type { Adapter, AdapterFactory } from '../../../src/core/adapter.js';

const memAdapter: AdapterFactory = (): Adapter => ({
  schemes: ['mem:'],
  async send(req) {
    return new Response(`hello from ${req.url.pathname}`, { status: 200 });
  },
  async close() {},
});

test('an adapter given to one session serves its scheme there and nowhere else', async (t) => {
  const settings = loadSettings({ env: {} });
  const withMem = createSession({ settings, adapters: { 'mem:': async () => memAdapter } });
  const plain = createSession({ settings });
  t.after(() => Promise.all([withMem.close(), plain.close()]));
  const res = await withMem.fetch('mem:/greeting');
  assert.equal(await res.text(), 'hello from /greeting');
  await assert.rejects(plain.fetch('mem:/greeting'), (err: { code?: string; message: string }) => {
    assert.equal(err.code, 'CG_UNSUPPORTED_SCHEME');
    assert.match(err.message, /supported schemes: http, https, file, ftp, s3, oci\./);
    return true;
  });
});

test('a session adapter can replace a built-in one for that session', async (t) => {
  const settings = loadSettings({ env: {} });
  const session = createSession({ settings, adapters: { 'ftp:': async () => memAdapter } });
  t.after(() => session.close());
  assert.equal(await (await session.fetch('ftp://example.invalid/x')).text(), 'hello from /x');
});
