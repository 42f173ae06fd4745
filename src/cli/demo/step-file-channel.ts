/** Demo step: the same channel read from disk over file://, in offline mode, with a cut download resumed from its .partial. */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { download } from '../../download/download.js';
import { withSession } from '../../session/with-session.js';
import { createByteBar, formatBytes } from '../progress.js';
import { demoPackages, type DemoStep } from './types.js';

export const fileChannelStep: DemoStep = {
  title: 'A local channel over file:// in offline mode (no network; a stopped download resumes from its .partial)',
  async run(ctx) {
    const settings = { ...ctx.settings, offline: true };
    await withSession({ settings }, async (session) => {
      const index = pathToFileURL(join(ctx.channelDir, 'noarch', 'repodata.json'));
      const res = await session.fetch(index, { method: 'HEAD' });
      ctx.print(`   HEAD ${index.href}: ${res.status}, ${res.headers.get('content-type')}, ${res.headers.get('content-length')} bytes`);
      const pkg = (await demoPackages(ctx.channelDir)).sort((a, b) => b.size - a.size)[0];
      if (!pkg) return;
      const url = pathToFileURL(join(ctx.channelDir, pkg.subdir, pkg.fn));
      const target = join(ctx.workDir, 'file-channel', pkg.fn);
      const { mkdir } = await import('node:fs/promises');
      await mkdir(join(ctx.workDir, 'file-channel'), { recursive: true });
      // Stop the first attempt part-way, as a Ctrl-C would; the verified prefix stays in .partial.
      const stop = new AbortController();
      await download(url, target, {
        sha256: pkg.sha256, size: pkg.size, session, signal: stop.signal,
        onProgress: (p) => {
          if (p.bytes >= pkg.size / 3) stop.abort();
        },
      }).catch(() => undefined);
      const kept = await stat(`${target}.partial`).then((s) => s.size, () => 0);
      ctx.print(`   stopped ${pkg.fn} after ${formatBytes(kept)}; resuming over file:// with Range`);
      const bar = await createByteBar(ctx.io, ctx.global, pkg.fn.padEnd(44));
      const result = await download(url, target, {
        sha256: pkg.sha256, size: pkg.size, session, onProgress: (p) => bar.update(p.bytes, p.total),
      }).finally(() => bar.stop());
      ctx.print(`  ok  ${pkg.fn.padEnd(44)} ${formatBytes(result.bytes).padStart(10)}  sha256 ${result.sha256.slice(0, 12)}…` +
        `  (resumed from byte ${result.resumedFrom})`);
    });
  },
};
