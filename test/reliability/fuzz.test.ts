/** Fuzzing (quick size): every parser of outside input returns or throws a typed GatewayError; no crash, hang or leak. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { fuzz, fuzzLine } from './suites/fuzz-run.js';
import { fuzzStateDir, fuzzTargets } from './suites/fuzz-targets.js';

const RUNS = Number(process.env.CG_FUZZ_RUNS ?? 1000);
const SEED = Number(process.env.CG_FUZZ_SEED ?? 20261125);

after(() => {
  const dir = fuzzStateDir();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

for (const target of fuzzTargets()) {
  const options = target.knownDefect ? { todo: target.knownDefect } : {};
  test(`fuzz: ${target.name} gives only typed errors, never a crash, hang or leak`, options, async (t) => {
    const counts = await fuzz(target, RUNS, SEED);
    const line = fuzzLine(counts);
    t.diagnostic(line);
    console.log(line);
    for (const example of counts.examples) t.diagnostic(`  ${example}`);
    assert.equal(counts.cases, RUNS);
    assert.equal(counts.defects, 0, counts.examples.join('\n'));
    assert.equal(counts.leaks, 0, counts.examples.join('\n'));
  });
}

test('a 12-byte zstd frame declaring a huge window is refused at once, without allocating it', async () => {
  const { decodeZstd } = await import('../../src/repodata/zst.js');
  const started = performance.now();
  const rssBefore = process.memoryUsage().rss;
  await assert.rejects(decodeZstd(Uint8Array.from([40, 181, 47, 253, 21, 165, 68, 235, 148, 125, 8, 133])));
  assert.ok(performance.now() - started < 500, 'refused quickly');
  assert.ok(process.memoryUsage().rss - rssBefore < 256 * 1024 * 1024, 'no huge allocation');
});

test('a channel_settings pattern with many * is matched in linear time, not by backtracking', async () => {
  const { spawnSync } = await import('node:child_process');
  const { pathToFileURL } = await import('node:url');
  const module = pathToFileURL(new URL('../../src/auth/select-handler.ts', import.meta.url).pathname).href;
  const script = `const m = await import(${JSON.stringify(module)});
    m.selectAuthHandlerName(new URL('https://repo.example.com/' + 'a'.repeat(40)), undefined,
      [{ channel: 'https://repo.example.com/' + '*a'.repeat(14) + 'X', auth: 'h' }]);`;
  const started = performance.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 3000, encoding: 'utf8' });
  assert.equal(r.signal, null, `still matching after ${Math.round(performance.now() - started)} ms`);
  assert.equal(r.status, 0, r.stderr);
});
