/** Repodata through random faults (quick size): the current index or a typed error; the cache never holds anything unpublished. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { repodataLine, runRepodataFaults } from './suites/repodata-faults.js';

test('150 repodata fetches through random faults return the current index or a typed error and never cache garbage', async (t) => {
  const c = await runRepodataFaults({ fetches: 150, seed: 17, faultRate: 0.3 });
  const line = repodataLine(c);
  t.diagnostic(line);
  console.log(line);
  assert.equal(c.fetches, 150);
  assert.equal(c.untyped, 0);
  assert.equal(c.wrongResult, 0);
  assert.equal(c.cacheCorrupt, 0);
  assert.ok(c.current > 100, 'most fetches succeed');
});
