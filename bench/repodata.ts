/**
 * bench/repodata: a generated conda-forge-sized index (~250 MB of JSON, ~200k records) served as
 * repodata.json.zst from a local server in its own process. Our cold fetchRepodata (fetch + streaming
 * zstd decode + cache write + JSON parse + state file) against `curl | zstd -d > file` in the same run,
 * with our peak RSS; then 20 subdirs revalidated (304) in parallel. Not part of npm test.
 *
 *   npx tsx bench/repodata.ts [--records 200000] [--runs 3] [--small-records 1000]
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureIndex } from './repodata-data.js';

const args = process.argv.slice(2);
const opt = (name: string, def: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const records = opt('records', 260_000);
const smallRecords = opt('small-records', 1000);
const runs = opt('runs', 3);
const root = fileURLToPath(new URL('.', import.meta.url));
const dataDir = join(root, '.data', 'repodata');
const ensureData = (name: string, count: number) => ensureIndex(dataDir, name, count);
const outDir = join(dataDir, 'out');
mkdirSync(outDir, { recursive: true });

function startServer(): Promise<{ port: number; stop: () => void }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, 'repodata-server.mjs'), dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.once('data', (d: Buffer) => resolve({ port: Number(d.toString().trim()), stop: () => child.kill() }));
  });
}

function curlPipeline(url: string, target: string): number {
  const started = performance.now();
  const r = spawnSync('bash', ['-c', `set -o pipefail; curl -s -f '${url}' | zstd -d -q > '${target}'`]);
  if (r.status !== 0) throw new Error(`curl | zstd failed: ${r.stderr}`);
  return (performance.now() - started) / 1000;
}

interface ChildResult { seconds: number; maxRssKiB: number; [key: string]: unknown }
function child(...childArgs: string[]): ChildResult {
  const tsx = join(root, '..', 'node_modules', 'tsx', 'dist', 'loader.mjs');
  const r = spawnSync(process.execPath, ['--max-old-space-size=8192', '--import', `file://${tsx}`, join(root, 'repodata-child.ts'), ...childArgs],
    { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as ChildResult;
}

const big = await ensureData('big', records);
await ensureData('small', smallRecords);
const jsonMB = statSync(big.json).size / 1e6;
const zstMB = statSync(big.zst).size / 1e6;
const server = await startServer();
const channel = `http://127.0.0.1:${server.port}`;
const curlTimes: number[] = [];
const ourTimes: number[] = [];
let peakRss = 0;
let parseOnly = Infinity;
let decodeOnly = Infinity;
try {
  for (let i = 0; i < runs; i++) {
    const target = join(outDir, 'curl.json');
    rmSync(target, { force: true });
    curlTimes.push(curlPipeline(`${channel}/big/repodata.json.zst`, target));
    const cacheDir = join(outDir, `cache-${i}`);
    rmSync(cacheDir, { recursive: true, force: true });
    const ours = child('cold', channel, 'big', cacheDir);
    if (ours.cacheResult !== 'miss') throw new Error(`expected a miss, got ${String(ours.cacheResult)}`);
    ourTimes.push(ours.seconds);
    peakRss = Math.max(peakRss, ours.maxRssKiB);
    rmSync(cacheDir, { recursive: true, force: true });
    parseOnly = Math.min(parseOnly, child('parse', big.json).seconds);
    decodeOnly = Math.min(decodeOnly, child('decode', big.zst).seconds);
  }
  const subdirs = Array.from({ length: 20 }, (_, i) => `small-${String(i).padStart(2, '0')}`);
  const cacheDir = join(outDir, 'cache-many');
  rmSync(cacheDir, { recursive: true, force: true });
  const warm = child('many', channel, cacheDir, '1', ...subdirs);
  const revalidated = child('many', channel, cacheDir, '0', ...subdirs);
  const hits = child('many', channel, cacheDir, '1', ...subdirs);
  const best = (xs: number[]): number => Math.min(...xs);
  const { loadavg } = await import('node:os');
  console.log(`load average at the end: ${loadavg().map((x) => x.toFixed(1)).join(' ')} (2 cores shared with other work)`);
  console.log(`index: ${records} records, ${jsonMB.toFixed(0)} MB JSON, ${zstMB.toFixed(1)} MB .zst; best of ${runs} runs each, same local server process`);
  console.log(`curl | zstd -d > file:            ${best(curlTimes).toFixed(2)} s`);
  console.log(`fetchRepodata cold (fetch + decode + cache + parse): ${best(ourTimes).toFixed(2)} s`);
  console.log(`ratio (ours/curl):                ${(best(ourTimes) / best(curlTimes)).toFixed(2)}`);
  console.log(`  of which JSON.parse alone:      ${parseOnly.toFixed(2)} s (read + parse of the same file in a fresh process)`);
  console.log(`  of which zstd decoding alone:  ${decodeOnly.toFixed(2)} s (our streaming decoder from disk, ${process.versions.node})`);
  console.log(`our peak RSS:                     ${(peakRss / 1024).toFixed(0)} MB`);
  console.log(`20 subdirs x ${smallRecords} records: cold ${warm.seconds.toFixed(2)} s ${JSON.stringify(warm.results)}, ` +
    `revalidated (ttl 0) ${revalidated.seconds.toFixed(2)} s ${JSON.stringify(revalidated.results)}, ` +
    `fresh ${hits.seconds.toFixed(2)} s ${JSON.stringify(hits.results)}`);
} finally {
  server.stop();
  rmSync(outDir, { recursive: true, force: true });
}
