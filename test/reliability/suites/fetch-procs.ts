/**
 * Crash and concurrency suites over real `conda-gateway fetch` processes: a channel of
 * packages on a local (optionally paced) server, an explicit spec file with sha256s,
 * SIGKILL at random moments, many processes sharing one pkgs dir, and an audit of what
 * is on disk afterwards.
 */
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { seededRandom, startFaultServer, type FaultServer } from '../../helpers/fault-server.js';
import { bytes, sha256, tempDir } from '../../helpers/fs.js';
import { runCli, type CliResult } from '../../helpers/cli.js';

export interface Channel {
  server: FaultServer;
  dir: string;
  specFile: string;
  packages: Array<{ path: string; fileName: string; body: Buffer; sha256: string }>;
  close(): Promise<void>;
}

/** `count` packages of assorted sizes served under /chan/noarch/, listed in an explicit file with sha256. */
export async function makeChannel(opts: { count: number; minSize: number; maxSize: number; seed: number; throttle?: { chunk: number; delayMs: number } }): Promise<Channel> {
  const server = await startFaultServer(undefined, { seed: opts.seed, throttle: opts.throttle });
  const dir = await tempDir(undefined, 'cg-fetch-');
  const random = seededRandom(opts.seed);
  const packages: Channel['packages'] = [];
  for (let i = 0; i < opts.count; i++) {
    const size = opts.minSize + Math.floor(random() * (opts.maxSize - opts.minSize));
    const body = bytes(size, opts.seed * 1000 + i);
    const fileName = `pkg${String(i).padStart(3, '0')}-1.0-0.conda`;
    const path = `/chan/noarch/${fileName}`;
    server.addFile(path, body);
    packages.push({ path, fileName, body, sha256: sha256(body) });
  }
  const specFile = join(dir, 'explicit.txt');
  await writeFile(specFile, ['# platform: linux-64', '@EXPLICIT',
    ...packages.map((p) => `${server.url}${p.path}#sha256:${p.sha256}`)].join('\n') + '\n');
  return {
    server, dir, specFile, packages,
    async close() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface Audit {
  complete: number;
  corrupt: number;
  partials: number;
  /** `<partial>.lock` files of the lock fallback (used only where the os-lock addon is missing). */
  locks: number;
  strays: string[];
}

/** What a pkgs dir holds: final files (each checked against its sha256), partials, anything else. */
export async function auditPkgsDir(pkgsDir: string, channel: Channel): Promise<Audit> {
  const names = await readdir(pkgsDir).catch(() => [] as string[]);
  const byName = new Map(channel.packages.map((p) => [p.fileName, p]));
  const audit: Audit = { complete: 0, corrupt: 0, partials: 0, locks: 0, strays: [] };
  for (const name of names) {
    const pkg = byName.get(name);
    if (pkg) {
      const onDisk = await readFile(join(pkgsDir, name));
      if (sha256(onDisk) === pkg.sha256) audit.complete++;
      else audit.corrupt++;
    } else if (name.endsWith('.partial') && byName.has(name.slice(0, -'.partial'.length))) {
      audit.partials++;
      const st = await stat(join(pkgsDir, name));
      const body = byName.get(name.slice(0, -'.partial'.length))!.body;
      const prefix = await readFile(join(pkgsDir, name));
      if (st.size > body.length || !body.subarray(0, prefix.length).equals(prefix)) audit.strays.push(`${name} (not a prefix)`);
    } else if (name.endsWith('.partial.lock')) {
      audit.locks++;
    } else if (name !== 'urls.txt' && name !== 'urls' && name !== 'cache') {
      audit.strays.push(name);
    }
  }
  return audit;
}

export function fetchArgs(channel: Channel, pkgsDir: string, extra: string[] = []): string[] {
  return ['fetch', '--no-extract', channel.specFile, '--pkgs-dir', pkgsDir, '--json', '-q', ...extra];
}

/** Bytes each finished package resumed from, read from the JSON event lines. */
export function resumedCount(result: CliResult): number {
  let n = 0;
  for (const line of result.stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const event = JSON.parse(line) as { type?: string; resumedFrom?: number };
      if (event.type === 'done' && (event.resumedFrom ?? 0) > 0) n++;
    } catch { /* a line cut by the kill */ }
  }
  return n;
}

const CLI_ENV = { CONDA_REMOTE_BACKOFF_FACTOR: '0', CONDA_REMOTE_READ_TIMEOUT_SECS: '10' };

export interface CrashCounts {
  runs: number;
  killedMidRun: number;
  exitedBeforeKill: number;
  corruptAfterKill: number;
  strayAfterKill: number;
  partialsLeftByKills: number;
  resumedPackages: number;
  rerunsOk: number;
  rerunsFailed: number;
  completeVerified: number;
  corruptAfterRerun: number;
  partialsAfterRerun: number;
  slowestRerunMs: number;
}

export function crashLine(c: CrashCounts, packages: number): string {
  return `crash: ${c.runs} SIGKILL runs of conda-gateway fetch (${c.killedMidRun} killed mid-run, ${c.exitedBeforeKill} finished first), ` +
    `${c.partialsLeftByKills} partials left by kills, ${c.corruptAfterKill} corrupt files after a kill, ${c.strayAfterKill} stray files; ` +
    `${c.rerunsOk}/${c.runs} reruns exited 0 (${c.resumedPackages} packages resumed), cache ${c.completeVerified}/${c.runs * packages} complete and verified, ` +
    `${c.corruptAfterRerun} corrupt, ${c.partialsAfterRerun} partials left, slowest rerun ${(c.slowestRerunMs / 1000).toFixed(1)} s (no lock blocked it)`;
}

/** Pacing for the killed run: about 0.5 MB/s per connection, so a run spends ~2 s transferring. */
const CRASH_PACE = { chunk: 8 * 1024, delayMs: 16 };
const TRANSFER_WINDOW_MS = 2200;

/**
 * `runs` times: start a fetch into a fresh pkgs dir and SIGKILL it at a random moment (one
 * in eight during start-up, the rest at a random point after its first request reached the
 * server), audit the directory, rerun normally at full speed, audit again.
 */
export async function runCrashes(opts: { runs: number; packages: number; seed: number }): Promise<CrashCounts> {
  const channel = await makeChannel({ count: opts.packages, minSize: 100_000, maxSize: 900_000, seed: opts.seed });
  const random = seededRandom(opts.seed + 7);
  const c: CrashCounts = {
    runs: 0, killedMidRun: 0, exitedBeforeKill: 0, corruptAfterKill: 0, strayAfterKill: 0, partialsLeftByKills: 0,
    resumedPackages: 0, rerunsOk: 0, rerunsFailed: 0, completeVerified: 0, corruptAfterRerun: 0, partialsAfterRerun: 0, slowestRerunMs: 0,
  };
  try {
    for (let i = 0; i < opts.runs; i++) {
      const pkgsDir = join(channel.dir, `pkgs${i}`);
      await mkdir(pkgsDir);
      const duringStartup = random() < 0.125;
      const killAfter = Math.floor(random() * (duringStartup ? 800 : TRANSFER_WINDOW_MS));
      const seenBefore = channel.server.decisions.length;
      let killed = false;
      channel.server.setThrottle(CRASH_PACE);
      const first = await runCli(fetchArgs(channel, pkgsDir, ['-j', '4']), {
        env: CLI_ENV,
        onSpawn: (child: ChildProcess) => {
          const kill = (): void => {
            killed = child.exitCode === null && child.signalCode === null && child.kill('SIGKILL');
          };
          let timer: NodeJS.Timeout | undefined;
          const poll = setInterval(() => {
            if (!duringStartup && channel.server.decisions.length === seenBefore) return;
            clearInterval(poll);
            timer = setTimeout(kill, killAfter);
          }, 5);
          child.on('exit', () => {
            clearInterval(poll);
            clearTimeout(timer);
          });
        },
      });
      channel.server.setThrottle(undefined);
      c.runs++;
      if (killed && first.signal === 'SIGKILL') c.killedMidRun++;
      else c.exitedBeforeKill++;
      const afterKill = await auditPkgsDir(pkgsDir, channel);
      c.corruptAfterKill += afterKill.corrupt;
      c.strayAfterKill += afterKill.strays.length;
      c.partialsLeftByKills += afterKill.partials;
      const started = performance.now();
      const rerun = await runCli(fetchArgs(channel, pkgsDir), { env: CLI_ENV, timeoutMs: 120_000 });
      c.slowestRerunMs = Math.max(c.slowestRerunMs, performance.now() - started);
      if (rerun.code === 0) c.rerunsOk++;
      else c.rerunsFailed++;
      c.resumedPackages += resumedCount(rerun);
      const afterRerun = await auditPkgsDir(pkgsDir, channel);
      c.completeVerified += afterRerun.complete;
      c.corruptAfterRerun += afterRerun.corrupt;
      c.partialsAfterRerun += afterRerun.partials + afterRerun.locks + afterRerun.strays.length;
      await rm(pkgsDir, { recursive: true, force: true });
    }
  } finally {
    await channel.close();
  }
  return c;
}

export interface ConcurrencyCounts {
  processes: number;
  packages: number;
  exitedOk: number;
  complete: number;
  corrupt: number;
  leftovers: number;
  requests: number;
  transferredMoreThanOnce: number;
  urlsTxtLines: number;
}

export function concurrencyLine(c: ConcurrencyCounts): string {
  return `concurrency: ${c.processes} processes × ${c.packages} packages into one pkgs dir, ${c.exitedOk}/${c.processes} exited 0, ` +
    `${c.complete}/${c.packages} complete and verified, ${c.corrupt} corrupt, ${c.leftovers} leftover files, ` +
    `${c.requests} requests for ${c.packages} files (${c.transferredMoreThanOnce} transferred more than once), urls.txt ${c.urlsTxtLines} lines`;
}

/** `processes` fetches of the same `packages` packages into one pkgs dir, all started at once. */
export async function runConcurrent(opts: { processes: number; packages: number; seed: number }): Promise<ConcurrencyCounts> {
  const channel = await makeChannel({
    count: opts.packages, minSize: 20_000, maxSize: 400_000, seed: opts.seed, throttle: { chunk: 64 * 1024, delayMs: 2 },
  });
  try {
    const pkgsDir = join(channel.dir, 'pkgs');
    const results = await Promise.all(Array.from({ length: opts.processes }, () =>
      runCli(fetchArgs(channel, pkgsDir, ['-j', '8']), { env: CLI_ENV, timeoutMs: 180_000 })));
    const audit = await auditPkgsDir(pkgsDir, channel);
    const perPath = new Map<string, number>();
    for (const d of channel.server.decisions) perPath.set(d.path, (perPath.get(d.path) ?? 0) + 1);
    const urls = (await readFile(join(pkgsDir, 'urls.txt'), 'utf8').catch(() => '')).split('\n').filter(Boolean);
    return {
      processes: opts.processes, packages: opts.packages,
      exitedOk: results.filter((r) => r.code === 0).length,
      complete: audit.complete, corrupt: audit.corrupt, leftovers: audit.partials + audit.locks + audit.strays.length,
      requests: channel.server.decisions.length,
      transferredMoreThanOnce: [...perPath.values()].filter((n) => n > 1).length,
      urlsTxtLines: urls.length,
    };
  } finally {
    await channel.close();
  }
}

export interface KillAmongCounts {
  processes: number;
  killed: number;
  survivorsOk: number;
  survivors: number;
  complete: number;
  packages: number;
  corrupt: number;
  leftovers: number;
}

export function killAmongLine(c: KillAmongCounts): string {
  return `crash among peers: ${c.processes} fetch processes on one pkgs dir, ${c.killed} killed with SIGKILL mid-run while holding or waiting for locks; ` +
    `${c.survivorsOk}/${c.survivors} survivors exited 0, cache ${c.complete}/${c.packages} complete and verified, ${c.corrupt} corrupt, ${c.leftovers} leftovers`;
}

/** Peers share one pkgs dir; some are killed mid-run. The survivors must not block on the dead ones' locks. */
export async function runKillAmongPeers(opts: { processes: number; kill: number; packages: number; seed: number }): Promise<KillAmongCounts> {
  const channel = await makeChannel({
    count: opts.packages, minSize: 100_000, maxSize: 600_000, seed: opts.seed, throttle: { chunk: 16 * 1024, delayMs: 8 },
  });
  const random = seededRandom(opts.seed + 5);
  try {
    const pkgsDir = join(channel.dir, 'pkgs');
    let killed = 0;
    const results = await Promise.all(Array.from({ length: opts.processes }, (_, i) =>
      runCli(fetchArgs(channel, pkgsDir, ['-j', '4']), {
        env: CLI_ENV, timeoutMs: 180_000,
        onSpawn: (child: ChildProcess) => {
          if (i >= opts.kill) return;
          let timer: NodeJS.Timeout | undefined;
          const poll = setInterval(() => {
            if (channel.server.decisions.length === 0) return;
            clearInterval(poll);
            timer = setTimeout(() => {
              if (child.exitCode === null && child.signalCode === null && child.kill('SIGKILL')) killed++;
            }, Math.floor(random() * 800));
          }, 5);
          child.on('exit', () => {
            clearInterval(poll);
            clearTimeout(timer);
          });
        },
      })));
    const survivors = results.slice(opts.kill);
    const audit = await auditPkgsDir(pkgsDir, channel);
    return {
      processes: opts.processes, killed, survivors: survivors.length,
      survivorsOk: survivors.filter((r) => r.code === 0).length,
      complete: audit.complete, packages: opts.packages, corrupt: audit.corrupt,
      leftovers: audit.partials + audit.locks + audit.strays.length,
    };
  } finally {
    await channel.close();
  }
}
