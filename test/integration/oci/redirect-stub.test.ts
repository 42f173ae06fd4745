/**
 * What docker-registry's filesystem storage cannot show: a blob redirected to a CDN (as
 * ghcr.io does) and a token realm on another host. A Node stub speaking the registry API
 * on 127.0.0.1 stands in, clearly labelled as such.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSession } from '../../../src/session/index.js';
import { startFileServer } from '../../helpers/servers/http.js';
import { bytes } from '../../helpers/fs.js';
import { noSleep, testSettings } from '../../helpers/settings.js';

const BODY = bytes(30_000, 9);
const DIGEST = `sha256:${createHash('sha256').update(BODY).digest('hex')}`;

async function stubRegistry(t: import('node:test').TestContext, cdnUrl: string, realm: (host: string) => string) {
  const seen: Array<{ path: string; auth: string }> = [];
  const server = createServer((req: IncomingMessage, res) => {
    seen.push({ path: req.url ?? '', auth: req.headers.authorization ?? '' });
    const host = req.headers.host ?? '';
    if (req.url?.startsWith('/token')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: 'stub-token-value', expires_in: 300 }));
      return;
    }
    if (req.headers.authorization !== 'Bearer stub-token-value') {
      res.writeHead(401, { 'www-authenticate': `Bearer realm="${realm(host)}",service="stub"` }).end();
      return;
    }
    if (req.url === `/v2/org/chan/noarch/pkg/blobs/${DIGEST}`) {
      res.writeHead(307, { location: `${cdnUrl}/blob-data?sig=secret-signature` }).end();
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => {
    server.closeAllConnections();
    server.close(() => r());
  }));
  return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

test('[Node registry stub] a blob redirected to a CDN is fetched there without the registry token', async (t) => {
  const cdn = await startFileServer(t);
  cdn.setFile('/blob-data', BODY);
  const stub = await stubRegistry(t, cdn.url, (host) => `http://${host}/token`);
  const logs: string[] = [];
  const session = createSession({ settings: testSettings({ ociPlainHttp: [stub.host] }), sleep: noSleep, log: (m) => logs.push(m) });
  t.after(() => session.close());
  const res = await session.fetch(`oci://${stub.host}/org/chan/noarch/pkg-1.0-0.conda`, { headers: { 'x-expected-sha256': DIGEST.slice(7) } });
  assert.equal(res.status, 200);
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), BODY);
  const atCdn = cdn.requestsFor('/blob-data');
  assert.equal(atCdn.length, 1);
  assert.equal(atCdn[0]!.headers.authorization, undefined);
  assert.ok(!logs.join('\n').includes('stub-token-value') && !logs.join('\n').includes('secret-signature'));
});

test('[Node registry stub] Basic credentials are not sent to a token realm on an unrelated host', async (t) => {
  const realmServer = await startFileServer(t);
  realmServer.route('/token', (_req, res) => res.writeHead(200, { 'content-type': 'application/json' })
    .end(JSON.stringify({ token: 'stub-token-value' })));
  // The realm is on "localhost" while the registry is 127.0.0.1: another host.
  const stub = await stubRegistry(t, 'http://127.0.0.1:1', () => `${realmServer.url.replace('127.0.0.1', 'localhost')}/token`);
  const logs: string[] = [];
  const session = createSession({ settings: testSettings({ ociPlainHttp: [stub.host] }), sleep: noSleep, log: (m) => logs.push(m) });
  t.after(() => session.close());
  const res = await session.fetch(`oci://user:pa55word@${stub.host}/org/chan/noarch/other-1.0-0.conda`, { headers: { 'x-expected-sha256': 'ab'.repeat(32) } });
  assert.equal(res.status, 404);
  await res.arrayBuffer();
  const tokenRequests = realmServer.requestsFor('/token');
  assert.ok(tokenRequests.length >= 1);
  assert.ok(tokenRequests.every((r) => r.headers.authorization === undefined));
  assert.ok(logs.some((l) => /not sending credentials .* to the token realm/.test(l)), logs.join('\n'));
});
