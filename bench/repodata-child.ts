/**
 * One measured run for bench/repodata.ts in a fresh process (so peak RSS is ours alone); prints JSON.
 *   cold <channel> <subdir> <cacheDir>            one fetchRepodata into an empty cache
 *   many <channel> <cacheDir> <ttl> <subdir>...   fetchRepodata of several subdirs in parallel
 *   parse <file>                                  read + JSON.parse only, for comparison
 *   decode <file.zst>                             our streaming zstd decoder from disk to nothing, for comparison
 */
import { createReadStream, readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fetchRepodata, loadSettings } from '../src/index.js';
import { createZstdDecoder } from '../src/repodata/index.js';

const [mode, ...rest] = process.argv.slice(2);
const started = performance.now();
let extra: Record<string, unknown> = {};
if (mode === 'cold') {
  const [channel, subdir, cacheDir] = rest as [string, string, string];
  const r = await fetchRepodata(channel, subdir, { cacheDir, settings: loadSettings({ env: {} }) });
  extra = { cacheResult: r.cacheResult, records: Object.keys(r.repodata['packages.conda'] ?? {}).length + Object.keys(r.repodata.packages ?? {}).length };
} else if (mode === 'many') {
  const [channel, cacheDir, ttl, ...subdirs] = rest as [string, string, string, ...string[]];
  const settings = loadSettings({ env: {}, overrides: { localRepodataTtl: Number(ttl) } });
  const results = await Promise.all(subdirs.map((s) => fetchRepodata(channel, s, { cacheDir, settings })));
  const counts: Record<string, number> = {};
  for (const r of results) counts[r.cacheResult] = (counts[r.cacheResult] ?? 0) + 1;
  extra = { results: counts };
} else if (mode === 'parse') {
  const value = JSON.parse(readFileSync(rest[0]!, 'utf8')) as Record<string, unknown>;
  extra = { keys: Object.keys(value).length };
} else if (mode === 'decode') {
  await pipeline(createReadStream(rest[0]!, { highWaterMark: 1 << 16 }), await createZstdDecoder(), new Writable({ write: (_c, _e, cb) => cb() }));
} else {
  throw new Error(`unknown mode ${mode}`);
}
const seconds = (performance.now() - started) / 1000;
console.log(JSON.stringify({ seconds, maxRssKiB: process.resourceUsage().maxRSS, ...extra }));
