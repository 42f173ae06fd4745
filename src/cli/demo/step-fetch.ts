/** Demo step: fetch a whole explicit environment into a package cache in parallel, then again from the cache alone. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fetchPackages, type FetchEvent } from '../../packages/index.js';
import { createMultiBar, formatBytes } from '../progress.js';
import { demoPackages, type DemoStep } from './types.js';

export const fetchStep: DemoStep = {
  title: 'Fetch a whole environment (explicit file) into a conda package cache, in parallel, then again from the cache',
  async run(ctx) {
    const packages = await demoPackages(ctx.channelDir);
    const specFile = join(ctx.workDir, 'demo-env.txt');
    await writeFile(specFile, [
      '# platform: linux-64', '@EXPLICIT',
      ...packages.map((p) => `${ctx.server.url}/${p.subdir}/${p.fn}#sha256:${p.sha256}`), '',
    ].join('\n'));
    const pkgsDir = join(ctx.workDir, 'pkgs');
    const { readSpecs, mergeSpecs } = await import('../../packages/index.js');
    const specs = mergeSpecs(await readSpecs([specFile], { platforms: ['linux-64', 'noarch'] }));
    ctx.print(`   ${specFile}: ${specs.length} packages -> ${pkgsDir}`);

    const bars = await createMultiBar(ctx.io, ctx.global);
    const onEvent = (e: FetchEvent): void => {
      if (e.type === 'plan') bars.setTotals(e.toFetch, e.toFetchBytes);
      else if (e.type === 'start') bars.startItem(e.url, e.fileName, e.size);
      else if (e.type === 'progress') bars.updateItem(e.url, e.bytes, e.total);
      else if (e.type === 'done') bars.endItem(e.url, e.bytes - e.resumedFrom);
      else if (e.type === 'error' || e.type === 'cached') bars.endItem(e.url, 0);
    };
    // The demo channel's package files are generated filler, not real archives: keep the tarballs only.
    const first = await fetchPackages(specs, { pkgsDir, jobs: 4, settings: ctx.settings, onEvent, extract: false })
      .finally(() => bars.stop());
    ctx.print(`   first run:  ${first.fetched} fetched (${formatBytes(first.bytesFetched)}), ${first.cached} cached, ${first.failed} failed; ` +
      'each file verified by sha256 and recorded in urls.txt');
    if (first.failed > 0) throw new Error(`the demo fetch failed for ${first.failed} package(s): ${first.failures[0]?.error.message ?? ''}`);

    const before = ctx.server.requests.length;
    const second = await fetchPackages(specs, { pkgsDir, settings: ctx.settings, extract: false });
    ctx.print(`   second run: ${second.cached} from the cache, ${second.fetched} fetched, ` +
      `${ctx.server.requests.length - before} requests made`);
  },
};
