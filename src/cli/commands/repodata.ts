/** `conda-gateway repodata <channel>...`: fetch channel indexes through conda's cache, every subdir in parallel. */
import type { RegisterCommand } from './types.js';

interface RepodataCliOptions {
  subdir?: string[];
  cacheDir?: string;
  package?: string[];
  json?: boolean;
}

/** conda's `context.subdir` for this machine. */
export function platformSubdir(platform: string = process.platform, arch: string = process.arch): string {
  const os = platform === 'darwin' ? 'osx' : platform === 'win32' ? 'win' : platform;
  const cpu: Record<string, string> = { x64: '64', ia32: '32', arm64: os === 'linux' ? 'aarch64' : 'arm64', ppc64: 'ppc64le', s390x: 's390x' };
  return `${os}-${cpu[arch] ?? arch}`;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export const registerRepodata: RegisterCommand = (program, env) => {
  program
    .command('repodata')
    .description("fetch channel indexes (repodata) into conda's cache: .zst first, sharded when --package is given")
    .argument('<channel...>', 'channel names (conda-forge, defaults) or URLs')
    .option('--subdir <name>', 'subdir to fetch (repeatable; default: this platform and noarch)', collect)
    .option('--cache-dir <dir>', "cache directory (default: conda's <first pkgs_dir>/cache)")
    .option('--package <name>', 'only these packages and their dependencies, from sharded repodata when offered (repeatable)', collect)
    .option('--json', 'print one JSON object on stdout')
    .action(async (channels: string[], opts: RepodataCliOptions) => {
      const { io } = env;
      const global = { ...env.globals(), json: opts.json };
      const [repodata, { cliSettings, verboseLog, warnInsecure }, render, { resolveChannelUrls }, { lazySession }, path, { maskUrl }] =
        await Promise.all([
          import('../../repodata/index.js'), import('../context.js'), import('../render-error.js'),
          import('../../config/channels.js'), import('../../session/lazy-session.js'), import('node:path'),
          import('../../redact/safe-url.js'),
        ]);
      let session: import('../../session/create-session.js').Session | undefined;
      try {
        warnInsecure(io, global);
        const settings = cliSettings(io, global);
        const log = verboseLog(io, global);
        // Built on the first request only: with fresh caches undici is never loaded.
        session = lazySession({ settings, log, onRetry: (e) => log(`retry ${e.attempt} after ${e.reason} in ${e.delayMs} ms: ${e.url}`) });
        const cacheDir = opts.cacheDir ? path.resolve(io.cwd, opts.cacheDir) : repodata.defaultCacheDir(settings);
        const subdirs = [...new Set(opts.subdir?.length ? opts.subdir : [platformSubdir(), 'noarch'])];
        const packages = opts.package ?? [];
        const urls = [...new Set(channels.flatMap((c) => resolveChannelUrls(c, settings)))];
        const common = { cacheDir, settings, session, log };

        const perChannel = async (url: string): Promise<Outcome[]> => {
          let subsets: Map<string, import('../../repodata/types.js').FetchRepodataResult> | null = null;
          // A dependency closure also walks noarch, even when only a platform subdir is printed.
          const walked = packages.length > 0 ? [...new Set([...subdirs, 'noarch'])] : subdirs;
          if (packages.length > 0 && settings.repodataUseShards) {
            try {
              subsets = await repodata.fetchShardedSubset(url, walked, packages, common);
            } catch (error) {
              return subdirs.map((subdir) => ({ channel: url, subdir, error }));
            }
          }
          const outcomes = await Promise.all(walked.map(async (subdir): Promise<Outcome> => {
            const ready = subsets?.get(subdir);
            if (ready) return { channel: url, subdir, result: ready };
            try {
              return { channel: url, subdir, result: await repodata.fetchRepodata(url, subdir, common) };
            } catch (error) {
              return { channel: url, subdir, error };
            }
          }));
          if (packages.length > 0 && !subsets) {
            // No shards: the same subset, taken from the full indexes.
            const full = outcomes.filter((o) => o.result);
            const cut = repodata.closureOf(await Promise.all(full.map((o) => o.result!.records())), packages);
            full.forEach((o, i) => {
              o.subset = cut[i]!;
            });
          }
          // A closure is printed whole: noarch records it needed are part of it even when only a platform subdir was asked for.
          return packages.length > 0 ? outcomes : outcomes.filter((o) => subdirs.includes(o.subdir));
        };
        const outcomes = (await Promise.all(urls.map(perChannel))).flat().map((o) => ({ ...o, channel: maskUrl(o.channel) }));
        await Promise.all(outcomes.map(async (o) => {
          // Counted without parsing the index (a cold fetch never parses it); on a hit that is a
          // pass over the file, so only when it is printed.
          const shown = global.json || !global.quiet;
          if (o.result && shown) o.count = o.subset ? countOf(o.subset) : await o.result.recordCount();
          if (o.result && packages.length > 0) o.subset ??= await o.result.records();
        }));
        report(io, global, outcomes, packages.length > 0, render, env.setExitCode);
      } catch (err) {
        env.setExitCode(render.renderError(io, err, { json: global.json, verbose: global.verbose }));
      } finally {
        await session?.close();
      }
    });
};

type Outcome = {
  channel: string; subdir: string; result?: import('../../repodata/types.js').FetchRepodataResult; error?: unknown;
  /** The closure cut from a full index (no shards). */
  subset?: import('../../repodata/types.js').Repodata;
  count?: number;
};

function countOf(repodata: import('../../repodata/types.js').Repodata): number {
  return Object.keys(repodata.packages ?? {}).length + Object.keys(repodata['packages.conda'] ?? {}).length;
}

function report(io: import('../io.js').CliIo, global: import('../io.js').GlobalOptions, outcomes: Outcome[], withSubset: boolean,
  render: typeof import('../render-error.js'), setExitCode: (code: number) => void): void {
  let failed = 0;
  const rows = outcomes.map((o) => {
    if (!o.result) {
      failed++;
      setExitCode(global.json ? render.exitCodeFor(o.error) : render.renderError(io, o.error, { verbose: global.verbose }));
      const json = (o.error as { toJSON?: () => unknown }).toJSON?.() ?? { message: String(o.error) };
      return { subdir: o.subdir, channel: o.channel, ok: false, error: json };
    }
    const r = o.result;
    return {
      subdir: o.subdir, channel: o.channel, ok: true, url: r.url.toString(), cacheResult: r.cacheResult, source: r.source,
      packages: o.count ?? 0, cachePath: r.cachePath, ...(r.shards ? { shards: r.shards } : {}),
      ...(withSubset ? { repodata: o.subset } : {}),
    };
  });
  if (global.json) {
    io.stdout.write(`${JSON.stringify({ ok: failed === 0, results: rows })}\n`);
    return;
  }
  for (const row of rows) {
    if (!row.ok || global.quiet) continue;
    const r = row as { url: string; cacheResult: string; source: string; packages: number; cachePath: string; shards?: { shards: number; downloaded: number } };
    const shards = r.shards ? `, ${r.shards.shards} shards (${r.shards.downloaded} downloaded)` : '';
    io.stderr.write(`${r.url}: ${r.cacheResult.padEnd(11)} ${r.packages} packages from ${r.source}${shards}` +
      `${global.verbose ? `\n    cache: ${r.cachePath}` : ''}\n`);
  }
  if (withSubset) {
    const subset: Record<string, unknown> = {};
    for (const row of rows) if (row.ok) subset[(row as { url: string }).url] = (row as { repodata: unknown }).repodata;
    io.stdout.write(`${JSON.stringify(subset, null, 1)}\n`);
  }
}
