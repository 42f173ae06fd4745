/**
 * Shared by bench/download.ts, bench/fetch.ts and bench/startup.ts: a local file server
 * (nginx when installed, else a Node static server in its own process), timing of a
 * command with its CPU seconds and peak RSS (GNU time), medians and a printed table.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DATA = join(ROOT, 'bench', '.data');
export const CLI = join(ROOT, 'bin', 'conda-gateway.js');

export function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] ?? fallback : fallback;
}

/** The benchmarks run the built CLI (what users run), so dist/ must be current. */
export function requireBuild(): void {
  const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('npm run build failed');
}

export interface Measured {
  seconds: number;
  cpuSeconds: number;
  maxRssMB: number;
}

/** Run a command under GNU time: wall seconds, user+system CPU seconds, peak RSS. */
export function measure(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Measured {
  // Each command starts with no dirty pages of the previous one still being written back.
  spawnSync('sync');
  const timeFile = join(DATA, `time-${process.pid}.txt`);
  const r = spawnSync('/usr/bin/time', ['-o', timeFile, '-f', '%e %U %S %M', cmd, ...args], {
    encoding: 'utf8', env: opts.env ?? process.env, maxBuffer: 1 << 26,
  });
  if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 3).join(' ')} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const [e, u, s, m] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(/\s+/).map(Number);
  rmSync(timeFile, { force: true });
  return { seconds: e!, cpuSeconds: u! + s!, maxRssMB: m! / 1024 };
}

/** Two measured steps one after the other (e.g. curl, then openssl): times and CPU add up. */
export function sequence(a: Measured, b: Measured): Measured {
  return { seconds: a.seconds + b.seconds, cpuSeconds: a.cpuSeconds + b.cpuSeconds, maxRssMB: Math.max(a.maxRssMB, b.maxRssMB) };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface FileServer {
  url: string;
  kind: string;
  stop(): void;
}

/** nginx (sendfile, its own processes) when installed, so the server takes little of the 2 cores; else Node. */
export async function startFileServer(root: string): Promise<FileServer> {
  const nginx = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));
  if (nginx && !process.argv.includes('--node-server')) {
    const port = await freePort();
    const dir = join(DATA, `nginx-${port}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'nginx.conf'), `
daemon off; worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/error.log;
events { worker_connections 1024; }
http {
  access_log off; sendfile on; tcp_nopush on; keepalive_requests 100000;
  client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};
  types { application/octet-stream bin conda; }
  server { listen 127.0.0.1:${port}; root ${root}; }
}
`);
    const child = spawn(nginx, ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      const ok = await fetch(`http://127.0.0.1:${port}/`).then(() => true, () => false);
      if (ok) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    return { url: `http://127.0.0.1:${port}`, kind: 'nginx 1 worker, sendfile', stop: () => { child.kill(); rmSync(dir, { recursive: true, force: true }); } };
  }
  const child = spawn(process.execPath, [join(ROOT, 'bench', 'static-server.mjs'), root], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())));
  return { url: `http://127.0.0.1:${port}`, kind: 'Node static server', stop: () => child.kill() };
}

export interface Row {
  name: string;
  runs: Measured[];
}

/** Median of each column over the runs, MiB/s and the ratio to the first row. */
export function printTable(title: string, mib: number, rows: Row[]): void {
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(`\n${title} — medians of ${rows[0]?.runs.length ?? 0} runs; load average at the end ${load} (2 cores, shared)`);
  console.log('| tool | MiB/s | vs curl | wall s | CPU s | CPU s per GiB | peak RSS MB (median / max) |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  const base = mib / median(rows[0]!.runs.map((r) => r.seconds));
  for (const row of rows) {
    const secs = median(row.runs.map((r) => r.seconds));
    const cpu = median(row.runs.map((r) => r.cpuSeconds));
    const rate = mib / secs;
    console.log(`| ${row.name} | ${rate.toFixed(0)} | ${(rate / base).toFixed(2)}× | ${secs.toFixed(2)} | ${cpu.toFixed(2)} | ` +
      `${(cpu / (mib / 1024)).toFixed(2)} | ${median(row.runs.map((r) => r.maxRssMB)).toFixed(0)} / ${Math.max(...row.runs.map((r) => r.maxRssMB)).toFixed(0)} |`);
  }
}
