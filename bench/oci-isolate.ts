/**
 * Where the OCI path's extra time goes, in one process: the same blobs from the same
 * docker-registry fetched with download() (sha256-verified, 8 at a time) as
 *   static          plain http from the static server (another process)
 *   registry-http   http:// GETs of the registry's blob URLs, a pre-minted token per repository (no OCI logic)
 *   oci-cold        oci:// URLs, a fresh session: one token request per repository
 *   oci-warm        oci:// URLs again in the same session: tokens cached
 *   oci-cold-batched  a fresh session told the URLs up front (as fetchPackages does): batched tokens
 * The token server runs in this process (it competes for the event loop; it is small).
 * Not part of `npm test`.
 *
 *   npx tsx bench/oci-isolate.ts [--files 80] [--rounds 5]
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { download, loadSettings, type Session } from '../src/index.js';
import { createSession } from '../src/session/index.js';
import { registryAvailable, startOciRegistry, type PushedPackage } from '../test/helpers/servers/oci-registry.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] ?? fallback : fallback;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

if (!registryAvailable()) throw new Error('docker-registry is not installed (apt-get install docker-registry)');
const count = Number(arg('files', '80'));
const rounds = Number(arg('rounds', '5'));
const work = await mkdtemp(join(tmpdir(), 'cg-bench-oci-iso-'));
const reg = await startOciRegistry();
await mkdir(join(work, 'served'));
const server = spawn(process.execPath, [join(ROOT, 'bench', 'static-server.mjs'), join(work, 'served')], { stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise<string>((resolve) => server.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim())));
try {
  const pushed: PushedPackage[] = [];
  for (let i = 0; i < count; i++) {
    const body = randomBytes(1 << 20);
    await writeFile(join(work, 'served', `p${i}-1-0.conda`), body);
    pushed.push(await reg.pushPackage('bench/chan', 'linux-64', `p${i}-1-0.conda`, body));
  }
  // One pre-minted token per repository: the smallest Authorization header the registry can be sent.
  const tokenOf = new Map(pushed.map((p) => [p.repository, reg.tokens.mint(p.repository, ['pull'])]));
  const settings = loadSettings({ env: { HOME: tmpdir() }, overrides: { ociPlainHttp: [reg.host] } });
  const bearer = createSession({
    settings, headerMiddleware: [(req, _ctx, next) => {
      const repository = /^\/v2\/(.+)\/blobs\//.exec(req.url.pathname)?.[1] ?? '';
      req.headers.set('authorization', `Bearer ${tokenOf.get(repository)}`);
      return next(req);
    }],
  });
  const ociUrl = (i: number) => `oci://${reg.host}/bench/chan/linux-64/p${i}-1-0.conda`;
  const times = new Map<string, number[]>();
  const tokens = new Map<string, number[]>();
  async function runMode(label: string, session: Session, urlOf: (i: number) => string): Promise<void> {
    const out = join(work, `out-${label}`);
    await rm(out, { recursive: true, force: true });
    await mkdir(out);
    const before = reg.tokens.requests.length;
    let next = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < count) {
        const i = next++;
        await download(urlOf(i), join(out, `p${i}.conda`), { session, sha256: pushed[i]!.sha256 });
      }
    }));
    times.set(label, [...(times.get(label) ?? []), (performance.now() - t0) / 1000]);
    tokens.set(label, [...(tokens.get(label) ?? []), reg.tokens.requests.length - before]);
  }
  for (let r = 0; r < rounds; r++) {
    const plain = createSession({ settings });
    await runMode('static', plain, (i) => `http://127.0.0.1:${port}/p${i}-1-0.conda`);
    await plain.close();
    await runMode('registry-http', bearer, (i) => `http://${reg.host}/v2/${pushed[i]!.repository}/blobs/${pushed[i]!.digest}`);
    const oci = createSession({ settings });
    await runMode('oci-cold', oci, ociUrl);
    await runMode('oci-warm', oci, ociUrl);
    await oci.close();
    // As fetchPackages does it: the session is told the URLs up front, so tokens come in batches.
    const hinted = createSession({ settings, expectedUrls: pushed.map((_, i) => new URL(ociUrl(i))) });
    await runMode('oci-cold-batched', hinted, ociUrl);
    await hinted.close();
  }
  await bearer.close();
  const base = median(times.get('registry-http')!);
  console.log(`bench/oci-isolate: ${count} × 1 MiB, 8 at a time, median of ${rounds}`);
  console.log('| mode | median s | token requests | vs registry-http |');
  console.log('|---|---|---|---|');
  for (const [label, xs] of times) {
    console.log(`| ${label} | ${median(xs).toFixed(2)} | ${median(tokens.get(label)!)} | ${(median(xs) / base).toFixed(2)}× |`);
  }
} finally {
  server.kill();
  await reg.close();
  await rm(work, { recursive: true, force: true });
}
