/**
 * HTTP/2 (setting `http2`, default on): against Node's http2 secure server, an https channel's
 * shard closure multiplexes on one h2 connection; with `http2: false` it is HTTP/1.1.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createSecureServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { fetchRepodata } from '../../../src/index.js';
import { testCerts } from '../../helpers/certs.js';
import { tempDir } from '../../helpers/fs.js';
import { testSettings } from '../../helpers/settings.js';
import { shardedSubdir, type FixtureRecord } from '../../unit/repodata/fixtures.js';

const LINUX: FixtureRecord[] = Array.from({ length: 30 }, (_, i) => ({
  name: `p${i}`, version: '1', subdir: 'linux-64', depends: i < 29 ? [`p${i + 1}`] : ['tzdata'],
}));
const NOARCH: FixtureRecord[] = [{ name: 'tzdata', version: '2026a', subdir: 'noarch' }];

async function h2Server(t: TestContext) {
  const certs = await testCerts();
  const files = new Map<string, Buffer>();
  for (const [subdir, recs] of [['linux-64', LINUX], ['noarch', NOARCH]] as const) {
    for (const [path, body] of shardedSubdir(subdir, recs)) files.set(`/${subdir}/${path}`, body);
  }
  const versions: string[] = [];
  const sessions = new Set<unknown>();
  const server = createSecureServer({ key: certs.server.key, cert: certs.server.cert, allowHTTP1: true }, (req: Http2ServerRequest, res: Http2ServerResponse) => {
    versions.push(req.httpVersion);
    if (req.stream) sessions.add(req.stream.session);
    const body = files.get(req.url);
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-length': String(body.length) }).end(body);
  });
  server.on('connection', (socket: import('node:net').Socket) => t.after(() => socket.destroy()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, caPath: certs.caPath, versions, sessions };
}

test('a shard closure over https uses HTTP/2 by default, multiplexed on one or two connections', async (t) => {
  const server = await h2Server(t);
  const result = await fetchRepodata(server.url, 'linux-64', {
    cacheDir: await tempDir(t), packages: ['p0'], settings: testSettings({ sslVerify: server.caPath, repodataUseShards: true }),
  });
  assert.equal(result.source, 'shards');
  assert.equal(await result.recordCount(), 30);
  assert.ok(server.versions.length >= 31);
  assert.deepEqual([...new Set(server.versions)], ['2.0']);
  // The two shard indexes (linux-64, noarch) may each start a connection before the first handshake ends.
  assert.ok(server.sessions.size <= 2, `${server.sessions.size} h2 sessions carried ${server.versions.length} requests`);
});

test('http2: false keeps HTTP/1.1', async (t) => {
  const server = await h2Server(t);
  const result = await fetchRepodata(server.url, 'linux-64', {
    cacheDir: await tempDir(t), packages: ['p0'], settings: testSettings({ sslVerify: server.caPath, repodataUseShards: true, http2: false }),
  });
  assert.equal(result.source, 'shards');
  assert.deepEqual([...new Set(server.versions)], ['1.1']);
});
