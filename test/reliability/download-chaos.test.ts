/** download() against scripted hostile servers (quick size): right bytes or a typed error, never a wrong file or invalid partial. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chaosLine, runDownloadChaos } from './suites/download-chaos.js';

test('download against 300 scripted hostile servers returns the right bytes or a typed error, never a wrong file', async (t) => {
  const c = await runDownloadChaos({ cases: 300, seed: 37 });
  const line = chaosLine(c);
  t.diagnostic(line);
  console.log(line);
  for (const u of c.untyped) t.diagnostic(`  untyped: ${u}`);
  assert.equal(c.cases, 300);
  assert.deepEqual(c.untyped, []);
  assert.equal(c.wrongFile, 0);
  assert.equal(c.fileAfterError, 0);
  assert.equal(c.rerunFailed, 0);
});
