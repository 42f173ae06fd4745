/**
 * bench/repodata: a generated conda-forge-sized index (~250 MB of JSON, ~200k records) served as
 * repodata.json.zst from a local server in its own process. Our cold fetchRepodata (fetch + streaming
 * zstd decode + cache write + JSON parse + state file) against `curl | zstd -d > file` in the same run,
 * with our peak RSS; then 20 subdirs revalidated (304) in parallel. Not part of npm test.
 *
 *   npx tsx bench/repodata.ts [--records 200000] [--runs 3] [--small-records 1000]
 */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

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
const outDir = join(dataDir, 'out');
mkdirSync(outDir, { recursive: true });

function hex(seed: string, algo: 'sha256' | 'md5'): string {
  return createHash(algo).update(seed).digest('hex');
}

/** A repodata.json shaped like conda-forge's: mostly .conda records, realistic keys and depends. */
async function writeRepodata(path: string, count: number): Promise<void> {
  const out = createWriteStream(path);
  const write = async (s: string): Promise<void> => {
    if (!out.write(s)) await new Promise<void>((r) => out.once('drain', () => r()));
  };
  await write('{"info":{"subdir":"linux-64"},"packages":{');
  const deps = ['python >=3.10,<3.11.0a0', 'python_abi 3.10.* *_cp310', 'libgcc >=13', 'libstdcxx >=13', 'numpy >=1.23,<3',
    'libzlib >=1.3.1,<2.0a0', 'openssl >=3.4.0,<4.0a0', '__glibc >=2.17,<3.0.a0', 'libblas >=3.9.0,<4.0a0', 'liblapack >=3.9.0,<4.0a0',
    'libcblas >=3.9.0,<4.0a0', 'libgfortran5 >=13.3.0', 'libgfortran >=13', 'libsqlite >=3.47.0,<4.0a0', 'libffi >=3.4,<4.0a0',
    'xz >=5.2.6,<6.0a0', 'bzip2 >=1.0.8,<2.0a0', 'tk >=8.6.13,<8.7.0a0', 'ncurses >=6.5,<7.0a0', 'readline >=8.2,<9.0a0'];
  for (let i = 0; i < count; i++) {
    if (i === Math.floor(count * 0.3)) await write('},"packages.conda":{');
    else if (i > 0) await write(',');
    const name = `pkg-${(i % 25000).toString(36)}-${['core', 'lib', 'py', 'tools'][i % 4]}`;
    const version = `${i % 13}.${i % 7}.${i % 31}`;
    const build = `py310h${hex(`b${i}`, 'md5').slice(0, 7)}_${i % 3}`;
    const fn = `${name}-${version}-${build}${i < count * 0.3 ? '.tar.bz2' : '.conda'}`;
    const rec = {
      build, build_number: i % 3,
      constrains: [`${name}-extras ${version}.*`, `${name}-docs >=${version}`, 'pypy <0a0', `cuda-version >=12.${i % 7},<13`],
      depends: deps.slice(0, 12 + (i % 9)).concat([`pkg-${((i * 7) % 25000).toString(36)}-core >=${i % 9}`,
        `pkg-${((i * 13) % 25000).toString(36)}-lib >=${i % 5}.${i % 3},<${(i % 5) + 1}.0a0`]),
      ...(i % 3 === 0 ? { track_features: '', python_site_packages_path: 'lib/python3.10/site-packages' } : {}),
      ...(i % 2 === 0 ? { legacy_bz2_md5: hex(`${fn}.bz2`, 'md5'), legacy_bz2_size: 9_000 + ((i * 104729) % 40_000_000) } : {}),
      license: ['BSD-3-Clause', 'MIT', 'Apache-2.0', 'LGPL-2.1-or-later'][i % 4], license_family: ['BSD', 'MIT', 'Apache', 'LGPL'][i % 4],
      md5: hex(fn, 'md5'), name, sha256: hex(fn, 'sha256'), size: 10_000 + ((i * 7919) % 50_000_000), subdir: 'linux-64',
      timestamp: 1_600_000_000_000 + i * 1000, version,
    };
    await write(`${JSON.stringify(fn)}:${JSON.stringify(rec)}`);
  }
  await write('},"removed":[],"repodata_version":1}');
  await new Promise<void>((r) => out.end(() => r()));
}

async function ensureData(name: string, count: number): Promise<{ json: string; zst: string }> {
  const json = join(dataDir, `${name}-${count}.json`);
  const zst = join(dataDir, `${name}.json.zst`);
  if (!existsSync(json)) {
    console.log(`generating ${count} records into ${json} …`);
    await writeRepodata(json, count);
  }
  if (!existsSync(zst) || statSync(zst).mtimeMs < statSync(json).mtimeMs) {
    const r = spawnSync('zstd', ['-q', '-f', '-T0', '-12', json, '-o', zst]);
    if (r.status !== 0) throw new Error(`zstd failed: ${r.stderr}`);
  }
  return { json, zst };
}

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
