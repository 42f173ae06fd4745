/**
 * Benchmark: `conda-gateway fetch --dry-run` on a large pixi.lock (parse, merge, cache
 * check), against PyYAML's libyaml loader parsing the same file (a native reference), in
 * the same run. Optionally also an older source tree (e.g. `git archive main`) for before/after.
 * Prints medians of wall time, CPU seconds and peak RSS, and the ratios. Not part of `npm test`.
 *
 *   npx tsx bench/lockfile.ts [--packages 100000] [--runs 5] [--old /path/to/old/tree]
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pixiLock } from '../test/helpers/lockfiles.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] ?? fallback : fallback;
}

interface Run {
  wall: number;
  cpu: number;
  rssMb: number;
}

/** One run under /usr/bin/time: wall seconds, user+sys CPU seconds, peak RSS. */
function timed(command: string, args: string[], cwd: string): Run {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', command, ...args], { cwd, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${r.stderr.slice(-2000)}`);
  const [wall, user, sys, rss] = r.stderr.trim().split('\n').at(-1)!.split(' ').map(Number);
  return { wall: wall!, cpu: user! + sys!, rssMb: rss! / 1024 };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function summarize(name: string, runs: Run[]): Run {
  const m = { wall: median(runs.map((r) => r.wall)), cpu: median(runs.map((r) => r.cpu)), rssMb: median(runs.map((r) => r.rssMb)) };
  console.log(`${name.padEnd(34)} wall ${m.wall.toFixed(2).padStart(6)} s   cpu ${m.cpu.toFixed(2).padStart(6)} s   peak RSS ${m.rssMb.toFixed(0).padStart(5)} MB`);
  return m;
}

async function main(): Promise<void> {
  const packages = Number(arg('packages', '100000'));
  const runs = Number(arg('runs', '5'));
  const old = arg('old', '');
  const dir = await mkdtemp(join(tmpdir(), 'cg-bench-lock-'));
  try {
    const lock = join(dir, 'pixi.lock');
    const text = pixiLock(packages);
    await writeFile(lock, text);
    console.log(`pixi.lock with ${packages} packages, ${(text.length / 2 ** 20).toFixed(1)} MiB; medians of ${runs} runs; machine shared with other jobs`);
    const cli = (tree: string): [string, string[]] => [process.execPath,
      ['--import', join(ROOT, 'node_modules/tsx/dist/loader.mjs'), join(tree, 'test/integration/packages/run-cli.ts'),
        'fetch', lock, '--dry-run', '--json', '--platform', 'linux-64', '--pkgs-dir', join(dir, 'pkgs')]];
    const py = ['-c', 'import sys, yaml; yaml.load(open(sys.argv[1]), Loader=yaml.CLoader)', lock];
    const results: Record<string, Run[]> = { 'conda-gateway fetch --dry-run': [], 'PyYAML CLoader (parse only)': [] };
    if (old) results['before (--old tree)'] = [];
    for (let i = 0; i < runs; i++) {
      results['conda-gateway fetch --dry-run']!.push(timed(...cli(ROOT), dir));
      results['PyYAML CLoader (parse only)']!.push(timed('python3', py, dir));
      if (old) results['before (--old tree)']!.push(timed(...cli(old), dir));
    }
    const m = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, summarize(k, v)]));
    const ours = m['conda-gateway fetch --dry-run']!;
    const ref = m['PyYAML CLoader (parse only)']!;
    console.log(`ratio conda-gateway / PyYAML CLoader: wall ${(ours.wall / ref.wall).toFixed(2)}x, cpu ${(ours.cpu / ref.cpu).toFixed(2)}x, RSS ${(ours.rssMb / ref.rssMb).toFixed(2)}x`);
    const before = m['before (--old tree)'];
    if (before) console.log(`before / after: wall ${(before.wall / ours.wall).toFixed(2)}x, cpu ${(before.cpu / ours.cpu).toFixed(2)}x, RSS ${(before.rssMb / ours.rssMb).toFixed(2)}x`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
