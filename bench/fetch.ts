/**
 * bench/fetch: the 200-package set (1.5 GiB, 50 KiB to 64 MiB, log-uniform) from a local
 * server (nginx when installed), in the same run and on the same files:
 * `curl -Z --parallel-max 16` alone (unverified), the same then `openssl dgst -sha256` over
 * every file, and `conda-gateway fetch` (every file sha256-verified, .partial + fsync +
 * rename, urls.txt) at each -j given, with --json events, with -q, and with progress
 * bars on a pseudo-terminal (`script`) to show what events and bars cost. Prints MiB/s,
 * ratios to curl, CPU seconds and peak RSS, medians of the runs. Not in npm test; builds dist/.
 *
 *   npx tsx bench/fetch.ts [--total-mib 1536] [--files 200] [--jobs 4,8,16] [--runs 5] [--node-server]
 *                          [--baseline <other checkout>/bin/conda-gateway.js]
 *
 * Data is generated once under bench/.data (git-ignored).
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CLI, DATA, arg, measure, printTable, requireBuild, sequence, startFileServer, type Row } from './lib.js';

const MIN = 50 * 1024;
const MAX = 64 * 1024 * 1024;

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

async function main(): Promise<void> {
  const count = Number(arg('files', '200'));
  const totalBytes = Number(arg('total-mib', '1536')) * 1024 * 1024;
  const jobsList = arg('jobs', '8').split(',').map(Number);
  const runs = Number(arg('runs', '5'));
  requireBuild();
  const manifest = await generate(count, totalBytes);
  const bytes = manifest.files.reduce((n, f) => n + f.size, 0);
  const server = await startFileServer(manifest.dir);
  const out = join(DATA, 'fetch-out');
  const spec = join(DATA, 'env.txt');
  await writeFile(spec, `@EXPLICIT\n${manifest.files.map((f) => `${server.url}/${f.name}#sha256:${f.sha256}`).join('\n')}\n`);
  const curlCfg = join(DATA, 'curl.cfg');
  await writeFile(curlCfg, manifest.files.map((f) => `url = "${server.url}/${f.name}"\noutput = "${join(out, f.name)}"`).join('\n'));
  const files = manifest.files.map((f) => join(out, f.name));
  const baseline = arg('baseline', '');
  const ours = (jobs: number, mode: 'json' | 'quiet' | 'bars', cli = CLI): string[] => {
    const args = [cli, 'fetch', spec, '--pkgs-dir', out, '--no-extract', '-j', String(jobs), ...(mode === 'json' ? ['--json'] : mode === 'quiet' ? ['-q'] : [])];
    // Progress bars only render on a terminal: give the command one with script(1).
    const line = [process.execPath, ...args].map((a) => `'${a}'`).join(' ');
    return mode === 'bars' ? ['script', '-qefc', line, '/dev/null'] : [process.execPath, ...args];
  };
  const variants: Array<{ name: string; cmd: string[] }> = [
    ...jobsList.map((j) => ({ name: `\`conda-gateway fetch -j ${j} --json\``, cmd: ours(j, 'json') })),
    { name: `\`conda-gateway fetch -j ${jobsList[0]} -q\``, cmd: ours(jobsList[0]!, 'quiet') },
    { name: `\`conda-gateway fetch -j ${jobsList[0]}\` with progress bars (pty)`, cmd: ours(jobsList[0]!, 'bars') },
    ...(baseline ? [{ name: `\`conda-gateway fetch -j ${jobsList[0]} -q\` (baseline build)`, cmd: ours(jobsList[0]!, 'quiet', baseline) }] : []),
  ];
  const rows: Row[] = [
    { name: '`curl -Z --parallel-max 16` (unverified)', runs: [] },
    { name: '`curl -Z --parallel-max 16` then `openssl dgst -sha256`', runs: [] },
    ...variants.map((v) => ({ name: v.name, runs: [] })),
  ];
  console.log(`bench/fetch: ${manifest.files.length} files, ${(bytes / 1048576).toFixed(0)} MiB, ` +
    `${Math.min(...manifest.files.map((f) => f.size))}–${Math.max(...manifest.files.map((f) => f.size))} bytes; ${server.kind} at ${server.url}`);
  try {
    for (let r = 0; r < runs; r++) {
      await rm(out, { recursive: true, force: true });
      await mkdir(out, { recursive: true });
      const curl = measure('curl', ['-Z', '--parallel-max', '16', '-s', '-S', '-f', '-K', curlCfg]);
      rows[0]!.runs.push(curl);
      rows[1]!.runs.push(sequence(curl, measure('openssl', ['dgst', '-sha256', ...files])));
      for (const [i, v] of variants.entries()) {
        await rm(out, { recursive: true, force: true });
        rows[2 + i]!.runs.push(measure(v.cmd[0]!, v.cmd.slice(1)));
        const fetched = (await readdir(out)).filter((f) => f.endsWith('.conda')).length;
        if (fetched !== manifest.files.length) throw new Error(`${v.name}: only ${fetched} files fetched`);
      }
      process.stdout.write(`run ${r + 1}/${runs} done\n`);
    }
  } finally {
    server.stop();
    await rm(out, { recursive: true, force: true });
  }
  printTable(`bench/fetch: ${manifest.files.length} files, ${(bytes / 1048576).toFixed(0)} MiB, ${server.kind} on 127.0.0.1`, bytes / 1048576, rows);
}

await main();
