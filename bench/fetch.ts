/**
 * Benchmark: `conda-gateway fetch` against `curl --parallel --parallel-max N` for the same
 * files, from the same local static server (its own process), in the same run. Prints
 * both throughputs and the ratio. Not part of `npm test`.
 *
 *   npx tsx bench/fetch.ts [--total-mib 1536] [--files 200] [--jobs 8[,16]] [--rounds 2] [--breakdown]
 *
 * Data is generated once under bench/.data (git-ignored): files of 50 KiB to 64 MiB,
 * log-uniformly spread, scaled to the requested total.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DATA = join(ROOT, 'bench', '.data');
const MIN = 50 * 1024;
const MAX = 64 * 1024 * 1024;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] ?? fallback : fallback;
}

interface Manifest {
  files: Array<{ name: string; size: number; sha256: string }>;
}

function sizes(count: number, totalBytes: number): number[] {
  // Deterministic log-uniform sizes, then scaled (and clamped) towards the total.
  let x = 12345;
  const raw = Array.from({ length: count }, () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return Math.exp(Math.log(MIN) + (x / 2 ** 31) * (Math.log(MAX) - Math.log(MIN)));
  });
  const sum = raw.reduce((a, b) => a + b, 0);
  return raw.map((s) => Math.round(Math.min(MAX, Math.max(MIN, (s * totalBytes) / sum))));
}

/** One directory per data set, with its manifest written last (so a half-generated set is redone). */
async function generate(count: number, totalBytes: number): Promise<Manifest & { dir: string }> {
  const dir = join(DATA, `fetch-${count}-${totalBytes}`);
  const manifestPath = join(dir, 'manifest.json');
  if (existsSync(manifestPath)) return { dir, ...(JSON.parse(await readFile(manifestPath, 'utf8')) as Manifest) };
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const files: Manifest['files'] = [];
  let i = 0;
  for (const size of sizes(count, totalBytes)) {
    const name = `bench${String(i++).padStart(3, '0')}-1.0-h0_0.conda`;
    const body = randomBytes(size);
    await writeFile(join(dir, name), body);
    files.push({ name, size, sha256: createHash('sha256').update(body).digest('hex') });
  }
  const manifest = { files };
  await writeFile(manifestPath, JSON.stringify(manifest));
  return { dir, ...manifest };
}

const SERVER = `
const http = require('node:http'), fs = require('node:fs'), path = require('node:path');
const root = process.argv[1];
const server = http.createServer((req, res) => {
  const file = path.join(root, path.basename(decodeURIComponent(req.url.split('?')[0])));
  fs.stat(file, (err, st) => {
    if (err) { res.writeHead(404); res.end(); return; }
    const m = /^bytes=(\\d+)-$/.exec(req.headers.range || '');
    const start = m ? Number(m[1]) : 0;
    const headers = { 'content-length': String(st.size - start), 'accept-ranges': 'bytes', etag: '"' + st.size + '-' + st.mtimeMs + '"' };
    if (start) res.writeHead(206, { ...headers, 'content-range': 'bytes ' + start + '-' + (st.size - 1) + '/' + st.size });
    else res.writeHead(200, headers);
    fs.createReadStream(file, { start, highWaterMark: 1 << 20 }).pipe(res);
  });
});
server.keepAliveTimeout = 5000;
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

async function startServer(dir: string): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, ['-e', SERVER, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())));
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill() };
}

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** fetchPackages' own elapsed time, from the JSON summary (process start-up and tsx excluded). */
function fetchSeconds(stdout: string): number {
  const summary = stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; summary?: { elapsedMs: number } })
    .find((e) => e.type === 'summary');
  return (summary?.summary?.elapsedMs ?? NaN) / 1000;
}

/**
 * Where the time goes (--breakdown): the same transfers in this process with undici's
 * request() into a write stream, then with sha256 of every chunk, then with an fsync per file.
 */
async function nodeFloor(url: string, files: Manifest['files'], jobs: number, out: string, step: 'copy' | 'sha256' | 'fsync'): Promise<number> {
  const [{ Agent, request }, { createWriteStream }, { open }, { pipeline }] = await Promise.all([
    import('undici'), import('node:fs'), import('node:fs/promises'), import('node:stream/promises'),
  ]);
  const agent = new Agent({ connections: jobs });
  const queue = [...files].sort((a, b) => b.size - a.size);
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  const secs = await timed(async () => {
    await Promise.all(Array.from({ length: jobs }, async () => {
      for (let f = queue.shift(); f; f = queue.shift()) {
        const res = await request(`${url}/${f.name}`, { dispatcher: agent });
        if (step !== 'copy') {
          const hash = createHash('sha256');
          res.body.on('data', (c: Buffer) => hash.update(c));
        }
        await pipeline(res.body, createWriteStream(join(out, f.name)));
        if (step === 'fsync') {
          const fh = await open(join(out, f.name), 'r+');
          await fh.sync();
          await fh.close();
        }
      }
    }));
  });
  await agent.close();
  return secs;
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

async function main(): Promise<void> {
  const count = Number(arg('files', '200'));
  const totalBytes = Number(arg('total-mib', '1536')) * 1024 * 1024;
  const jobsList = arg('jobs', '8').split(',').map(Number);
  const rounds = Number(arg('rounds', '2'));
  const manifest = await generate(count, totalBytes);
  const bytes = manifest.files.reduce((n, f) => n + f.size, 0);
  const server = await startServer(manifest.dir);
  const out = join(DATA, 'out');
  const spec = join(DATA, 'env.txt');
  await writeFile(spec, `@EXPLICIT\n${manifest.files.map((f) => `${server.url}/${f.name}#sha256:${f.sha256}`).join('\n')}\n`);
  const curlCfg = join(DATA, 'curl.cfg');
  await writeFile(curlCfg, manifest.files.map((f) => `url = "${server.url}/${f.name}"\noutput = "${join(out, f.name)}"`).join('\n'));
  const cli = join(ROOT, 'bench', 'fetch.ts');
  console.log(`bench/fetch: ${manifest.files.length} files, ${(bytes / 1048576).toFixed(0)} MiB, ` +
    `${Math.min(...manifest.files.map((f) => f.size))}–${Math.max(...manifest.files.map((f) => f.size))} bytes; server ${server.url}`);
  try {
    for (const jobs of jobsList) {
      const results = { curl: [] as number[], ours: [] as number[], inProcess: [] as number[] };
      for (let r = 0; r < rounds; r++) {
        await rm(out, { recursive: true, force: true });
        await mkdir(out, { recursive: true });
        results.curl.push(await timed(async () => {
          const res = await run('curl', ['--parallel', '--parallel-max', String(jobs), '-s', '-S', '-f', '-K', curlCfg]);
          if (res.code !== 0) throw new Error(`curl failed: ${res.stderr}`);
        }));
        await rm(out, { recursive: true, force: true });
        results.ours.push(await timed(async () => {
          const res = await run(process.execPath, ['--import', 'tsx', cli, '--cli', 'fetch', spec, '--pkgs-dir', out, '-j', String(jobs), '--json']);
          if (res.code !== 0) throw new Error(`conda-gateway fetch failed: ${res.stderr}${res.stdout.slice(-2000)}`);
          results.inProcess.push(fetchSeconds(res.stdout));
        }));
        const fetched = (await readdir(out)).filter((f) => f.endsWith('.conda')).length;
        if (fetched !== manifest.files.length) throw new Error(`only ${fetched} files fetched`);
      }
      const best = (xs: number[]): number => Math.min(...xs);
      if (process.argv.includes('--breakdown')) {
        const floor: string[] = [];
        for (const step of ['copy', 'sha256', 'fsync'] as const) {
          const secs = await nodeFloor(server.url, manifest.files, jobs, out, step);
          floor.push(`${step === 'copy' ? 'copy' : `+${step}`} ${(bytes / 1048576 / secs).toFixed(0)} MiB/s`);
        }
        console.log(`parallel ${String(jobs).padStart(2)}: Node floor in-process (undici request → file): ${floor.join(', ')}`);
      }
      const mibs = (secs: number): number => bytes / 1048576 / secs;
      const curl = mibs(best(results.curl));
      const ours = mibs(best(results.ours));
      console.log(`parallel ${String(jobs).padStart(2)}: curl ${curl.toFixed(0)} MiB/s (${best(results.curl).toFixed(2)} s)  ` +
        `conda-gateway fetch ${ours.toFixed(0)} MiB/s (${best(results.ours).toFixed(2)} s, sha256-verified)  ratio ${(ours / curl).toFixed(2)}x  ` +
        `(without process start-up: ${mibs(best(results.inProcess)).toFixed(0)} MiB/s, ratio ${(mibs(best(results.inProcess)) / curl).toFixed(2)}x)  ` +
        `[best of ${rounds}; all: curl ${results.curl.map((s) => s.toFixed(2)).join('/')} s, ours ${results.ours.map((s) => s.toFixed(2)).join('/')} s]`);
    }
  } finally {
    server.stop();
    await rm(out, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--cli') {
  const { run: runCli } = await import('../src/cli/main.js');
  process.exitCode = await runCli([process.argv[0]!, 'conda-gateway', ...process.argv.slice(3)]);
} else {
  await main();
}
