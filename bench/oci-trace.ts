/**
 * Where one oci:// fetchPackages run spends its time: every HTTP request (undici
 * diagnostics channels) with its kind (token, 401, blob, manifest), start, time to
 * headers and to the end of the body, summed per kind; optionally the child's CPU
 * profile. Not part of `npm test`.
 *
 *   npx tsx bench/oci-trace.ts [--files 200] [--total-mib 256] [--jobs 8] [--mode oci|plain|oci-manifest] [--cpu-prof DIR]
 */
import { spawn } from 'node:child_process';
import { subscribe } from 'node:diagnostics_channel';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { arg, ROOT } from './lib.js';

interface Traced { kind: string; start: number; headers?: number; end?: number; status?: number }

async function child(): Promise<void> {
  const [spec, pkgsDir, settingsJson, jobs] = process.argv.slice(3);
  const traced = new Map<object, Traced>();
  const t0 = performance.now();
  const kindOf = (origin: string, path: string, method: string): string =>
    path.startsWith('/token') ? 'token' : path.includes('/blobs/') ? `blob ${method}` : path.includes('/manifests/') ? 'manifest' : `other ${origin}`;
  subscribe('undici:request:create', (m) => {
    const { request } = m as { request: { origin: string; path: string; method: string } };
    traced.set(request, { kind: kindOf(String(request.origin), request.path, request.method), start: performance.now() - t0 });
  });
  subscribe('undici:request:headers', (m) => {
    const { request, response } = m as { request: object; response: { statusCode: number } };
    const t = traced.get(request);
    if (t) Object.assign(t, { headers: performance.now() - t0, status: response.statusCode });
  });
  subscribe('undici:request:trailers', (m) => {
    const t = traced.get((m as { request: object }).request);
    if (t) t.end = performance.now() - t0;
  });
  const connects = new Map<string, number>();
  subscribe('undici:client:connected', (m) => {
    const { connectParams } = m as { connectParams: { host: string } };
    connects.set(connectParams.host, (connects.get(connectParams.host) ?? 0) + 1);
  });
  const { fetchPackages, loadSettings } = await import('../src/index.js');
  const { readSpecs, mergeSpecs } = await import('../src/packages/index.js');
  const settings = loadSettings({ env: { HOME: tmpdir() }, overrides: JSON.parse(settingsJson!) as Record<string, unknown> });
  const specs = mergeSpecs(await readSpecs([spec!], { settings }));
  const cpu0 = process.cpuUsage();
  const tf = performance.now() - t0;
  const summary = await fetchPackages(specs, { pkgsDir: pkgsDir!, settings, jobs: Number(jobs), extract: false });
  const cpu = process.cpuUsage(cpu0);
  const byKind = new Map<string, { n: number; statuses: Record<string, number>; ttfb: number; total: number }>();
  for (const t of traced.values()) {
    const k = `${t.kind}${t.status === 401 ? ' (401)' : ''}`;
    const e = byKind.get(k) ?? { n: 0, statuses: {}, ttfb: 0, total: 0 };
    e.n++;
    e.statuses[String(t.status)] = (e.statuses[String(t.status)] ?? 0) + 1;
    e.ttfb += (t.headers ?? t.start) - t.start;
    e.total += (t.end ?? t.headers ?? t.start) - t.start;
    byKind.set(k, e);
  }
  console.log(`fetchPackages: ${summary.elapsedMs} ms (import+specs ${tf.toFixed(0)} ms), CPU ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s, fetched ${summary.fetched}, failed ${summary.failed}`);
  console.log('| request | n | statuses | sum ms to headers | sum ms to end | mean ms to end |');
  console.log('|---|---|---|---|---|---|');
  for (const [k, e] of byKind) {
    console.log(`| ${k} | ${e.n} | ${JSON.stringify(e.statuses)} | ${e.ttfb.toFixed(0)} | ${e.total.toFixed(0)} | ${(e.total / e.n).toFixed(1)} |`);
  }
  const sorted = [...traced.values()].sort((a, b) => a.start - b.start);
  console.log(`connections opened: ${JSON.stringify(Object.fromEntries(connects))}`);
  console.log(`first request at ${sorted[0]?.start.toFixed(0)} ms, last end at ${Math.max(...sorted.map((t) => t.end ?? 0)).toFixed(0)} ms`);
}

async function main(): Promise<void> {
  const { registryAvailable, startOciRegistry } = await import('../test/helpers/servers/oci-registry.js');
  if (!registryAvailable()) throw new Error('docker-registry is not installed (apt-get install docker-registry)');
  const count = Number(arg('files', '200'));
  const total = Number(arg('total-mib', '256')) * 1024 * 1024;
  const jobs = arg('jobs', '8');
  const mode = arg('mode', 'oci');
  const prof = arg('cpu-prof', '');
  const work = await mkdtemp(join(tmpdir(), 'cg-bench-oci-trace-'));
  const reg = await startOciRegistry();
  const served = join(work, 'served', 'bench/chan/linux-64');
  await mkdir(served, { recursive: true });
  const staticServer = spawn(process.execPath, [join(ROOT, 'bench', 'static-server.mjs'), join(work, 'served')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve) => staticServer.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim())));
  try {
    const lines: string[] = [];
    const each = Math.round(total / count);
    for (let i = 0; i < count; i++) {
      const name = `bench${String(i).padStart(3, '0')}-1.0-h0_0.conda`;
      const body = randomBytes(each);
      await writeFile(join(served, name), body);
      await reg.pushPackage('bench/chan', 'linux-64', name, body);
      const base = mode === 'plain' ? `http://127.0.0.1:${port}/bench/chan/linux-64` : `oci://${reg.host}/bench/chan/linux-64`;
      lines.push(`${base}/${name}${mode === 'oci-manifest' ? '' : `#sha256:${createHash('sha256').update(body).digest('hex')}`}`);
    }
    const spec = join(work, 'spec.txt');
    await writeFile(spec, `@EXPLICIT\n${lines.join('\n')}\n`);
    const regCpu = async (): Promise<number> => {
      const f = (await readFile(`/proc/${reg.pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
      return (Number(f[11]) + Number(f[12])) / 100;
    };
    const cpuOf = async (pid: number | undefined): Promise<number> => {
      const f = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
      return (Number(f[11]) + Number(f[12])) / 100;
    };
    const static0 = await cpuOf(staticServer.pid);
    const reg0 = await regCpu();
    const cpu0 = process.cpuUsage();
    const tokens0 = reg.tokens.requests.length;
    const conns0 = reg.tokens.connections;
    const flags = prof ? ['--cpu-prof', '--cpu-prof-dir', prof] : [];
    const c = spawn(process.execPath, [...flags, '--import', 'tsx', join(ROOT, 'bench', 'oci-trace.ts'), '--child', spec, join(work, 'pkgs'),
      JSON.stringify({ ociPlainHttp: [reg.host] }), jobs], { stdio: 'inherit' });
    await new Promise((resolve) => c.once('close', resolve));
    const cpu = process.cpuUsage(cpu0);
    console.log(`bench process (token server): CPU ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s, token requests ${reg.tokens.requests.length - tokens0} on ${reg.tokens.connections - conns0} connections; ` +
      `registry CPU ${((await regCpu()) - reg0).toFixed(2)} s; static server CPU ${((await cpuOf(staticServer.pid)) - static0).toFixed(2)} s`);
  } finally {
    staticServer.kill();
    await reg.close();
    await rm(work, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') await child();
else await main();
