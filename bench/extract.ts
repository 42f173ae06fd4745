/**
 * bench/extract: 100 real generated conda packages (half `.conda`, half `.tar.bz2`, 10 KiB
 * to 50 MB, file counts as real packages have), served by a local static server. In the
 * same run, on the same files:
 *   - extraction: ours (`fetch` over a cache holding the verified tarballs, so it only
 *     extracts) against `cph extract` (conda-package-handling) with the same parallelism;
 *   - fetch+extract (streamed while downloading) against fetch alone (`--no-extract`), both
 *     our built CLI (`npm run build` first, done here);
 *   - the reference pipeline: `curl --parallel` then `cph extract` (skip with --no-reference).
 * Medians of --runs (default 5); CPU seconds (process tree, decoder programs included) and
 * peak RSS from /usr/bin/time. Not in npm test. The server is nginx (else the Node static
 * server) on loopback, or, with --rate-mib N, the Node static server pacing all bodies to
 * N MiB/s in total (a realistic link: on loopback the network is free).
 *
 *   npx tsx bench/extract.ts [--packages 100] [--total-mib 300] [--runs 5] [--jobs 8] [--rate-mib 50] [--no-reference]
 *
 * Packages are built once under bench/.data/extract (git-ignored) by conda-package-handling's
 * own Python API (zstd level 9 to keep generation quick; zstd decoding speed hardly depends
 * on the level), so `cph` (Debian: conda-package-handling) must be installed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { CLI, DATA as BENCH_DATA, ROOT, arg, measure, median, requireBuild, startFileServer, type FileServer, type Measured } from './lib.js';

const DATA = join(BENCH_DATA, 'extract');
const MIN = 10 * 1024;
const MAX = 50 * 1024 * 1024;

interface Manifest {
  packages: Array<{ fileName: string; size: number; sha256: string; files: number }>;
}

/** Deterministic PRNG. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x / 0x100000000;
  };
}

const WORDS = 'import def return self value None for in if else class from the of and to numpy array data lib include struct int char void'.split(' ');

/** Package content: ~60% text-like (compresses as code does), ~40% random (like binaries already packed). */
function content(size: number, rand: () => number): Buffer {
  if (rand() < 0.4) {
    const b = Buffer.allocUnsafe(size);
    for (let i = 0; i < size; i += 4) b.writeUInt32LE((rand() * 0x100000000) >>> 0, Math.min(i, size - 4 < 0 ? 0 : size - 4));
    return size < 4 ? Buffer.alloc(size, 7) : b;
  }
  const parts: string[] = [];
  let n = 0;
  while (n < size) {
    const w = `${WORDS[Math.floor(rand() * WORDS.length)]!}${rand() < 0.1 ? '\n' : ' '}`;
    parts.push(w);
    n += w.length;
  }
  return Buffer.from(parts.join('').slice(0, size));
}

async function generate(count: number, totalBytes: number): Promise<Manifest> {
  const manifestPath = join(DATA, `manifest-${count}-${totalBytes}.json`);
  if (existsSync(manifestPath)) return JSON.parse(await readFile(manifestPath, 'utf8')) as Manifest;
  await rm(DATA, { recursive: true, force: true });
  await mkdir(join(DATA, 'channel', 'linux-64'), { recursive: true });
  const rand = rng(42);
  const raw = Array.from({ length: count }, () => Math.exp(Math.log(MIN) + rand() * (Math.log(MAX) - Math.log(MIN))));
  const scale = Math.min(1, totalBytes / raw.reduce((a, b) => a + b, 0));
  const sizes = raw.map((s) => Math.max(MIN, Math.round(s * scale)));
  const packages: Manifest['packages'] = [];
  for (const [i, size] of sizes.entries()) {
    const name = `bench${i}`;
    const src = join(DATA, 'src', name);
    // Real packages: many small files, a few big ones; about one file per 40 KiB, 3 to 3000.
    const files = Math.max(3, Math.min(3000, Math.round(size / 40_000)));
    const paths: Array<Record<string, unknown>> = [];
    let left = size;
    for (let f = 0; f < files; f++) {
      const bytes = f === files - 1 ? left : Math.max(0, Math.min(left, Math.round((size / files) * (0.2 + rand() * 1.6))));
      left -= bytes;
      const rel = `lib/python3.12/site-packages/${name}/m${f % 40}/f${f}.${f % 3 === 0 ? 'so' : 'py'}`;
      await mkdir(join(src, rel, '..'), { recursive: true });
      await writeFile(join(src, rel), content(bytes, rand), { mode: f % 3 === 0 ? 0o755 : 0o644 });
      paths.push({ _path: rel, path_type: 'hardlink', size_in_bytes: bytes });
    }
    await mkdir(join(src, 'info'), { recursive: true });
    await writeFile(join(src, 'info', 'index.json'), JSON.stringify({ name, version: '1.0', build: 'h0_0', build_number: 0, subdir: 'linux-64', depends: [] }));
    await writeFile(join(src, 'info', 'paths.json'), JSON.stringify({ paths, paths_version: 1 }));
    const fileName = `${name}-1.0-h0_0${i % 2 ? '.tar.bz2' : '.conda'}`;
    const py = `from conda_package_handling import api\napi.create(${JSON.stringify(src)}, None, ${JSON.stringify(fileName)}, out_folder=${JSON.stringify(join(DATA, 'channel', 'linux-64'))}, compression_tuple=('.tar.zst', 'zstd', 'zstd:compression-level=9'))`;
    const r = spawnSync('/usr/bin/python3', ['-c', py], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`package creation failed: ${r.stderr}`);
    await rm(src, { recursive: true, force: true });
    const body = await readFile(join(DATA, 'channel', 'linux-64', fileName));
    packages.push({ fileName, size: body.length, sha256: createHash('sha256').update(body).digest('hex'), files });
    process.stdout.write(`\rgenerated ${i + 1}/${count}`);
  }
  process.stdout.write('\n');
  const manifest = { packages };
  await writeFile(manifestPath, JSON.stringify(manifest));
  return manifest;
}

/** The Node static server, paced to `rateMiB` MiB/s in total (a realistic link instead of free loopback). */
async function startPacedServer(dir: string, rateMiB: number): Promise<FileServer> {
  const child = spawn(process.execPath, [join(ROOT, 'bench', 'static-server.mjs'), dir, String(rateMiB)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())));
  return { url: `http://127.0.0.1:${port}`, kind: `Node static server paced to ${rateMiB} MiB/s in total`, stop: () => child.kill() };
}

const loadavg = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

async function main(): Promise<void> {
  const count = Number(arg('packages', '100'));
  const totalBytes = Number(arg('total-mib', '300')) * 1024 * 1024;
  const runs = Number(arg('runs', '5'));
  const jobs = arg('jobs', '8');
  const rateMiB = Number(arg('rate-mib', '0'));
  const withReference = !process.argv.includes('--no-reference');
  const extractJobs = String(Math.max(1, Math.min(4, availableParallelism())));
  if (spawnSync('cph', ['--version']).status !== 0) throw new Error('cph (Debian package conda-package-handling) is needed (it builds the packages)');
  requireBuild();
  const manifest = await generate(count, totalBytes);
  const archiveBytes = manifest.packages.reduce((n, p) => n + p.size, 0);
  const server = rateMiB > 0 ? await startPacedServer(join(DATA, 'channel'), rateMiB) : await startFileServer(join(DATA, 'channel'));
  const spec = join(DATA, 'env.txt');
  await writeFile(spec, `@EXPLICIT\n${manifest.packages.map((p) => `${server.url}/linux-64/${p.fileName}#sha256:${p.sha256}`).join('\n')}\n`);
  const out = join(DATA, 'out');
  const curlCfg = join(DATA, 'curl.cfg');
  await writeFile(curlCfg, manifest.packages.map((p) => `url = "${server.url}/linux-64/${p.fileName}"\noutput = "${join(out, p.fileName)}"`).join('\n'));
  const cphList = join(DATA, 'cph-list.txt');
  await writeFile(cphList, manifest.packages.map((p) => join(out, p.fileName)).join('\n'));
  const ours = (...extra: string[]): Measured => measure(process.execPath, [CLI, 'fetch', spec, '--pkgs-dir', out, '-j', jobs, '-q', ...extra]);
  const fresh = async (): Promise<void> => {
    await rm(out, { recursive: true, force: true });
    await mkdir(out, { recursive: true });
  };
  const removeExtracted = async (): Promise<void> => {
    for (const name of await readdir(out)) if (!name.endsWith('.conda') && !name.endsWith('.tar.bz2') && !name.startsWith('urls')) await rm(join(out, name), { recursive: true });
  };
  const rows = { fetch: [] as Measured[], fetchExtract: [] as Measured[], ourExtract: [] as Measured[], curl: [] as Measured[], cph: [] as Measured[] };
  console.log(`bench/extract: ${count} packages (${manifest.packages.filter((p) => p.fileName.endsWith('.conda')).length} .conda), ` +
    `${(archiveBytes / 1048576).toFixed(0)} MiB of archives, ${manifest.packages.reduce((n, p) => n + p.files, 0)} files; ` +
    `server: ${server.kind}; -j ${jobs}, ${extractJobs} extractions at once (cph: xargs -P ${extractJobs}); ${runs} runs; load average at start ${loadavg()}`);
  try {
    for (let i = 0; i < runs; i++) {
      await fresh();
      rows.fetch.push(ours('--no-extract'));
      // The tarballs are there and verified: this run only extracts.
      rows.ourExtract.push(ours());
      await fresh();
      rows.fetchExtract.push(ours());
      if (withReference) {
        await fresh();
        rows.curl.push(measure('curl', ['--parallel', '--parallel-max', jobs, '-s', '-S', '-f', '-K', curlCfg]));
        rows.cph.push(measure('sh', ['-c', `xargs -P ${extractJobs} -n 1 cph extract < ${cphList} > /dev/null`]));
        await removeExtracted();
      }
      process.stdout.write(`\rrun ${i + 1}/${runs}`);
    }
  } finally {
    server.stop();
    await rm(out, { recursive: true, force: true });
  }
  process.stdout.write('\n');
  const m = (xs: Measured[]): number => median(xs.map((x) => x.seconds));
  const cpu = (xs: Measured[]): number => median(xs.map((x) => x.cpuSeconds));
  const line = (label: string, xs: Measured[]): string =>
    `| ${label} | ${m(xs).toFixed(2)} | ${cpu(xs).toFixed(2)} | ${median(xs.map((x) => x.maxRssMB)).toFixed(0)} | ${xs.map((x) => x.seconds.toFixed(2)).join(' / ')} |`;
  console.log(`\nmedians of ${runs} runs; load average at the end ${loadavg()} (2 cores, shared)`);
  console.log('| step (same run, same packages) | wall s | CPU s | peak RSS MB | runs (wall s) |');
  console.log('|---|---:|---:|---:|---|');
  console.log(line('`fetch --no-extract` (fetch alone)', rows.fetch));
  console.log(line('`fetch` (fetch + extract, streamed)', rows.fetchExtract));
  console.log(line('`fetch`, tarballs already cached (extract only)', rows.ourExtract));
  if (withReference) {
    console.log(line(`\`curl --parallel --parallel-max ${jobs}\``, rows.curl));
    console.log(line(`\`cph extract\`, \`xargs -P ${extractJobs}\``, rows.cph));
  }
  console.log(`\nratios: fetch+extract / fetch alone ${(m(rows.fetchExtract) / m(rows.fetch)).toFixed(2)}x (target <= 1.30)` +
    (withReference ? `; extraction ours/cph ${(m(rows.ourExtract) / m(rows.cph)).toFixed(2)}x wall, ` +
      `${(cpu(rows.ourExtract) / cpu(rows.cph)).toFixed(2)}x CPU (target <= 1.00); ` +
      `fetch+extract / (curl + cph) ${(m(rows.fetchExtract) / (m(rows.curl) + m(rows.cph))).toFixed(2)}x` : ''));
}

await main();
