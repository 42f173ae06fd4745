/**
 * bench/download: one large file with sha256 from a local static server, our download()
 * against `curl -o` from the same server in the same run. Prints both throughputs, the
 * ratio and our peak RSS. Not part of npm test.
 *
 *   npm run build && npx tsx bench/download.ts [--size-mib 1024] [--runs 3]
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const opt = (name: string, def: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const sizeMiB = opt('size-mib', 1024);
const runs = opt('runs', 3);
const root = fileURLToPath(new URL('.', import.meta.url));
const dataDir = join(root, '.data');
const outDir = join(dataDir, 'out');
mkdirSync(outDir, { recursive: true });
const file = join(dataDir, `blob-${sizeMiB}MiB.bin`);

async function makeFile(): Promise<string> {
  const hash = createHash('sha256');
  if (!existsSync(file) || statSync(file).size !== sizeMiB * 1024 * 1024) {
    const out = createWriteStream(file);
    for (let i = 0; i < sizeMiB; i++) {
      const chunk = randomBytes(1024 * 1024);
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
    }
    await new Promise<void>((r) => out.end(() => r()));
  }
  const { createReadStream } = await import('node:fs');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function startServer(): Promise<{ port: number; stop: () => void }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, 'static-server.mjs'), dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.once('data', (d: Buffer) => resolve({ port: Number(d.toString().trim()), stop: () => child.kill() }));
  });
}

function curlRun(url: string, target: string): number {
  const started = performance.now();
  const r = spawnSync('curl', ['-s', '-f', '-o', target, url]);
  if (r.status !== 0) throw new Error(`curl failed: ${r.stderr}`);
  return (performance.now() - started) / 1000;
}

function oursRun(url: string, target: string, sha256: string): { seconds: number; maxRssKiB: number } {
  const tsx = join(root, '..', 'node_modules', 'tsx', 'dist', 'loader.mjs');
  const r = spawnSync(process.execPath, ['--import', `file://${tsx}`, join(root, 'download-child.ts'), url, target, sha256], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`download failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as { seconds: number; maxRssKiB: number };
}

const sha256 = await makeFile();
const server = await startServer();
const url = `http://127.0.0.1:${server.port}/${file.split('/').pop()}`;
const mib = sizeMiB;
const curlTimes: number[] = [];
const ourTimes: number[] = [];
let peakRss = 0;
try {
  for (let i = 0; i < runs; i++) {
    const c = join(outDir, 'curl.bin');
    const o = join(outDir, 'ours.bin');
    rmSync(c, { force: true });
    rmSync(o, { force: true });
    curlTimes.push(curlRun(url, c));
    const ours = oursRun(url, o, sha256);
    ourTimes.push(ours.seconds);
    peakRss = Math.max(peakRss, ours.maxRssKiB);
  }
} finally {
  server.stop();
  rmSync(outDir, { recursive: true, force: true });
}
const best = (xs: number[]): number => Math.min(...xs);
const curlMBs = mib / best(curlTimes);
const oursMBs = mib / best(ourTimes);
console.log(`file: ${mib} MiB with sha256, best of ${runs} runs each, same local static server`);
console.log(`curl -o:          ${curlMBs.toFixed(0)} MiB/s`);
console.log(`conda-gateway:    ${oursMBs.toFixed(0)} MiB/s (download() with sha256 verification, .partial + rename)`);
console.log(`ratio (ours/curl): ${(oursMBs / curlMBs).toFixed(2)}`);
console.log(`our peak RSS:     ${(peakRss / 1024).toFixed(0)} MB`);
