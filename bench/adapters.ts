/**
 * bench/adapters: download() over file:// against a plain stream copy with sha256 of the
 * same file, and over ftp:// (ftp-srv in a child process) against `curl -o` from the same
 * server, in one run. Prints throughputs and ratios. Not part of npm test.
 *
 *   npx tsx bench/adapters.ts [--size-mib 256] [--runs 3]
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { download, loadSettings } from '../src/index.js';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const opt = (name: string, def: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const sizeMiB = opt('size-mib', 256);
const runs = opt('runs', 3);

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return (performance.now() - started) / 1000;
}

async function plainCopy(source: string, target: string): Promise<void> {
  const hash = createHash('sha256');
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  await pipeline(createReadStream(source, { highWaterMark: 1 << 20 }), tap, createWriteStream(target));
  hash.digest('hex');
}

/** The FTP server runs in its own process, as curl does, so neither side shares our event loop. */
async function startFtpChild(source: string): Promise<{ url: string; stop: () => void }> {
  const script = fileURLToPath(new URL('ftp-server-child.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, source], { stdio: ['pipe', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())));
  return { url, stop: () => child.stdin.end() };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'cg-bench-adapters-'));
  const body = randomBytes(sizeMiB * 1024 * 1024);
  const sha256 = createHash('sha256').update(body).digest('hex');
  const source = join(dir, 'blob.bin');
  await writeFile(source, body);
  const ftp = await startFtpChild(source);
  try {
    const settings = loadSettings({ env: {} });
    const mib = (s: number) => (sizeMiB / s).toFixed(0);
    const rows: Array<[string, number, number]> = [];
    for (let run = 1; run <= runs; run++) {
      const ours = await timed(() => download(pathToFileURL(source), join(dir, `file-${run}.bin`), { sha256, settings }));
      const plain = await timed(() => plainCopy(source, join(dir, `copy-${run}.bin`)));
      rows.push(['file://', ours, plain]);
      const oursFtp = await timed(() => download(`${ftp.url}/blob.bin`, join(dir, `ftp-${run}.bin`), { sha256, settings }));
      // Async spawn: the FTP server lives in this process and must keep serving.
      const curl = await timed(() => new Promise<void>((resolve, reject) => {
        const child = spawn('curl', ['-s', '-S', '-f', '-o', join(dir, `curl-${run}.bin`), `${ftp.url}/blob.bin`], { stdio: ['ignore', 'ignore', 'inherit'] });
        child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`curl exited with ${code}`))));
      }));
      rows.push(['ftp://', oursFtp, curl]);
      await rm(join(dir, `file-${run}.bin`));
      await rm(join(dir, `copy-${run}.bin`));
      await rm(join(dir, `ftp-${run}.bin`));
      await rm(join(dir, `curl-${run}.bin`));
    }
    console.log(`${sizeMiB} MiB, ${runs} runs (download() verifies sha256; the baselines: plain copy + sha256 for file://, curl -o for ftp://)`);
    for (const [scheme, ours, base] of rows) {
      console.log(`${scheme.padEnd(8)} ours ${mib(ours).padStart(5)} MiB/s   baseline ${mib(base).padStart(5)} MiB/s   ours/baseline ${(base / ours).toFixed(2)}`);
    }
  } finally {
    ftp.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
