import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fetchPackages, loadSettings, type FetchEvent } from '../../../src/index.js';
import { parseSpecText } from '../../../src/packages/index.js';
import { startFileServer } from '../../helpers/servers/http.js';
import { startS3Server } from '../../helpers/servers/s3.js';
import { bytes, listDir, sha256, tempDir } from '../../helpers/fs.js';
import { noSleep } from '../../helpers/settings.js';

test('one explicit file mixing http, file and s3 URLs lands every package verified; mirrors may be file:// or s3://', async (t) => {
  const http = await startFileServer(t);
  const s3 = await startS3Server(t);
  const base = await tempDir(t);
  const localChannel = join(base, 'local-channel', 'noarch');
  await mkdir(localChannel, { recursive: true });
  const body = (i: number): Buffer => bytes(30_000 + i * 5_000, 40 + i);
  const [h, f, s, m] = [0, 1, 2, 3].map(body) as [Buffer, Buffer, Buffer, Buffer];
  http.setFile('/cf/noarch/h-1-0.conda', h);
  await writeFile(join(localChannel, 'f-1-0.conda'), f);
  await s3.putObject('channel/noarch/s-1-0.conda', s);
  // m: listed under the http channel, served only by the s3 mirror (the file:// mirror lacks it: 404, failover).
  await s3.putObject('mirror/noarch/m-1-0.conda', m);
  const fileUrl = pathToFileURL(join(localChannel, 'f-1-0.conda')).href;
  const text = `# platform: linux-64\n@EXPLICIT\n${http.url}/cf/noarch/h-1-0.conda#sha256:${sha256(h)}\n` +
    `${fileUrl}#sha256:${sha256(f)}\ns3://${s3.bucket}/channel/noarch/s-1-0.conda#sha256:${sha256(s)}\n` +
    `${http.url}/mirrored/noarch/m-1-0.conda#sha256:${sha256(m)}\n`;
  const parsed = await parseSpecText(text, 'env.txt', { platforms: ['linux-64', 'noarch'] });
  const settings = loadSettings({
    env: s3.env(),
    layers: [{ origin: 'test', values: { mirrors: { [`${http.url}/mirrored`]: [pathToFileURL(join(base, 'empty-mirror')).href, `s3://${s3.bucket}/mirror`] } } }],
    overrides: { remoteBackoffFactor: 0 },
  });
  const events: FetchEvent[] = [];
  const summary = await fetchPackages(parsed.packages, { extract: false, pkgsDir: join(base, 'pkgs'), settings, sleep: noSleep, onEvent: (e) => events.push(e) });
  assert.equal(summary.failed, 0, JSON.stringify(summary.failures));
  assert.equal(summary.fetched, 4);
  assert.deepEqual(await listDir(summary.pkgsDir), ['f-1-0.conda', 'h-1-0.conda', 'm-1-0.conda', 's-1-0.conda', 'urls', 'urls.txt']);
  for (const [name, b] of [['h', h], ['f', f], ['s', s], ['m', m]] as const) {
    assert.equal(sha256(await readFile(join(summary.pkgsDir, `${name}-1-0.conda`))), sha256(b));
  }
  const failover = events.find((e) => e.type === 'mirror-failover');
  assert.ok(failover && failover.type === 'mirror-failover' && failover.from.startsWith('file://') && failover.to?.startsWith('s3://'));
  const urls = await readFile(join(summary.pkgsDir, 'urls.txt'), 'utf8');
  assert.match(urls, /^s3:\/\/conda-channel\/channel\/noarch\/s-1-0\.conda$/m);
  assert.match(urls, new RegExp(`^${http.url}/mirrored/noarch/m-1-0\\.conda$`, 'm'));
  assert.equal(http.requests.length, 1, 'the mirrored package never touched the original host');
});
