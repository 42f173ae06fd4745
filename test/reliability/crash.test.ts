/** Crash (quick size): conda-gateway fetch killed with SIGKILL at random moments, then rerun: the cache ends complete and verified. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crashLine, killAmongLine, runCrashes, runKillAmongPeers } from './suites/fetch-procs.js';

const RUNS = 4;
const PACKAGES = 8;

test('fetch killed with SIGKILL at random moments leaves no corrupt file, and the rerun completes and verifies the cache', async (t) => {
  const c = await runCrashes({ runs: RUNS, packages: PACKAGES, seed: 11 });
  const line = crashLine(c, PACKAGES);
  t.diagnostic(line);
  console.log(line);
  assert.equal(c.runs, RUNS);
  assert.equal(c.corruptAfterKill, 0);
  assert.equal(c.strayAfterKill, 0);
  assert.equal(c.rerunsOk, RUNS);
  assert.equal(c.completeVerified, RUNS * PACKAGES);
  assert.equal(c.corruptAfterRerun, 0);
  assert.equal(c.partialsAfterRerun, 0);
});

test('peers sharing a pkgs dir finish everything when some of them are killed holding or waiting for locks', async (t) => {
  const c = await runKillAmongPeers({ processes: 4, kill: 2, packages: 12, seed: 31 });
  const line = killAmongLine(c);
  t.diagnostic(line);
  console.log(line);
  assert.equal(c.survivorsOk, c.survivors);
  assert.equal(c.complete, c.packages);
  assert.equal(c.corrupt, 0);
  assert.equal(c.leftovers, 0);
});
