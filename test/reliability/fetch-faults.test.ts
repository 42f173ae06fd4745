/** fetchPackages through random faults on two mirrors (quick size): verified or typed failure, never corrupt; a rerun completes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fetchFaultLine, runFetchFaults } from './suites/fetch-faults.js';

test('60 packages fetched from two faulty mirrors end verified or as typed failures, never corrupt, and a rerun completes the cache', async (t) => {
  const c = await runFetchFaults({ packages: 60, seed: 29, faultRate: 0.3 });
  const line = fetchFaultLine(c);
  t.diagnostic(line);
  console.log(line);
  assert.equal(c.fetchedFirstRun + c.failedFirstRun, 60);
  assert.equal(c.corruptAfterFirstRun, 0);
  assert.equal(c.completeAfterRerun, 60);
  assert.equal(c.corruptAfterRerun, 0);
  assert.equal(c.leftovers, 0);
});
