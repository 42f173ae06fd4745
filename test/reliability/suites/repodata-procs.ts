/**
 * `conda-gateway repodata` as real processes: killed with SIGKILL mid-transfer then rerun,
 * and many at once on one cache directory. The cache must end holding the published index
 * with a state file that matches it.
 */
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { cachePaths, subdirUrl } from '../../../src/repodata/cache-key.js';
import { seededRandom, startFaultServer, type FaultServer } from '../../helpers/fault-server.js';
import { serveFile } from '../../helpers/servers/http.js';
import { tempDir } from '../../helpers/fs.js';
import { runCli } from '../../helpers/cli.js';

const CLI_ENV = { CONDA_REMOTE_BACKOFF_FACTOR: '0' };

function bigIndex(packages: number): string {
  const records: Record<string, unknown> = {};
  for (let i = 0; i < packages; i++) {
    records[`pkg${i}-1.0-h${i}_0.conda`] = {
      name: `pkg${i}`, version: '1.0', build: `h${i}_0`, build_number: 0, depends: [`python >=3.${i % 13}`, `dep${i % 97}`],
      sha256: (i.toString(16).padStart(8, '0')).repeat(8), md5: (i.toString(16).padStart(8, '0')).repeat(4), size: 10_000 + i, subdir: 'noarch',
    };
  }
  return JSON.stringify({ info: { subdir: 'noarch' }, packages: {}, 'packages.conda': records, repodata_version: 1 });
}

async function channelServer(packages: number, seed: number, cacheControl?: string): Promise<{ server: FaultServer; text: string; channel: string }> {
  const server = await startFaultServer(undefined, { seed });
  const text = bigIndex(packages);
  server.addFile('/chan/noarch/repodata.json', Buffer.from(text));
  if (cacheControl) {
    const file = server.http.files.get('/chan/noarch/repodata.json')!;
    server.http.route('/chan/noarch/repodata.json', (req, res) => {
      res.setHeader('cache-control', cacheControl);
      serveFile(req, res, file);
    });
  }
  return { server, text, channel: `${server.url}/chan` };
}

/** What the cache directory holds for the channel's noarch index. */
async function auditCache(cacheDir: string, channel: string, text: string): Promise<{ valid: boolean; present: boolean; temps: string[] }> {
  const paths = cachePaths(cacheDir, subdirUrl(channel, 'noarch'));
  const data = await readFile(paths.data, 'utf8').catch(() => undefined);
  const names = await readdir(cacheDir).catch(() => [] as string[]);
  const temps = names.filter((n) => n.endsWith('.tmp'));
  if (data === undefined) return { valid: true, present: false, temps };
  let same = false;
  try {
    same = JSON.stringify(JSON.parse(data)) === JSON.stringify(JSON.parse(text));
  } catch { /* invalid */ }
  return { valid: same, present: true, temps };
}

export interface RepodataCrashCounts {
  runs: number;
  killed: number;
  corruptAfterKill: number;
  rerunsOk: number;
  validAfterRerun: number;
  tempsAfterKill: number;
  tempsAfterRerun: number;
}

export function repodataCrashLine(c: RepodataCrashCounts): string {
  return `repodata crash: ${c.runs} SIGKILL runs of conda-gateway repodata (${c.killed} killed mid-run), ` +
    `${c.corruptAfterKill} caches holding a broken index after a kill, ${c.tempsAfterKill} temp files left by kills; ` +
    `${c.rerunsOk}/${c.runs} reruns exited 0, ${c.validAfterRerun}/${c.runs} caches valid after the rerun, ${c.tempsAfterRerun} temp files left after reruns`;
}

export async function runRepodataCrashes(opts: { runs: number; seed: number }): Promise<RepodataCrashCounts> {
  const { server, text, channel } = await channelServer(12_000, opts.seed);
  const root = await tempDir(undefined, 'cg-repodata-crash-');
  const random = seededRandom(opts.seed + 3);
  const c: RepodataCrashCounts = { runs: 0, killed: 0, corruptAfterKill: 0, rerunsOk: 0, validAfterRerun: 0, tempsAfterKill: 0, tempsAfterRerun: 0 };
  try {
    for (let i = 0; i < opts.runs; i++) {
      const cacheDir = join(root, `cache${i}`);
      await mkdir(cacheDir);
      const args = ['repodata', channel, '--subdir', 'noarch', '--cache-dir', cacheDir, '--json', '-q'];
      server.setThrottle({ chunk: 16 * 1024, delayMs: 10 });
      const seen = server.decisions.length;
      const killAfter = Math.floor(random() * 2000);
      let killed = false;
      const first = await runCli(args, {
        env: CLI_ENV,
        onSpawn: (child: ChildProcess) => {
          let timer: NodeJS.Timeout | undefined;
          const poll = setInterval(() => {
            if (server.decisions.length === seen) return;
            clearInterval(poll);
            timer = setTimeout(() => {
              killed = child.exitCode === null && child.signalCode === null && child.kill('SIGKILL');
            }, killAfter);
          }, 5);
          child.on('exit', () => {
            clearInterval(poll);
            clearTimeout(timer);
          });
        },
      });
      server.setThrottle(undefined);
      c.runs++;
      if (killed && first.signal === 'SIGKILL') c.killed++;
      const afterKill = await auditCache(cacheDir, channel, text);
      if (!afterKill.valid) c.corruptAfterKill++;
      c.tempsAfterKill += afterKill.temps.length;
      const rerun = await runCli(args, { env: CLI_ENV });
      if (rerun.code === 0) c.rerunsOk++;
      const afterRerun = await auditCache(cacheDir, channel, text);
      if (afterRerun.valid && afterRerun.present) c.validAfterRerun++;
      c.tempsAfterRerun += afterRerun.temps.length;
    }
  } finally {
    await server.close();
    await rm(root, { recursive: true, force: true });
  }
  return c;
}

export interface RepodataConcurrencyCounts {
  processes: number;
  exitedOk: number;
  valid: boolean;
  indexRequests: number;
  allRequests: number;
}

export function repodataConcurrencyLine(c: RepodataConcurrencyCounts): string {
  return `repodata concurrency: ${c.processes} conda-gateway repodata processes on one cache, ${c.exitedOk}/${c.processes} exited 0, ` +
    `cache ${c.valid ? 'valid' : 'BROKEN'}, repodata.json transferred ${c.indexRequests} time(s) (${c.allRequests} requests in all)`;
}

/** Processes refreshing the same index at once; with Cache-Control max-age the later ones must find the fresh cache. */
export async function runRepodataConcurrent(opts: { processes: number; seed: number }): Promise<RepodataConcurrencyCounts> {
  const { server, text, channel } = await channelServer(3_000, opts.seed, 'public, max-age=600');
  const cacheDir = await tempDir(undefined, 'cg-repodata-conc-');
  try {
    const args = ['repodata', channel, '--subdir', 'noarch', '--cache-dir', cacheDir, '--json', '-q'];
    const results = await Promise.all(Array.from({ length: opts.processes }, () => runCli(args, { env: CLI_ENV })));
    const audit = await auditCache(cacheDir, channel, text);
    return {
      processes: opts.processes,
      exitedOk: results.filter((r) => r.code === 0).length,
      valid: audit.valid && audit.present && audit.temps.length === 0,
      indexRequests: server.http.requestsFor('/chan/noarch/repodata.json').length,
      allRequests: server.http.requests.length,
    };
  } finally {
    await server.close();
    await rm(cacheDir, { recursive: true, force: true });
  }
}
