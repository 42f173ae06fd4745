/**
 * One measured run (plain JS over the built dist/, so no TypeScript is compiled at start-up) for bench/repodata.ts in a fresh process (so peak RSS is ours alone); prints JSON.
 *   cold <channel> <subdir> <cacheDir>             one fetchRepodata into an empty cache (no records read)
 *   hit <channel> <subdir> <cacheDir>              a fresh-cache hit (no records read)
 *   full <channel> <subdir> <cacheDir>             a hit, then records(): the whole index parsed
 *   some <channel> <subdir> <cacheDir> <name>...   a hit, then recordsFor(names)
 *   many <channel> <cacheDir> <ttl> <subdir>...    fetchRepodata of several subdirs in parallel
 *   closure <channel> <cacheDir> <http2> <ca>      a sharded closure of `root` over linux-64 + noarch
 *   parse <file>                                   read + JSON.parse only (reference for `full`)
 */
import { readFileSync } from 'node:fs';
import { fetchRepodata, loadSettings } from '../dist/index.js';

const [mode, ...rest] = process.argv.slice(2);
const settings = loadSettings({ env: {} });
const started = performance.now();
let extra = {};
if (mode === 'cold' || mode === 'hit' || mode === 'full' || mode === 'some') {
  const [channel, subdir, cacheDir, ...names] = rest;
  const r = await fetchRepodata(channel, subdir, { cacheDir, settings });
  extra = { cacheResult: r.cacheResult };
  if (mode === 'full') {
    const all = await r.records();
    extra.records = Object.keys(all['packages.conda'] ?? {}).length + Object.keys(all.packages ?? {}).length;
  } else if (mode === 'some') {
    const some = await r.recordsFor(names);
    extra.records = Object.keys(some['packages.conda'] ?? {}).length + Object.keys(some.packages ?? {}).length;
  }
} else if (mode === 'many') {
  const [channel, cacheDir, ttl, ...subdirs] = rest;
  const s = loadSettings({ env: {}, overrides: { localRepodataTtl: Number(ttl) } });
  const results = await Promise.all(subdirs.map((sd) => fetchRepodata(channel, sd, { cacheDir, settings: s })));
  const counts = {};
  for (const r of results) counts[r.cacheResult] = (counts[r.cacheResult] ?? 0) + 1;
  extra = { results: counts };
} else if (mode === 'closure') {
  const [channel, cacheDir, http2, ca] = rest;
  const s = loadSettings({ env: {}, overrides: { http2: http2 === '1', sslVerify: ca, repodataUseShards: true } });
  const r = await fetchRepodata(channel, 'linux-64', { cacheDir, settings: s, packages: ['root'] });
  extra = { source: r.source, shards: r.shards };
} else if (mode === 'parse') {
  const value = JSON.parse(readFileSync(rest[0], 'utf8'));
  extra = { keys: Object.keys(value).length };
} else {
  throw new Error(`unknown mode ${mode}`);
}
const seconds = (performance.now() - started) / 1000;
console.log(JSON.stringify({ seconds, maxRssKiB: process.resourceUsage().maxRSS, ...extra }));
