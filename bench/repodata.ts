/**
 * bench/repodata: a generated conda-forge-sized index (~250 MB of JSON, 260k records) served as
 * repodata.json.zst from a local server in its own process, each measurement against its
 * reference in the same run (medians of --runs, each ours in a fresh process for its peak RSS):
 *   cold cache-only fetchRepodata            vs `curl | zstd -d > file`
 *   recordsFor(10 names) on the cached index vs records() (full parse) of the same cache
 *   records() (full parse)                   vs read + JSON.parse of the same file
 *   warm hit                                 vs `cat file > /dev/null`
 *   20 subdirs revalidated (304)             vs one `curl --parallel` of the same 20 conditional GETs
 *   sharded closure, 500 shards, 6 levels, 20 ms per request, h1 and h2
 *                                            vs (levels + 1) x 20 ms + the same closure at 0 ms
 * Not part of npm test.
 *
 *   npx tsx bench/repodata.ts [--records 260000] [--runs 3] [--small-records 1000] [--delay-ms 20]
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI, measure, requireBuild, type Measured } from './lib.js';
import { ensureIndex, ensureShardTree } from './repodata-data.js';

const args = process.argv.slice(2);
const opt = (name: string, def: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const records = opt('records', 260_000);
const smallRecords = opt('small-records', 1000);
const runs = opt('runs', 3);
const delayMs = opt('delay-ms', 20);
/** --cold-only: just the cold fetch rows (for quick iterations). */
const coldOnly = args.includes('--cold-only');
/** --baseline <checkout>/bin/conda-gateway.js: the cold CLI row again with another build, in the same run. */
const baselineAt = args.indexOf('--baseline');
const baseline = baselineAt >= 0 ? args[baselineAt + 1] : undefined;
const root = fileURLToPath(new URL('.', import.meta.url));
const dataDir = join(root, '.data', 'repodata');
const ensureData = (name: string, count: number) => ensureIndex(dataDir, name, count);
const outDir = join(dataDir, 'out');
mkdirSync(outDir, { recursive: true });

function startServer(script = 'repodata-server.mjs', args: string[] = [dataDir]): Promise<{ port: number; stop: () => void }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, script), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.once('data', (d: Buffer) => resolve({ port: Number(d.toString().trim()), stop: () => child.kill() }));
  });
}

function timed(command: string): number {
  const started = performance.now();
  const r = spawnSync('bash', ['-c', `set -o pipefail; ${command}`]);
  if (r.status !== 0) throw new Error(`${command} failed: ${r.stderr}`);
  return (performance.now() - started) / 1000;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

function curlPipeline(url: string, target: string): number {
  const started = performance.now();
  const r = spawnSync('bash', ['-c', `set -o pipefail; curl -s -f '${url}' | zstd -d -q > '${target}'`]);
  if (r.status !== 0) throw new Error(`curl | zstd failed: ${r.stderr}`);
  return (performance.now() - started) / 1000;
}

interface ChildResult { seconds: number; maxRssKiB: number; [key: string]: unknown }
/** One measurement in a fresh process over the built dist/ (plain node, no tsx). */
function child(...childArgs: string[]): ChildResult {
  const r = spawnSync(process.execPath, ['--max-old-space-size=8192', join(root, 'repodata-child.mjs'), ...childArgs],
    { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as ChildResult;
}

requireBuild();
const big = await ensureData('big', records);
await ensureData('small', smallRecords);
const jsonMB = statSync(big.json).size / 1e6;
const zstMB = statSync(big.zst).size / 1e6;
const server = await startServer();
const channel = `http://127.0.0.1:${server.port}`;
const NAMES = ['pkg-0-core', 'pkg-1-lib', 'pkg-2-py', 'pkg-3-tools', 'pkg-a-core', 'pkg-b-lib', 'pkg-c-py', 'pkg-d-tools', 'pkg-z-core', 'pkg-1a-lib'];
const m: Record<string, number[]> = {};
const put = (key: string, v: number): void => {
  (m[key] ??= []).push(v);
};
const { zstdBackend } = await import('../src/repodata/index.js');
const backend = await zstdBackend();
const cpu: Record<string, number[]> = {};
/** Whole processes under GNU time: wall, CPU (children included) and peak RSS. */
const putMeasured = (key: string, r: Measured): void => {
  put(key, r.seconds);
  put(`${key}Rss`, r.maxRssMB);
  (cpu[key] ??= []).push(r.cpuSeconds);
};
try {
  for (let i = 0; i < runs; i++) {
    const target = join(outDir, 'curl.json');
    rmSync(target, { force: true });
    put('curl', curlPipeline(`${channel}/big/repodata.json.zst`, target));
    rmSync(target, { force: true });
    putMeasured('curlTimed', measure('bash', ['-c', `set -o pipefail; curl -s -f '${channel}/big/repodata.json.zst' | zstd -d -q > '${target}'`]));
    rmSync(target, { force: true });
    const cliCache = join(outDir, `cli-cache-${i}`);
    rmSync(cliCache, { recursive: true, force: true });
    if (baseline) {
      putMeasured('cliColdBase', measure(process.execPath, [baseline, '-q', 'repodata', channel, '--subdir', 'big', '--cache-dir', cliCache],
        { env: { ...process.env, CONDA_GATEWAY_NO_PROGRESS: '1' } }));
      rmSync(cliCache, { recursive: true, force: true });
    }
    putMeasured('cliCold', measure(process.execPath, [CLI, '-q', 'repodata', channel, '--subdir', 'big', '--cache-dir', cliCache],
      { env: { ...process.env, CONDA_GATEWAY_NO_PROGRESS: '1' } }));
    rmSync(cliCache, { recursive: true, force: true });
    if (baseline) {
      putMeasured('cliColdBase', measure(process.execPath, [baseline, '-q', 'repodata', channel, '--subdir', 'big', '--cache-dir', cliCache],
        { env: { ...process.env, CONDA_GATEWAY_NO_PROGRESS: '1' } }));
      rmSync(cliCache, { recursive: true, force: true });
    }
    const cacheDir = join(outDir, `cache-${i}`);
    rmSync(cacheDir, { recursive: true, force: true });
    const cold = child('cold', channel, 'big', cacheDir);
    if (cold.cacheResult !== 'miss') throw new Error(`expected a miss, got ${String(cold.cacheResult)}`);
    put('cold', cold.seconds);
    put('coldRss', cold.maxRssKiB / 1024);
    if (coldOnly) continue;
    const hit = child('hit', channel, 'big', cacheDir);
    put('hit', hit.seconds);
    const cacheFile = readdirSync(cacheDir).find((f) => /^[0-9a-f]{8}\.json$/.test(f))!;
    put('cat', timed(`cat '${join(cacheDir, cacheFile)}' > /dev/null`));
    const some = child('some', channel, 'big', cacheDir, ...NAMES);
    put('some', some.seconds);
    put('someRss', some.maxRssKiB / 1024);
    put('someRecords', Number(some.records));
    const full = child('full', channel, 'big', cacheDir);
    put('full', full.seconds);
    put('fullRss', full.maxRssKiB / 1024);
    const parse = child('parse', big.json);
    put('parse', parse.seconds);
    put('parseRss', parse.maxRssKiB / 1024);
    rmSync(cacheDir, { recursive: true, force: true });
  }
  if (coldOnly) {
    server.stop();
    printCold();
    process.exit(0);
  }
  const subdirs = Array.from({ length: 20 }, (_, i) => `small-${String(i).padStart(2, '0')}`);
  const cacheDir = join(outDir, 'cache-many');
  rmSync(cacheDir, { recursive: true, force: true });
  child('many', channel, cacheDir, '1', ...subdirs);
  const etag = spawnSync('curl', ['-sI', `${channel}/small-00/repodata.json.zst`], { encoding: 'utf8' }).stdout.match(/etag: (\S+)/i)?.[1] ?? '';
  for (let i = 0; i < runs; i++) {
    put('revalidate', child('many', channel, cacheDir, '0', ...subdirs).seconds);
    const urls = subdirs.map((s) => `'${channel}/${s}/repodata.json.zst'`).join(' ');
    put('curlParallel', timed(`curl -s --parallel --parallel-max 20 -H 'If-None-Match: ${etag}' -o /dev/null ${urls.split(' ').join(' -o /dev/null ')}`));
  }
} finally {
  server.stop();
}

// Sharded closure with latency, over TLS: h2 and HTTP/1.1.
const tree = await ensureShardTree(dataDir);
const { testCerts } = await import('../test/helpers/certs.js');
const certs = await testCerts();
for (const delay of [0, delayMs]) {
  const shardServer = await startServer('repodata-shard-server.mjs', [tree.dir, certs.server.keyPath, certs.server.certPath, String(delay)]);
  try {
    for (const h2 of ['1', '0']) {
      for (let i = 0; i < runs; i++) {
        const cacheDir = join(outDir, `closure-${delay}-${h2}-${i}`);
        rmSync(cacheDir, { recursive: true, force: true });
        const r = child('closure', `https://127.0.0.1:${shardServer.port}`, cacheDir, h2, certs.caPath);
        if (r.source !== 'shards') throw new Error(`closure did not use shards: ${JSON.stringify(r)}`);
        put(`closure-${delay}-${h2}`, r.seconds);
        rmSync(cacheDir, { recursive: true, force: true });
      }
    }
  } finally {
    shardServer.stop();
  }
}
rmSync(outDir, { recursive: true, force: true });

function md(k: string): number {
  return median(m[k]!);
}
function mcpu(k: string): number {
  return median(cpu[k]!);
}
function row(what: string, ours: number, ref: number, refName: string, extraText = ''): void {
  console.log(`| ${what} | ${ours.toFixed(3)} s | ${refName} ${ref.toFixed(3)} s | ${(ours / ref).toFixed(2)} |${extraText}`);
}
/** The header and the two cold rows. */
function printCold(): void {
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(`load average at the end: ${load} (2 cores shared with other work)`);
  console.log(`index: ${records} records, ${jsonMB.toFixed(0)} MB JSON, ${zstMB.toFixed(1)} MB .zst; zstd backend: ${backend}; ` +
    `median of ${runs} runs; Node ${process.versions.node}`);
  console.log('| measurement | ours | reference | ratio | notes');
  console.log('|---|---|---|---|---|');
  row('cold cache-only fetchRepodata (in-process, from the call)', md('cold'), md('curl'), 'curl | zstd -d > file', ` peak RSS ${md('coldRss').toFixed(0)} MB |`);
  row('cold `conda-gateway repodata` (whole process)', md('cliCold'), md('curlTimed'), 'curl | zstd -d > file',
    ` CPU ${mcpu('cliCold').toFixed(2)} s vs ${mcpu('curlTimed').toFixed(2)} s; peak RSS ${md('cliColdRss').toFixed(0)} MB vs ${md('curlTimedRss').toFixed(0)} MB |`);
  if (baseline) {
    row('cold `conda-gateway repodata`, baseline build', md('cliColdBase'), md('curlTimed'), 'curl | zstd -d > file',
      ` CPU ${mcpu('cliColdBase').toFixed(2)} s; peak RSS ${md('cliColdBaseRss').toFixed(0)} MB; ${baseline} |`);
  }
}
printCold();
row(`recordsFor(${NAMES.length} names) on a hit`, md('some'), md('full'), 'records() full parse',
  ` ${md('someRecords')} records; peak RSS ${md('someRss').toFixed(0)} MB vs ${md('fullRss').toFixed(0)} MB (${(md('someRss') / md('fullRss')).toFixed(2)}) |`);
row('records() on a hit (full parse)', md('full'), md('parse'), 'read + JSON.parse', ` peak RSS ${md('fullRss').toFixed(0)} MB vs ${md('parseRss').toFixed(0)} MB |`);
row('warm hit', md('hit'), md('cat'), 'cat file > /dev/null', ' |');
row('20 subdirs revalidated (304)', md('revalidate'), md('curlParallel'), 'curl --parallel, 20 conditional GETs', ' |');
const rounds = tree.levels + 1;
for (const [h2, label] of [['1', 'h2'], ['0', 'HTTP/1.1']] as const) {
  const budget = rounds * (delayMs / 1000) + md(`closure-0-${h2}`);
  row(`sharded closure ${tree.names} shards, ${tree.levels} levels, ${delayMs} ms/request, ${label}`, md(`closure-${delayMs}-${h2}`), budget,
    `${rounds} x ${delayMs} ms + same at 0 ms`, ` at 0 ms: ${md(`closure-0-${h2}`).toFixed(3)} s |`);
}
