/** conda-gateway repodata as real processes (quick size): SIGKILL mid-transfer then rerun; many processes on one cache. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  repodataConcurrencyLine, repodataCrashLine, runRepodataConcurrent, runRepodataCrashes,
} from './suites/repodata-procs.js';

test('repodata killed with SIGKILL mid-transfer never leaves a broken index, and the rerun fills the cache', async (t) => {
  const c = await runRepodataCrashes({ runs: 3, seed: 19 });
  const line = repodataCrashLine(c);
  t.diagnostic(line);
  console.log(line);
  assert.equal(c.corruptAfterKill, 0);
  assert.equal(c.rerunsOk, c.runs);
  assert.equal(c.validAfterRerun, c.runs);
  assert.equal(c.tempsAfterRerun, 0, 'the rerun removes the temp files killed runs left');
});

test('6 repodata processes on one cache leave it valid and transfer the index once', async (t) => {
  const c = await runRepodataConcurrent({ processes: 6, seed: 23 });
  const line = repodataConcurrencyLine(c);
  t.diagnostic(line);
  console.log(line);
  assert.equal(c.exitedOk, c.processes);
  assert.ok(c.valid);
  assert.equal(c.indexRequests, 1);
});
