/**
 * The CLI with an OCI registry (docker-registry on 127.0.0.1, token auth): `config` shows
 * oci:// mirrors with their source, `auth login` takes a registry URL, and `fetch` /
 * `repodata` of conda-forge go to the registry through `mirrors:`.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runHere } from '../config/run-in-process.js';
import { registryAvailable, startOciRegistry, type OciTestRegistry, type PushedPackage } from '../../helpers/servers/oci-registry.js';
import { bytes, tempDir } from '../../helpers/fs.js';
import { zstd } from '../../unit/repodata/fixtures.js';

const SKIP = registryAvailable() ? false : 'docker-registry is not installed (apt-get install docker-registry; see .ci/apt-packages)';
const CHANNEL = 'channel-mirrors/conda-forge';
const PKG = 'tzdata-2024a-h0c530f3_0.conda';
const BODY = bytes(50_000, 21);

let reg: OciTestRegistry;
let pkg: PushedPackage;
before(async () => {
  if (SKIP) return;
  reg = await startOciRegistry({ users: { bob: 'b0b-secret' }, anonymousPull: false });
  pkg = await reg.pushPackage(CHANNEL, 'noarch', PKG, BODY);
  const repodata = Buffer.from(JSON.stringify({
    info: { subdir: 'noarch' }, packages: {},
    'packages.conda': { [PKG]: { name: 'tzdata', version: '2024a', build: 'h0c530f3_0', sha256: pkg.sha256, size: BODY.length } },
  }));
  await reg.pushRepodata(CHANNEL, 'noarch', repodata, zstd(repodata));
});
after(async () => {
  if (!SKIP) await reg.close();
});

async function home(t: import('node:test').TestContext): Promise<{ dir: string; env: Record<string, string> }> {
  const dir = await tempDir(t);
  await writeFile(join(dir, '.condarc'), [
    'mirrors:',
    '  https://conda.anaconda.org/conda-forge:',
    `    - oci://${reg.host}/${CHANNEL}`,
    '    - https://mirror.example.invalid/conda-forge',
    'oci_plain_http:',
    `  - ${reg.host}`,
    '',
  ].join('\n'));
  return { dir, env: { HOME: dir, RATTLER_AUTH_FILE: join(dir, 'credentials.json') } };
}

test('config shows oci:// mirrors and oci_plain_http with the file and line they came from', { skip: SKIP }, async (t) => {
  const { dir, env } = await home(t);
  const r = await runHere(['config', '--json'], env, dir);
  assert.equal(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout) as { settings: Record<string, { value: unknown; source: string }> };
  assert.deepEqual(json.settings.mirrors?.value, {
    'https://conda.anaconda.org/conda-forge': [`oci://${reg.host}/${CHANNEL}`, 'https://mirror.example.invalid/conda-forge'],
  });
  assert.equal(json.settings.mirrors?.source, `${join(dir, '.condarc')}:1`);
  assert.deepEqual(json.settings.oci_plain_http?.value, [reg.host]);
  assert.deepEqual(json.settings.oci_encoding, { value: 'v0', source: 'default' });
  const text = await runHere(['config'], env, dir);
  assert.match(text.stdout, new RegExp(`oci://${reg.host.replace(/\./g, '\\.')}/channel-mirrors/conda-forge`));
});

test('auth login takes an oci:// registry URL; fetch and repodata of conda-forge then come from the private registry', { skip: SKIP }, async (t) => {
  const { dir, env } = await home(t);
  // Without credentials the private registry's token service says 401.
  const denied = await runHere(['repodata', 'conda-forge', '--subdir', 'noarch', '--cache-dir', join(dir, 'cache0'), '--json'], env, dir);
  assert.notEqual(denied.code, 0);
  assert.match(denied.stdout + denied.stderr, /401/);

  const login = await runHere(['auth', 'login', `oci://${reg.host}/${CHANNEL}`, '--username', 'bob', '--password', 'b0b-secret', '--json'], env, dir);
  assert.equal(login.code, 0, login.stderr);
  assert.equal((JSON.parse(login.stdout) as { host: string }).host, '127.0.0.1');
  assert.ok(!login.stdout.includes('b0b-secret') && !login.stderr.includes('b0b-secret'));

  const rd = await runHere(['repodata', 'conda-forge', '--subdir', 'noarch', '--cache-dir', join(dir, 'cache'), '--json'], env, dir);
  assert.equal(rd.code, 0, rd.stderr + rd.stdout);
  const result = (JSON.parse(rd.stdout) as { results: Array<{ packages: number; source: string; cachePath: string }> }).results[0]!;
  assert.equal(result.packages, 1);
  assert.equal(result.source, 'repodata.json.zst');
  assert.match(await readFile(result.cachePath, 'utf8'), /tzdata-2024a-h0c530f3_0\.conda/);

  // The registry URL itself as the channel.
  const direct = await runHere(['repodata', `oci://${reg.host}/${CHANNEL}`, '--subdir', 'noarch', '--cache-dir', join(dir, 'cache2'), '--json'], env, dir);
  assert.equal(direct.code, 0, direct.stderr + direct.stdout);
  assert.equal((JSON.parse(direct.stdout) as { results: Array<{ packages: number }> }).results[0]!.packages, 1);

  const spec = join(dir, 'explicit.txt');
  await writeFile(spec, `@EXPLICIT\nhttps://conda.anaconda.org/conda-forge/noarch/${PKG}#sha256=${pkg.sha256}\n`);
  const pkgsDir = join(dir, 'pkgs');
  const fetched = await runHere(['fetch', spec, '--pkgs-dir', pkgsDir, '--json', '--no-extract'], env, dir);
  assert.equal(fetched.code, 0, fetched.stderr + fetched.stdout);
  assert.deepEqual(await readFile(join(pkgsDir, PKG)), BODY);
  assert.ok(reg.tokens.requests.some((r) => r.user === 'bob' && r.status === 200));
  for (const out of [rd.stdout, rd.stderr, fetched.stdout, fetched.stderr]) {
    assert.ok(!out.includes('b0b-secret'));
    for (const token of reg.tokens.issued) assert.ok(!out.includes(token), 'a registry token leaked');
  }
});
