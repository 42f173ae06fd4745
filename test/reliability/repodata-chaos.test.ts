/** fetchRepodata against scripted hostile servers (quick size): the published index or a typed error; the cache never holds garbage. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { repodataChaosLine, runRepodataChaos } from './suites/repodata-chaos.js';

test('repodata from 150 scripted hostile servers is the published index or a typed error, and the cache never holds garbage', async (t) => {
  const c = await runRepodataChaos({ cases: 150, seed: 43 });
  const line = repodataChaosLine(c);
  t.diagnostic(line);
  console.log(line);
  for (const u of c.untyped) t.diagnostic(`  ${u}`);
  assert.equal(c.cases, 150);
  assert.deepEqual(c.untyped, []);
  assert.equal(c.wrong, 0);
  assert.equal(c.cacheCorrupt, 0);
  assert.equal(c.rerunFailed, 0);
});
