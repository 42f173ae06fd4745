/** Demo step: channel indexes through conda's cache — a cold fetch, a cache hit, a 304 revalidation, then a sharded subset. */
import { join } from 'node:path';
import { withSettings } from '../../config/load-settings.js';
import { fetchRepodata } from '../../repodata/fetch-repodata.js';
import { fetchShardedSubset } from '../../repodata/sharded.js';
import { withSession } from '../../session/with-session.js';
import type { FetchRepodataResult } from '../../repodata/types.js';
import type { DemoStep } from './types.js';

const SUBDIRS = ['linux-64', 'noarch'];

function describe(r: FetchRepodataResult): string {
  const count = Object.keys(r.repodata['packages.conda'] ?? {}).length + Object.keys(r.repodata.packages ?? {}).length;
  return `${r.cacheResult.padEnd(11)} ${r.url.toString().padEnd(34)} ${String(count).padStart(2)} packages  (${r.source})`;
}

export const repodataStep: DemoStep = {
  title: "Channel indexes into conda's cache (.zst first, HTTP caching, sharded repodata)",
  async run(ctx) {
    const cacheDir = join(ctx.workDir, 'repodata-cache');
    const fetchAll = async (label: string, settings = ctx.settings) => {
      const results = await Promise.all(SUBDIRS.map((s) => fetchRepodata(ctx.server.url, s, { cacheDir, settings })));
      for (const r of results) ctx.print(`  ${label.padEnd(12)} ${describe(r)}`);
      return results;
    };
    await fetchAll('cold fetch');
    await fetchAll('again');
    // local_repodata_ttl 0: always ask the server, which answers 304 Not Modified.
    await fetchAll('revalidate', withSettings(ctx.settings, { localRepodataTtl: 0 }));
    // Sharded repodata: only demo-cli and what its depends reach, over linux-64 and noarch together.
    await withSession({ settings: ctx.settings }, async (session) => {
      const subsets = await fetchShardedSubset(ctx.server.url, SUBDIRS, ['demo-cli'], { cacheDir, settings: ctx.settings, session });
      for (const r of subsets?.values() ?? []) {
        const names = Object.values(r.repodata['packages.conda'] ?? {}).map((rec) => rec.name).sort();
        ctx.print(`  ${'sharded'.padEnd(12)} ${describe(r)}: ${names.join(', ')}`);
      }
    });
  },
};
