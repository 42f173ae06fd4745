/**
 * bench/download: one large file from a local server (nginx when installed), in the same
 * run and on the same file: `curl -o` alone, `curl -o` then `openssl dgst -sha256` (the
 * native "download then verify"), and `conda-gateway download --sha256` (verified while
 * streaming, .partial + fsync + rename). Prints MiB/s, the ratio to curl, CPU seconds and
 * peak RSS of each, medians of the runs. Not part of npm test; builds dist/ first.
 *
 *   npx tsx bench/download.ts [--size-mib 1024] [--runs 5] [--node-server] [--baseline <other checkout>/bin/conda-gateway.js]
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, DATA, arg, measure, printTable, requireBuild, sequence, startFileServer, type Row } from './lib.js';

const sizeMiB = Number(arg('size-mib', '1024'));
const runs = Number(arg('runs', '5'));
const dir = join(DATA, 'download');
const outDir = join(DATA, 'download-out');
const name = `blob-${sizeMiB}MiB.bin`;
const file = join(dir, name);

async function makeFile(): Promise<string> {
  mkdirSync(dir, { recursive: true });
  if (!existsSync(file) || statSync(file).size !== sizeMiB * 1048576) {
    const out = createWriteStream(file);
    for (let i = 0; i < sizeMiB; i++) {
      if (!out.write(randomBytes(1048576))) await new Promise<void>((r) => out.once('drain', () => r()));
    }
    await new Promise<void>((r) => out.end(() => r()));
  }
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

requireBuild();
const sha256 = await makeFile();
const server = await startFileServer(dir);
const url = `${server.url}/${name}`;
const rows: Row[] = [
  { name: '`curl -o` (unverified)', runs: [] },
  { name: '`curl -o` then `openssl dgst -sha256`', runs: [] },
  { name: '`conda-gateway download --sha256`', runs: [] },
];
const baseline = arg('baseline', '');
if (baseline) rows.push({ name: '`conda-gateway download --sha256` (baseline build)', runs: [] });
try {
  for (let i = 0; i < runs; i++) {
    rmSync(outDir, { recursive: true, force: true });
    mkdirSync(outDir, { recursive: true });
    const target = join(outDir, name);
    const curl = measure('curl', ['-s', '-f', '-o', target, url]);
    rows[0]!.runs.push(curl);
    rows[1]!.runs.push(sequence(curl, measure('openssl', ['dgst', '-sha256', target])));
    rmSync(target);
    rows[2]!.runs.push(measure(process.execPath, [CLI, '-q', 'download', url, '-o', target, '--sha256', sha256]));
    if (baseline) {
      rmSync(target);
      rows[3]!.runs.push(measure(process.execPath, [baseline, '-q', 'download', url, '-o', target, '--sha256', sha256]));
    }
  }
} finally {
  server.stop();
  rmSync(outDir, { recursive: true, force: true });
}
printTable(`bench/download: one ${sizeMiB} MiB file, ${server.kind} on 127.0.0.1`, sizeMiB, rows);
