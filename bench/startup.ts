/**
 * bench/startup: the fixed cost of a command, against `node -e 0` in the same run: a
 * 100-byte http `download` (with --sha256), a `repodata` whose cache is fresh (no request
 * needed), the same over file://, and `--version`. Prints median wall and CPU seconds of
 * each and the ratio to `node -e 0`. Not part of npm test; builds dist/ first.
 *
 *   npx tsx bench/startup.ts [--runs 15] [--baseline <other checkout>/bin/conda-gateway.js]
 *
 * --baseline runs the same commands with another build (e.g. main's) in the same run.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CLI, DATA, arg, measure, median, requireBuild, startFileServer, type Measured } from './lib.js';

const runs = Number(arg('runs', '15'));
const dir = join(DATA, 'startup');
const out = join(DATA, 'startup-out');
rmSync(dir, { recursive: true, force: true });
mkdirSync(join(dir, 'chan', 'noarch'), { recursive: true });
mkdirSync(join(dir, 'chan', 'linux-64'), { recursive: true });
const small = Buffer.alloc(100, 7);
writeFileSync(join(dir, 'small.bin'), small);
const repodata = JSON.stringify({ info: { subdir: 'noarch' }, packages: {}, 'packages.conda': {}, repodata_version: 1 });
writeFileSync(join(dir, 'chan', 'noarch', 'repodata.json'), repodata);
writeFileSync(join(dir, 'chan', 'linux-64', 'repodata.json'), repodata.replace('noarch', 'linux-64'));

requireBuild();
const server = await startFileServer(dir);
const sha = createHash('sha256').update(small).digest('hex');
// The file server sends no Cache-Control: a TTL of an hour keeps the http repodata cache fresh (a hit, no request).
const env = { ...process.env, CONDA_GATEWAY_NO_PROGRESS: '1', CONDA_LOCAL_REPODATA_TTL: '3600' };
const node = process.execPath;
const baseline = arg('baseline', '');
const clis: Array<[string, string]> = [['', CLI], ...(baseline ? [[' (baseline)', baseline] as [string, string]] : [])];
const cases: Array<{ name: string; args: string[]; before?: () => void }> = [
  { name: '`node -e 0`', args: ['-e', '0'] },
  ...clis.flatMap(([tag, cli]) => commandCases(tag, cli)),
];

function commandCases(tag: string, cli: string): Array<{ name: string; args: string[]; before?: () => void }> {
  const CLI = cli;
  const suffix = tag.replace(/\W+/g, '-');
  return [
  { name: `\`conda-gateway --version\`${tag}`, args: [CLI, '--version'] },
  {
    name: `\`download\` of 100 bytes over http (--sha256)${tag}`, args: [CLI, '-q', 'download', `${server.url}/small.bin`, '-o', join(out, 'small.bin'), '--sha256', sha],
    before: () => rmSync(join(out, 'small.bin'), { force: true }),
  },
  { name: `\`repodata\` over http, cache fresh${tag}`, args: [CLI, '-q', 'repodata', `${server.url}/chan`, '--subdir', 'noarch', '--cache-dir', join(out, `cache-http${suffix}`)] },
  { name: `\`repodata\` over file://, cache fresh${tag}`, args: [CLI, '-q', 'repodata', pathToFileURL(join(dir, 'chan')).href, '--subdir', 'noarch', '--cache-dir', join(out, `cache-file${suffix}`)] },
  ];
}
mkdirSync(out, { recursive: true });
// Fill the repodata caches once, so the measured runs find them fresh.
for (const c of cases.filter((x) => x.name.includes('repodata'))) measure(node, c.args, { env });
const results = new Map<string, Measured[]>(cases.map((c) => [c.name, []]));
try {
  for (let i = 0; i < runs; i++) {
    for (const c of cases) {
      c.before?.();
      results.get(c.name)!.push(measure(node, c.args, { env }));
    }
  }
} finally {
  server.stop();
  rmSync(out, { recursive: true, force: true });
}
const load = (await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(`\nbench/startup — medians of ${runs} runs; ${server.kind}; load average ${load} (2 cores, shared)`);
console.log('| command | wall s | × `node -e 0` | CPU s | peak RSS MB |');
console.log('|---|---:|---:|---:|---:|');
const base = median(results.get(cases[0]!.name)!.map((r) => r.seconds));
for (const c of cases) {
  const rs = results.get(c.name)!;
  const wall = median(rs.map((r) => r.seconds));
  console.log(`| ${c.name} | ${wall.toFixed(3)} | ${(wall / base).toFixed(2)}× | ${median(rs.map((r) => r.cpuSeconds)).toFixed(3)} | ${median(rs.map((r) => r.maxRssMB)).toFixed(0)} |`);
}
