/** Demo step: download every package over HTTP with verification; one transfer is cut and resumed. */
import { join } from 'node:path';
import { download } from '../../download/download.js';
import { createByteBar, formatBytes } from '../progress.js';
import { demoPackages, type DemoStep } from './types.js';

export const downloadsStep: DemoStep = {
  title: 'Verified downloads over HTTP (one transfer is cut part-way and resumed)',
  async run(ctx) {
    const packages = (await demoPackages(ctx.channelDir)).sort((a, b) => b.size - a.size);
    const biggest = packages[0];
    if (biggest) ctx.server.cutOnce(`/${biggest.subdir}/${biggest.fn}`, 0.4);
    for (const pkg of packages) {
      const url = `${ctx.server.url}/${pkg.subdir}/${pkg.fn}`;
      const bar = await createByteBar(ctx.io, ctx.global, pkg.fn.padEnd(44));
      const result = await download(url, join(ctx.workDir, pkg.fn), {
        sha256: pkg.sha256, size: pkg.size, settings: ctx.settings, sleep: async () => undefined,
        onProgress: (p) => bar.update(p.bytes, p.total),
      }).finally(() => bar.stop());
      const note = result.attempts > 1 ? `  (cut, resumed: ${result.attempts} requests)` : '';
      ctx.print(`  ok  ${pkg.fn.padEnd(44)} ${formatBytes(result.bytes).padStart(10)}  sha256 ${result.sha256.slice(0, 12)}…${note}`);
    }
  },
};
