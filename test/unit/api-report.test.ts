/**
 * The public surface is reviewed, not discovered: the committed API report must match what
 * the entry points in package.json `exports` export. After an intended change run
 * `npm run api-report` and commit api/conda-gateway.api.md with it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
// @ts-expect-error: a plain ESM script without types
import { apiLeaks, apiReport, REPORT_PATH } from '../../scripts/api-report.mjs';

test('the committed API report matches the exported surface', () => {
  const committed = readFileSync(REPORT_PATH as string, 'utf8');
  const current = (apiReport as () => string)();
  if (committed === current) return;
  const a = committed.split('\n');
  const b = current.split('\n');
  const firstDiff = b.findIndex((line, i) => line !== a[i]);
  assert.fail(`the public API changed (run \`npm run api-report\` and commit api/conda-gateway.api.md if intended).\n` +
    `first difference at line ${firstDiff + 1}:\n  committed: ${a[firstDiff] ?? '(end)'}\n  current:   ${b[firstDiff] ?? '(end)'}`);
});

test('the root export holds what the README documents, not the building blocks', async () => {
  const root = await import('../../src/index.js');
  const names = Object.keys(root);
  for (const name of ['loadSettings', 'loadCondaSettings', 'getSession', 'closeSessions', 'download', 'downloadText',
    'fetchPackages', 'fetchRepodata', 'isGatewayError', 'GatewayError', 'PluginRegistry', 'SafeUrl']) {
    assert.ok(names.includes(name), `${name} is documented and exported`);
  }
  for (const name of ['decide', 'closureOf', 'LOCK_BYTE', 'nodeBodyOf', 'lockFile', 'parseState', 'createZstdDecoder']) {
    assert.ok(!names.includes(name), `${name} stays under a subpath`);
  }
});

test('every type a public signature names can be imported (the root exports all its own)', () => {
  assert.deepEqual((apiLeaks as () => string[])(), []);
});
