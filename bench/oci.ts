/**
 * Benchmark: the same packages fetched (fetchPackages, sha256-verified, 8 jobs) from a
 * local OCI registry (Debian's docker-registry with token auth, channel-mirrors layout)
 * and from a plain static http server, with curl against the static server as the
 * native reference. Each run is its own process (CPU seconds and peak RSS are its own).
 * Prints medians and the OCI/plain ratio. Not part of `npm test`.
 *
 *   npx tsx bench/oci.ts [--files 200] [--total-mib 256] [--jobs 8] [--rounds 5] [--baseline <checkout with node_modules>]
 *
 * Modes: `plain` (http://, static server), `oci` (oci://, sha256 known → blob by digest),
 * `oci-manifest` (oci:// without sha256 → tag manifest, then blob). Native references:
 * curl on the static server, and curl on the registry's blob URLs with a pre-minted
 * token per repository (curl's best case: no challenge, no token requests, no manifests).
 * The registry (Go, token-checked) serves slower than the static server, so the client's
 * own OCI overhead is (oci / curl-registry) ÷ (plain / curl-static). The token server is
 * the test helper's (Node, RS256 like Docker Hub's, keep-alive) in this process: it
 * competes for the same cores, as the registry does.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CHANNEL = 'bench/chan';
const SUBDIR = 'linux-64';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] ?? fallback : fallback;
}

interface ChildResult {
  elapsedMs: number;
  cpuSecs: number;
  maxRssMiB: number;
  fetched: number;
  failed: number;
}

/** --child <spec> <pkgsDir> <settingsJson> <jobs>: one fetchPackages run, printed as JSON. */
async function child(): Promise<void> {
  const [spec, pkgsDir, settingsJson, jobs, authFile] = process.argv.slice(3);
  const { fetchPackages, loadSettings } = await import('../src/index.js');
  const { readSpecs, mergeSpecs } = await import('../src/packages/index.js');
  const env: Record<string, string> = { HOME: tmpdir(), ...(authFile ? { RATTLER_AUTH_FILE: authFile } : {}) };
  const settings = loadSettings({ env, overrides: JSON.parse(settingsJson!) as Record<string, unknown> });
  const specs = mergeSpecs(await readSpecs([spec!], { settings }));
  const cpu0 = process.cpuUsage();
  const summary = await fetchPackages(specs, { pkgsDir: pkgsDir!, settings, jobs: Number(jobs), extract: false });
  const cpu = process.cpuUsage(cpu0);
  const out: ChildResult = {
    elapsedMs: summary.elapsedMs, cpuSecs: (cpu.user + cpu.system) / 1e6, maxRssMiB: process.resourceUsage().maxRSS / 1024,
    fetched: summary.fetched, failed: summary.failed,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    c.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    c.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

function sizes(count: number, total: number): number[] {
  const min = 20 * 1024;
  const max = 8 * 1024 * 1024;
  let x = 4242;
  const raw = Array.from({ length: count }, () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return Math.exp(Math.log(min) + (x / 2 ** 31) * (Math.log(max) - Math.log(min)));
  });
  const sum = raw.reduce((a, b) => a + b, 0);
  return raw.map((s) => Math.round(Math.min(max, Math.max(min, (s * total) / sum))));
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const { registryAvailable, startOciRegistry } = await import('../test/helpers/servers/oci-registry.js');
  if (!registryAvailable()) throw new Error('docker-registry is not installed (apt-get install docker-registry)');
  const count = Number(arg('files', '200'));
  const total = Number(arg('total-mib', '256')) * 1024 * 1024;
  const jobs = Number(arg('jobs', '8'));
  const rounds = Number(arg('rounds', '5'));
  const work = await mkdtemp(join(tmpdir(), 'cg-bench-oci-'));
  const served = join(work, 'served', CHANNEL, SUBDIR);
  await mkdir(served, { recursive: true });
  const reg = await startOciRegistry();
  const staticServer = spawn(process.execPath, [join(ROOT, 'bench', 'static-server.mjs'), join(work, 'served')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve) => staticServer.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim())));
  try {
    const files: Array<{ name: string; sha256: string; size: number; repository: string }> = [];
    let i = 0;
    for (const size of sizes(count, total)) {
      const name = `bench${String(i++).padStart(3, '0')}-1.0-h0_0.conda`;
      const body = randomBytes(size);
      await writeFile(join(served, name), body);
      const pushed = await reg.pushPackage(CHANNEL, SUBDIR, name, body);
      files.push({ name, size, sha256: createHash('sha256').update(body).digest('hex'), repository: pushed.repository });
    }
    const bytes = files.reduce((n, f) => n + f.size, 0);
    const specOf = async (mode: string, base: string, withSha: boolean): Promise<string> => {
      const path = join(work, `${mode}.txt`);
      await writeFile(path, `@EXPLICIT\n${files.map((f) => `${base}/${f.name}${withSha ? `#sha256:${f.sha256}` : ''}`).join('\n')}\n`);
      return path;
    };
    const settings = JSON.stringify({ ociPlainHttp: [reg.host] });
    const baseline = arg('baseline', '');
    const ociSpec = await specOf('oci', `oci://${reg.host}/${CHANNEL}/${SUBDIR}`, true);
    const modes = [
      { mode: 'plain', spec: await specOf('plain', `http://127.0.0.1:${port}/${CHANNEL}/${SUBDIR}`, true), root: ROOT },
      { mode: 'oci', spec: ociSpec, root: ROOT },
      // The same oci run with another checkout's code (its bench/oci.ts --child, same arguments).
      ...(baseline ? [{ mode: 'oci (baseline)', spec: ociSpec, root: baseline }] : []),
      { mode: 'oci-manifest', spec: await specOf('oci-manifest', `oci://${reg.host}/${CHANNEL}/${SUBDIR}`, false), root: ROOT },
    ];
    const curlCfg = join(work, 'curl.cfg');
    const curlRegistryCfg = join(work, 'curl-registry.cfg');
    const curlOut = join(work, 'curl-out');
    await writeFile(curlCfg, files.map((f) => `url = "http://127.0.0.1:${port}/${CHANNEL}/${SUBDIR}/${f.name}"\noutput = "${join(curlOut, f.name)}"`).join('\nnext\n'));
    // One pre-minted token per repository: the smallest Authorization header the registry can be sent.
    await writeFile(curlRegistryCfg, files.map((f) => `url = "http://${reg.host}/v2/${f.repository}/blobs/sha256:${f.sha256}"\n` +
      `header = "Authorization: Bearer ${reg.tokens.mint(f.repository, ['pull'])}"\noutput = "${join(curlOut, f.name)}"`).join('\nnext\n'));
    console.log(`bench/oci: ${count} packages, ${(bytes / 1048576).toFixed(0)} MiB, jobs ${jobs}, median of ${rounds}; ` +
      `docker-registry ${reg.host} (token auth), static server :${port}`);
    const results = new Map<string, ChildResult[]>(modes.map((m) => [m.mode, []]));
    const curl: number[] = [];
    const curlRegistry: number[] = [];
    const tokenRequests = new Map<string, number[]>();
    const tokenConns = new Map<string, number[]>();
    const registryCpu = new Map<string, number[]>();
    const regCpu = async (): Promise<number> => {
      const f = (await readFile(`/proc/${reg.pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
      return (Number(f[11]) + Number(f[12])) / 100;
    };
    for (let r = 0; r < rounds; r++) {
      await rm(curlOut, { recursive: true, force: true });
      await mkdir(curlOut, { recursive: true });
      for (const [cfg, list] of [[curlCfg, curl], [curlRegistryCfg, curlRegistry]] as const) {
        await rm(curlOut, { recursive: true, force: true });
        await mkdir(curlOut, { recursive: true });
        const t0 = performance.now();
        const c = await run('curl', ['--parallel', '--parallel-max', String(jobs), '-s', '-S', '-f', '-K', cfg]);
        if (c.code !== 0) throw new Error(`curl failed: ${c.stderr.slice(-500)}`);
        list.push((performance.now() - t0) / 1000);
      }
      for (const { mode, spec, root } of modes) {
        const pkgs = join(work, `pkgs-${mode.replace(/\W+/g, '-')}`);
        await rm(pkgs, { recursive: true, force: true });
        const tokens = reg.tokens.requests.length;
        const conns = reg.tokens.connections;
        const cpu0 = await regCpu();
        const res = await run(process.execPath, ['--import', 'tsx', join(root, 'bench', 'oci.ts'), '--child', spec, pkgs, settings, String(jobs)]);
        registryCpu.set(mode, [...(registryCpu.get(mode) ?? []), (await regCpu()) - cpu0]);
        tokenRequests.set(mode, [...(tokenRequests.get(mode) ?? []), reg.tokens.requests.length - tokens]);
        tokenConns.set(mode, [...(tokenConns.get(mode) ?? []), reg.tokens.connections - conns]);
        if (res.code !== 0) throw new Error(`${mode} failed: ${res.stderr}`);
        const out = JSON.parse(res.stdout.trim().split('\n').at(-1)!) as ChildResult;
        if (out.fetched !== count || out.failed) throw new Error(`${mode}: fetched ${out.fetched}, failed ${out.failed}`);
        results.get(mode)!.push(out);
      }
    }
    const plain = median(results.get('plain')!.map((r) => r.elapsedMs)) / 1000;
    console.log(`| path | median s | MiB/s | CPU s | peak RSS MiB | vs plain |`);
    console.log(`|---|---|---|---|---|---|`);
    for (const [label, list] of [['curl, static server', curl], ['curl, registry blobs (a pre-minted token per repository)', curlRegistry]] as const) {
      console.log(`| ${label} | ${median(list).toFixed(2)} | ${(bytes / 1048576 / median(list)).toFixed(0)} | – | – | ${(median(list) / plain).toFixed(2)}× |`);
    }
    for (const { mode } of modes) {
      const rs = results.get(mode)!;
      const secs = median(rs.map((r) => r.elapsedMs)) / 1000;
      console.log(`| ${mode} | ${secs.toFixed(2)} | ${(bytes / 1048576 / secs).toFixed(0)} | ${median(rs.map((r) => r.cpuSecs)).toFixed(2)} | ` +
        `${median(rs.map((r) => r.maxRssMiB)).toFixed(0)} | ${(secs / plain).toFixed(2)}× |`);
    }
    const oci = median(results.get('oci')!.map((r) => r.elapsedMs)) / 1000;
    console.log(`client overhead of the OCI path: (oci / curl-registry) ÷ (plain / curl-static) = ` +
      `${((oci / median(curlRegistry)) / (plain / median(curl))).toFixed(2)}×`);
    console.log(`registry CPU s per run (median): ${modes.filter((m) => m.mode !== 'plain').map((m) => `${m.mode} ${median(registryCpu.get(m.mode)!).toFixed(2)}`).join(', ')}`);
    console.log(`token requests (connections) per run: ${modes.filter((m) => m.mode !== 'plain').map((m) => `${m.mode} ` +
      `${median(tokenRequests.get(m.mode)!)} (${median(tokenConns.get(m.mode)!)})`).join(', ')}; ${count} repositories`);
    console.log(`all runs (s): ${modes.map((m) => `${m.mode} ${results.get(m.mode)!.map((r) => (r.elapsedMs / 1000).toFixed(2)).join('/')}`).join('; ')}; ` +
      `curl ${curl.map((s) => s.toFixed(2)).join('/')}; curl registry ${curlRegistry.map((s) => s.toFixed(2)).join('/')}`);
  } finally {
    staticServer.kill();
    await reg.close();
    await rm(work, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') await child();
else await main();
