/**
 * Fewer token round trips against a real registry (Debian's docker-registry with the JWT
 * token server of the test helpers): one first contact per registry, tokens asked for
 * before the request once the realm is known, one token for many repositories when
 * fetchPackages names them up front, and the fallbacks when that token is not enough
 * (partial grant, a token refused as a whole, a token service that takes one scope).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fetchPackages } from '../../../src/index.js';
import { createSession } from '../../../src/session/index.js';
import { registryAvailable, startOciRegistry, type OciTestRegistry, type TokenServerOptions } from '../../helpers/servers/oci-registry.js';
import { bytes, sha256, tempDir } from '../../helpers/fs.js';
import { noSleep, testSettings } from '../../helpers/settings.js';

const SKIP = registryAvailable() ? false : 'docker-registry is not installed (apt-get install docker-registry; see .ci/apt-packages)';
const CHANNEL = 'channel-mirrors/conda-forge';
const SUBDIR = 'linux-64';
/** Five packages, five repositories; sizes fall, so fetchPackages starts them in this order. */
const NAMES = ['alpha', 'bravo', 'charlie', 'delta', 'echo'];
const bodyOf = (i: number) => bytes(50_000 - i * 5_000, 20 + i);
const fileOf = (name: string) => `${name}-1.0-h0_0.conda`;
const scopeOf = (name: string) => `repository:${CHANNEL}/${SUBDIR}/${name}:pull`;

let shared: OciTestRegistry;

async function filled(opts: TokenServerOptions = {}): Promise<OciTestRegistry> {
  const reg = await startOciRegistry(opts);
  for (const [i, name] of NAMES.entries()) await reg.pushPackage(CHANNEL, SUBDIR, fileOf(name), bodyOf(i));
  return reg;
}

before(async () => {
  if (!SKIP) shared = await filled();
});
after(async () => {
  if (!SKIP) await shared.close();
});

function settings(reg: OciTestRegistry, extra: Parameters<typeof testSettings>[0] = {}) {
  return testSettings({ ociPlainHttp: [reg.relayHost, reg.host], ...extra }, { HOME: '/nonexistent' });
}

const specs = (reg: OciTestRegistry) => NAMES.map((name, i) =>
  `oci://${reg.relayHost}/${CHANNEL}/${SUBDIR}/${fileOf(name)}#sha256=${sha256(bodyOf(i))}`);

async function fetchAll(t: import('node:test').TestContext, reg: OciTestRegistry, jobs: number) {
  const pkgsDir = await tempDir(t);
  const logs: string[] = [];
  const tokens = reg.tokens.requests.length;
  const answers = reg.answers.length;
  const summary = await fetchPackages(specs(reg), {
    pkgsDir, settings: settings(reg), jobs, sleep: noSleep, extract: false, log: (m) => logs.push(m), // the blobs are not archives
  });
  assert.equal(summary.failed, 0, JSON.stringify(summary.failures));
  assert.equal(summary.fetched, NAMES.length);
  for (const [i, name] of NAMES.entries()) assert.deepEqual(await readFile(join(pkgsDir, fileOf(name))), bodyOf(i));
  // Tokens are secrets: none in a log line.
  for (const token of reg.tokens.issued) assert.ok(!logs.join('\n').includes(token), 'a token leaked into the log');
  return { tokenRequests: reg.tokens.requests.slice(tokens), answers: reg.answers.slice(answers), logs };
}

const blobAnswers = (answers: OciTestRegistry['answers'], name: string) =>
  answers.filter((a) => a.request.includes(`/${SUBDIR}/${name}/blobs/`));

test('one first contact per registry: concurrent requests of a fresh session take one 401, then send tokens up front', { skip: SKIP }, async (t) => {
  const session = createSession({ settings: settings(shared), sleep: noSleep });
  t.after(() => session.close());
  const answers = shared.answers.length;
  const tokens = shared.tokens.requests.length;
  const responses = await Promise.all(NAMES.map((name) => session.fetch(`oci://${shared.relayHost}/${CHANNEL}/${SUBDIR}/${fileOf(name)}`)));
  for (const res of responses) {
    assert.equal(res.status, 200);
    await res.arrayBuffer();
  }
  const seen = shared.answers.slice(answers);
  assert.equal(seen.filter((a) => a.status === 401).length, 1, JSON.stringify(seen));
  assert.equal(seen.filter((a) => !a.authorized).length, 1, 'only the first contact went without a token');
  // No hint here: one token per repository, each asked for before its request (pre-emptive).
  assert.deepEqual(shared.tokens.requests.slice(tokens).map((r) => r.scopes.length), [1, 1, 1, 1, 1]);
  // A repository first seen later goes with its token at once, no 401.
  const later = shared.answers.length;
  const again = await session.fetch(`oci://${shared.relayHost}/${CHANNEL}/${SUBDIR}/${fileOf('alpha')}`);
  await again.arrayBuffer();
  assert.deepEqual(shared.answers.slice(later).map((a) => [a.status, a.authorized]), [[200, true], [200, true]]);
});

test('fetchPackages asks one token for all the repositories it will pull (several scope parameters)', { skip: SKIP }, async (t) => {
  const { tokenRequests, answers } = await fetchAll(t, shared, 3);
  assert.equal(tokenRequests.length, 1, JSON.stringify(tokenRequests));
  assert.deepEqual(tokenRequests[0]!.scopes, NAMES.map(scopeOf), 'in the order the downloads start');
  assert.equal(answers.filter((a) => a.status === 401).length, 1, 'the first contact only');
  for (const name of NAMES) assert.ok(blobAnswers(answers, name).some((a) => a.status === 200 && a.authorized), name);
});

test('a partial grant: repositories the batch token does not cover get a token of their own, once', { skip: SKIP }, async (t) => {
  const reg = await filled({ maxGrantsPerToken: 2 });
  t.after(() => reg.close());
  const { tokenRequests, answers, logs } = await fetchAll(t, reg, 1);
  // One batch (granted: alpha, bravo), then charlie, delta and echo alone.
  assert.deepEqual(tokenRequests.map((r) => r.scopes), [NAMES.map(scopeOf), [scopeOf('charlie')], [scopeOf('delta')], [scopeOf('echo')]]);
  for (const name of ['charlie', 'delta', 'echo']) {
    assert.deepEqual(blobAnswers(answers, name).map((a) => [a.status, a.error]), [[401, 'insufficient_scope'], [200, undefined]], name);
  }
  assert.deepEqual(blobAnswers(answers, 'bravo').map((a) => a.status), [200]);
  assert.ok(logs.some((l) => /does not cover repository:.*charlie:pull; fetching one for it alone/.test(l)));
});

test('a partial grant with concurrent downloads: every package arrives, at most one extra request per repository left out', { skip: SKIP }, async (t) => {
  const reg = await filled({ maxGrantsPerToken: 2 });
  t.after(() => reg.close());
  const { tokenRequests } = await fetchAll(t, reg, 4);
  const batches = tokenRequests.filter((r) => r.scopes.length > 1);
  const singles = tokenRequests.filter((r) => r.scopes.length === 1);
  assert.ok(batches.length >= 1 && batches.length <= 2, `one batch, and at most one refresh of it: ${JSON.stringify(tokenRequests)}`);
  assert.ok(singles.length <= 3, JSON.stringify(tokenRequests));
  assert.ok(singles.every((r) => ['charlie', 'delta', 'echo'].some((n) => r.scope === scopeOf(n))), JSON.stringify(singles));
});

test('a batch token the registry refuses as a whole (expired): one refresh for all the repositories, then no more', { skip: SKIP }, async (t) => {
  const reg = await filled();
  t.after(() => reg.close());
  reg.tokens.expireNext(1);
  const { tokenRequests, answers, logs } = await fetchAll(t, reg, 4);
  assert.deepEqual(tokenRequests.map((r) => r.scopes), [NAMES.map(scopeOf), NAMES.map(scopeOf)], 'the batch, then one refresh of it');
  assert.ok(answers.some((a) => a.status === 401 && a.error === 'invalid_token'));
  assert.ok(logs.some((l) => /refused a token for 5 repositories \(invalid_token\)/.test(l)));
  for (const name of NAMES) assert.equal(blobAnswers(answers, name).at(-1)?.status, 200, name);
  for (const name of NAMES) assert.ok(blobAnswers(answers, name).length <= 3, `${name}: at most the first contact, the refused token and the fresh one`);
});

test('a token service that takes one scope per request: batching stops for that registry, one token per repository', { skip: SKIP }, async (t) => {
  const reg = await filled({ singleScopeOnly: true });
  t.after(() => reg.close());
  const { tokenRequests, logs } = await fetchAll(t, reg, 1);
  assert.deepEqual(tokenRequests.map((r) => [r.scopes.length, r.status]), [[5, 400], [1, 200], [1, 200], [1, 200], [1, 200], [1, 200]]);
  assert.ok(logs.some((l) => /refused a request for several repositories \(400\); asking for one at a time/.test(l)));
});

test('batches are per credentials: a user\'s batch token goes to the token service with the user\'s credentials', { skip: SKIP }, async (t) => {
  const reg = await filled({ users: { alice: 's3cret-pw' }, anonymousPull: false });
  t.after(() => reg.close());
  const pkgsDir = await tempDir(t);
  const withUser = specs(reg).map((u) => u.replace('oci://', 'oci://alice:s3cret-pw@'));
  const logs: string[] = [];
  const summary = await fetchPackages(withUser, { pkgsDir, settings: settings(reg), jobs: 2, sleep: noSleep, extract: false, log: (m) => logs.push(m) });
  assert.equal(summary.failed, 0, JSON.stringify(summary.failures));
  assert.deepEqual(reg.tokens.requests.map((r) => [r.user, r.scopes.length, r.status]), [['alice', 5, 200]]);
  assert.ok(!logs.join('\n').includes('s3cret-pw'));
  for (const token of reg.tokens.issued) assert.ok(!JSON.stringify(summary).includes(token));
});
