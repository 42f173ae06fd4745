/**
 * The long reliability runs, sized by arguments:
 *   npm run test:soak -- --transfers 2000 --repodata 1000 --crashes 50 --processes 8 --packages 50 --fuzz 10000
 *     [--chaos 3000] [--repodata-chaos 2000] [--fetch-packages 500] [--repodata-crashes 20] [--fault-rate 0.3] [--seed 1]
 *     [--only faults,chaos,fetch-faults,repodata-chaos,repodata,crash,concurrency,repodata-procs,fuzz]
 * Prints one counted line per suite and exits non-zero on any corrupt or unverified file,
 * leak, untyped error, crash or hang.
 */
import { parseArgs } from 'node:util';
import { rmSync } from 'node:fs';
import { runFaultTransfers, summarize } from '../reliability/suites/faults.js';
import {
  concurrencyLine, crashLine, killAmongLine, runConcurrent, runCrashes, runKillAmongPeers,
} from '../reliability/suites/fetch-procs.js';
import { fuzz, fuzzLine } from '../reliability/suites/fuzz-run.js';
import { repodataLine, runRepodataFaults } from '../reliability/suites/repodata-faults.js';
import { fetchFaultLine, runFetchFaults } from '../reliability/suites/fetch-faults.js';
import { chaosLine, runDownloadChaos } from '../reliability/suites/download-chaos.js';
import { repodataChaosLine, runRepodataChaos } from '../reliability/suites/repodata-chaos.js';
import {
  repodataConcurrencyLine, repodataCrashLine, runRepodataConcurrent, runRepodataCrashes,
} from '../reliability/suites/repodata-procs.js';
import { fuzzStateDir, fuzzTargets } from '../reliability/suites/fuzz-targets.js';

const { values } = parseArgs({
  options: {
    transfers: { type: 'string', default: '200' },
    'fault-rate': { type: 'string', default: '0.3' },
    crashes: { type: 'string', default: '20' },
    'crash-packages': { type: 'string', default: '8' },
    processes: { type: 'string', default: '8' },
    packages: { type: 'string', default: '50' },
    fuzz: { type: 'string', default: '10000' },
    repodata: { type: 'string', default: '1000' },
    'fetch-packages': { type: 'string', default: '500' },
    chaos: { type: 'string', default: '3000' },
    'repodata-chaos': { type: 'string', default: '2000' },
    'repodata-crashes': { type: 'string', default: '20' },
    seed: { type: 'string', default: '1' },
    only: { type: 'string' },
  },
});
const num = (name: keyof typeof values): number => {
  const n = Number(values[name]);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number, not '${String(values[name])}'`);
  return n;
};
const only = new Set((values.only ?? 'faults,chaos,fetch-faults,repodata-chaos,repodata,crash,concurrency,repodata-procs,fuzz').split(',').map((s) => s.trim()));
const seed = num('seed');
const failures: string[] = [];
const started = performance.now();
const say = (line: string): void => console.log(line);

if (only.has('faults')) {
  const t0 = performance.now();
  const c = await runFaultTransfers({ transfers: num('transfers'), seed, faultRate: num('fault-rate') });
  say(`${summarize(c)} [${((performance.now() - t0) / 1000).toFixed(0)} s]`);
  if (c.corrupt || c.unverified || c.badPartials || c.strayFiles || c.untypedErrors || c.retryAfterIgnored) failures.push('faults');
  if (c.verifiedFirstTry + c.verifiedAfterRerun !== c.transfers) failures.push('faults: not every transfer verified after a rerun');
}
if (only.has('chaos')) {
  const t0 = performance.now();
  const c = await runDownloadChaos({ cases: num('chaos'), seed });
  say(`${chaosLine(c)} [${((performance.now() - t0) / 1000).toFixed(0)} s]`);
  for (const u of c.untyped) say(`  ${u.slice(0, 600)}`);
  if (c.untyped.length || c.wrongFile || c.fileAfterError || c.rerunFailed) failures.push('download chaos');
}
if (only.has('fetch-faults')) {
  const t0 = performance.now();
  const c = await runFetchFaults({ packages: num('fetch-packages'), seed, faultRate: num('fault-rate') });
  say(`${fetchFaultLine(c)} [${((performance.now() - t0) / 1000).toFixed(0)} s]`);
  if (c.corruptAfterFirstRun || c.corruptAfterRerun || c.leftovers || c.completeAfterRerun !== c.packages) failures.push('fetch faults');
}
if (only.has('repodata-chaos')) {
  const t0 = performance.now();
  const c = await runRepodataChaos({ cases: num('repodata-chaos'), seed });
  say(`${repodataChaosLine(c)} [${((performance.now() - t0) / 1000).toFixed(0)} s]`);
  for (const u of c.untyped) say(`  ${u.slice(0, 600)}`);
  if (c.untyped.length || c.wrong || c.cacheCorrupt || c.rerunFailed) failures.push('repodata chaos');
}
if (only.has('repodata')) {
  const t0 = performance.now();
  const c = await runRepodataFaults({ fetches: num('repodata'), seed, faultRate: num('fault-rate') });
  say(`${repodataLine(c)} [${((performance.now() - t0) / 1000).toFixed(0)} s]`);
  if (c.untyped || c.wrongResult || c.cacheCorrupt) failures.push('repodata');
}
if (only.has('crash')) {
  const t0 = performance.now();
  const packages = num('crash-packages');
  const c = await runCrashes({ runs: num('crashes'), packages, seed });
  say(`${crashLine(c, packages)} [${((performance.now() - t0) / 1000).toFixed(0)} s]`);
  if (c.corruptAfterKill || c.strayAfterKill || c.rerunsFailed || c.corruptAfterRerun || c.partialsAfterRerun
    || c.completeVerified !== c.runs * packages) failures.push('crash');
  const peers = await runKillAmongPeers({ processes: num('processes'), kill: Math.floor(num('processes') / 2), packages: num('packages'), seed });
  say(killAmongLine(peers));
  if (peers.survivorsOk !== peers.survivors || peers.complete !== peers.packages || peers.corrupt || peers.leftovers) failures.push('crash among peers');
}
if (only.has('concurrency')) {
  const t0 = performance.now();
  const c = await runConcurrent({ processes: num('processes'), packages: num('packages'), seed });
  say(`${concurrencyLine(c)} [${((performance.now() - t0) / 1000).toFixed(0)} s]`);
  if (c.exitedOk !== c.processes || c.complete !== c.packages || c.corrupt || c.leftovers || c.transferredMoreThanOnce) failures.push('concurrency');
}
if (only.has('repodata-procs')) {
  const t0 = performance.now();
  const crashes = await runRepodataCrashes({ runs: num('repodata-crashes'), seed });
  say(repodataCrashLine(crashes));
  const conc = await runRepodataConcurrent({ processes: num('processes'), seed });
  say(`${repodataConcurrencyLine(conc)} [${((performance.now() - t0) / 1000).toFixed(0)} s]`);
  if (crashes.corruptAfterKill || crashes.rerunsOk !== crashes.runs || crashes.validAfterRerun !== crashes.runs || crashes.tempsAfterRerun) {
    failures.push('repodata crash');
  }
  if (conc.exitedOk !== conc.processes || !conc.valid || conc.indexRequests !== 1) failures.push('repodata concurrency');
}
if (only.has('fuzz')) {
  const t0 = performance.now();
  let cases = 0;
  for (const target of fuzzTargets()) {
    const c = await fuzz(target, num('fuzz'), seed);
    cases += c.cases;
    say(fuzzLine(c));
    for (const example of c.examples) say(`  ${example}`);
    if (c.defects || c.leaks) failures.push(`fuzz ${c.name}${target.knownDefect ? ' (known, reported)' : ''}`);
  }
  say(`fuzz: ${fuzzTargets().length} parsers, ${cases} cases in total [${((performance.now() - t0) / 1000).toFixed(0)} s]`);
  const dir = fuzzStateDir();
  if (dir) rmSync(dir, { recursive: true, force: true });
}
say(`soak: ${failures.length === 0 ? 'all counts clean' : `FAILED: ${failures.join(', ')}`} in ${((performance.now() - started) / 1000).toFixed(0)} s (seed ${seed})`);
process.exitCode = failures.length === 0 ? 0 : 1;
