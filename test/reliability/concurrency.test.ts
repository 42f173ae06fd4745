/** Concurrency (quick size): 8 fetch processes share one pkgs dir; nothing corrupt, each file transferred once. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { concurrencyLine, runConcurrent } from './suites/fetch-procs.js';

const PROCESSES = 8;
const PACKAGES = 50;

test('8 processes fetching the same 50 packages into one pkgs dir corrupt nothing and transfer each file once', async (t) => {
  const c = await runConcurrent({ processes: PROCESSES, packages: PACKAGES, seed: 13 });
  const line = concurrencyLine(c);
  t.diagnostic(line);
  console.log(line);
  assert.equal(c.exitedOk, PROCESSES);
  assert.equal(c.complete, PACKAGES);
  assert.equal(c.corrupt, 0);
  assert.equal(c.leftovers, 0);
  assert.equal(c.transferredMoreThanOnce, 0, 'the server saw one request per file');
  assert.equal(c.requests, PACKAGES);
});
