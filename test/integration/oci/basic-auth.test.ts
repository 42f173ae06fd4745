/**
 * A Basic-only registry (ECR, or a registry behind nginx auth_basic): docker-registry
 * without auth behind a small Basic-auth front on 127.0.0.1. No token service is involved.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { download, type GatewayError } from '../../../src/index.js';
import { createSession } from '../../../src/session/index.js';
import {
  registryAvailable, startBasicFront, startOciRegistry, type BasicFront, type OciTestRegistry, type PushedPackage,
} from '../../helpers/servers/oci-registry.js';
import { bytes, tempDir } from '../../helpers/fs.js';
import { noSleep, testSettings } from '../../helpers/settings.js';

const SKIP = registryAvailable() ? false : 'docker-registry is not installed (apt-get install docker-registry; see .ci/apt-packages)';
const PKG = 'zlib-1.3.1-hb9d3cd8_2.conda';
const BODY = bytes(20_000, 5);

let reg: OciTestRegistry;
let front: BasicFront;
let pkg: PushedPackage;
before(async () => {
  if (SKIP) return;
  reg = await startOciRegistry({ auth: 'none' });
  pkg = await reg.pushPackage('private/chan', 'linux-64', PKG, BODY);
  front = await startBasicFront(reg.host, 'carol', 'c4rol-pw');
});
after(async () => {
  if (SKIP) return;
  await front.close();
  await reg.close();
});

test('a Basic challenge is answered with the stored credentials directly, then sent up front; no token service', { skip: SKIP }, async (t) => {
  const dir = await tempDir(t);
  const store = join(dir, 'credentials.json');
  await writeFile(store, JSON.stringify({ '127.0.0.1': { BasicHTTP: { username: 'carol', password: 'c4rol-pw' } } }));
  const settings = testSettings({ ociPlainHttp: [front.host] }, { HOME: dir, RATTLER_AUTH_FILE: store });
  const session = createSession({ settings, sleep: noSleep });
  t.after(() => session.close());
  const url = `oci://${front.host}/private/chan/linux-64/${PKG}`;
  const res = await session.fetch(url);
  assert.equal(res.status, 200);
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), BODY);
  assert.equal(front.seen[0], '', 'first contact carries nothing');
  assert.ok(front.seen.slice(1).every((h) => h.startsWith('Basic ')));
  const count = front.seen.length;
  const again = await session.fetch(url, { headers: { 'x-expected-sha256': pkg.sha256 } });
  await again.arrayBuffer();
  assert.deepEqual(front.seen.slice(count).map((h) => h.slice(0, 6)), ['Basic '], 'one request, Basic sent up front');
  assert.equal(reg.tokens.requests.length, 0);
});

test('a Basic-only registry without credentials: HTTP 401 from download, nothing written', { skip: SKIP }, async (t) => {
  const dir = await tempDir(t);
  const settings = testSettings({ ociPlainHttp: [front.host] }, { HOME: dir });
  const err = await download(`oci://${front.host}/private/chan/linux-64/${PKG}`, join(dir, PKG), { settings, sleep: noSleep })
    .catch((e: unknown) => e as GatewayError);
  assert.equal((err as GatewayError).code, 'CG_HTTP_STATUS');
  assert.match(String(err), /HTTP 401/);
});

test('.netrc credentials for the registry host answer the Basic challenge too', { skip: SKIP }, async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, '.netrc'), 'machine 127.0.0.1 login carol password c4rol-pw\n');
  const settings = testSettings({ ociPlainHttp: [front.host] }, { HOME: dir, NETRC: join(dir, '.netrc') });
  const result = await download(`oci://${front.host}/private/chan/linux-64/${PKG}`, join(dir, PKG), { settings, sha256: pkg.sha256, sleep: noSleep });
  assert.equal(result.bytes, BODY.length);
});
