/** Random faults (quick size): every download ends verified or as a typed error, never a corrupt file. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runFaultTransfers, summarize } from './suites/faults.js';

test('200 downloads through random faults end verified or as a typed error, never corrupt or unverified', async (t) => {
  const counts = await runFaultTransfers({ transfers: 200, seed: 7, faultRate: 0.3 });
  const line = summarize(counts);
  t.diagnostic(line);
  console.log(line);
  assert.equal(counts.transfers, 200);
  assert.equal(counts.corrupt, 0);
  assert.equal(counts.unverified, 0);
  assert.equal(counts.badPartials, 0);
  assert.equal(counts.strayFiles, 0);
  assert.equal(counts.untypedErrors, 0);
  assert.equal(counts.verifiedFirstTry + counts.verifiedAfterRerun, 200, 'every transfer verifies, at the latest on a rerun');
  assert.equal(counts.retryAfterIgnored, 0);
  assert.ok(Object.values(counts.faultsInjected).reduce((a, b) => a + b, 0) > 200, 'faults were injected');
});
