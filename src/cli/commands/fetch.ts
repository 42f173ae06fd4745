/** `conda-gateway fetch [<spec>...]`: every package of an environment into a conda package cache. */
import type { RegisterCommand } from './types.js';
import type { FetchEvent, FetchSummary } from '../../packages/index.js';
import type { CliIo, GlobalOptions } from '../io.js';

interface FetchFlags {
  pkgsDir?: string;
  jobs?: string;
  json?: boolean;
  dryRun?: boolean;
  failFast?: boolean;
  platform?: string[];
  environment?: string;
  maxSpecBytes?: string;
  /** commander's negation of --no-extract. */
  extract?: boolean;
  keepCredentials?: boolean;
}

/** JSON progress lines per package, at most this often. */
const JSON_PROGRESS_INTERVAL_MS = 500;

export const registerFetch: RegisterCommand = (program, env) => {
  program
    .command('fetch')
    .description('fetch every package of explicit files, conda-lock.yml, pixi.lock or package URLs into a conda package cache')
    .argument('[specs...]', 'spec or lock files, package URLs, or URLs of spec files')
    .option('--pkgs-dir <dir>', 'package cache directory (default: pkgs_dirs / CONDA_PKGS_DIRS, else ~/.conda/pkgs)')
    .option('-j, --jobs <n>', 'parallel downloads (default: fetch_threads when set)')
    .option('--json', 'print JSON lines (events and a summary) on stdout')
    .option('--dry-run', 'check the cache and list what would be fetched; no download')
    .option('--fail-fast', 'stop at the first failed package')
    .option('--platform <subdir>', "platform to take from lock files; repeat or comma-separate (default: this machine's subdir and noarch)",
      (value: string, previous: string[] = []) => [...previous, value])
    .option('--environment <name>', 'environment of a pixi.lock', 'default')
    .option('--max-spec-bytes <n>', 'largest spec or lock file to read, on disk or decoded from a URL (default: 256 MiB)')
    .option('--no-extract', 'keep only the tarballs; do not extract packages into <pkgs>/<name>-<version>-<build>/')
    .option('--keep-credentials', 'write token/password URLs into urls.txt and repodata_record.json as conda does ' +
      '(setting pkgs_keep_credentials); secrets then sit on disk')
    .action(async (specs: string[], flags: FetchFlags) => {
      const global: GlobalOptions = { ...env.globals(), json: flags.json };
      const { renderError } = await import('../render-error.js');
      try {
        env.setExitCode(await runFetch(env.io, global, specs, flags));
      } catch (err) {
        env.setExitCode(renderError(env.io, err, { json: global.json, verbose: global.verbose }));
      }
    });
};

async function runFetch(io: CliIo, global: GlobalOptions, specs: string[], flags: FetchFlags): Promise<number> {
  const [{ fetchPackages, readSpecs, mergeSpecs, defaultPlatforms }, { cliSettings, verboseLog, warnInsecure }, { createMultiBar },
    { CondaValueError }, { ERROR_CODES }, { resolve }] = await Promise.all([
    import('../../packages/index.js'), import('../context.js'), import('../progress.js'),
    import('../../errors/classes.js'), import('../../errors/codes.js'), import('node:path'),
  ]);
  if (specs.length === 0) {
    throw new CondaValueError('Nothing to fetch: give spec files (explicit, conda-lock.yml, pixi.lock) or package URLs.');
  }
  let jobs: number | undefined;
  if (flags.jobs !== undefined) {
    jobs = Number(flags.jobs);
    if (!Number.isInteger(jobs) || jobs < 1) throw new CondaValueError(`-j/--jobs must be a whole number of 1 or more, not '${flags.jobs}'.`);
  }
  let maxSpecBytes: number | undefined;
  if (flags.maxSpecBytes !== undefined) {
    maxSpecBytes = Number(flags.maxSpecBytes);
    if (!Number.isSafeInteger(maxSpecBytes) || maxSpecBytes < 1) {
      throw new CondaValueError(`--max-spec-bytes must be a whole number of bytes, not '${flags.maxSpecBytes}'.`);
    }
  }
  warnInsecure(io, global);
  const settings = cliSettings(io, global);
  const log = verboseLog(io, global);
  const platforms = flags.platform?.flatMap((p) => p.split(',')).map((p) => p.trim()).filter(Boolean);
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = (): void => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    if (!global.json && !global.quiet) io.stderr.write('\nInterrupted: stopping; partial downloads are kept and resume on the next run.\n');
    controller.abort(new Error('SIGINT'));
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  const bars = await createMultiBar(io, global);
  try {
    const parsed = await readSpecs(specs, {
      platforms: platforms?.length ? platforms : defaultPlatforms(), environment: flags.environment, cwd: io.cwd, settings,
      signal: controller.signal, maxSpecBytes,
    });
    for (const list of parsed) {
      for (const s of list.skipped) {
        if (global.json) io.stdout.write(`${JSON.stringify({ type: 'skipped', file: s.origin.file, line: s.origin.line, reason: s.reason })}\n`);
        else log(`skipped ${s.origin.file}:${s.origin.line ?? '?'}: ${s.reason}`);
      }
    }
    const packages = mergeSpecs(parsed);
    const onEvent = global.json ? jsonEvents(io) : barEvents(io, global, bars);
    const summary = await fetchPackages(packages, {
      pkgsDir: flags.pkgsDir === undefined ? undefined : resolve(io.cwd, flags.pkgsDir),
      jobs, settings, signal: controller.signal, failFast: flags.failFast, dryRun: flags.dryRun, log, onEvent,
      extract: flags.extract !== false, ...(flags.keepCredentials ? { keepCredentials: true } : {}),
    });
    bars.stop();
    if (!global.json) printSummary(io, summary, Boolean(global.quiet));
    if (summary.aborted && !summary.failed) return ERROR_CODES.CG_ABORTED.exitCode;
    const first = summary.failures[0];
    return first ? ERROR_CODES[first.error.code].exitCode : summary.aborted ? ERROR_CODES.CG_ABORTED.exitCode : 0;
  } finally {
    bars.stop();
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
}

function jsonEvents(io: CliIo): (event: FetchEvent) => void {
  const last = new Map<string, number>();
  return (event) => {
    if (event.type === 'progress') {
      const now = performance.now();
      if (event.bytes !== event.total && now - (last.get(event.url) ?? -Infinity) < JSON_PROGRESS_INTERVAL_MS) return;
      last.set(event.url, now);
    }
    io.stdout.write(`${JSON.stringify(event)}\n`);
  };
}

function barEvents(io: CliIo, global: GlobalOptions, bars: import('../progress.js').MultiByteBar): (event: FetchEvent) => void {
  const verbose = global.verbose && !global.quiet;
  return (event) => {
    switch (event.type) {
      case 'plan':
        bars.setTotals(event.toFetch, event.toFetchBytes);
        break;
      case 'start':
        bars.startItem(event.url, event.fileName, event.size);
        break;
      case 'progress':
        bars.updateItem(event.url, event.bytes, event.total);
        break;
      case 'done':
        bars.endItem(event.url, event.bytes - event.resumedFrom);
        if (verbose) bars.log(`fetched ${event.fileName} from ${event.from}${event.resumedFrom ? ` (resumed at ${event.resumedFrom})` : ''}`);
        break;
      case 'cached':
        bars.endItem(event.url, 0);
        if (verbose) bars.log(`cached  ${event.fileName}`);
        break;
      case 'extracted':
        if (verbose) bars.log(`extracted ${event.fileName} (${event.files} files) in ${event.elapsedMs} ms`);
        break;
      case 'retry':
        if (verbose) bars.log(`retry ${event.fileName} after ${event.reason} in ${event.delayMs} ms`);
        break;
      case 'mirror-failover':
        if (!global.quiet) bars.log(`mirror failed for ${event.fileName}: ${event.from}: ${event.reason}${event.to ? `; trying ${event.to}` : ''}`);
        break;
      case 'error':
        bars.endItem(event.url, 0);
        break;
      default:
        break;
    }
  };
}

/** The whole summary; with -q only the failures, which a quiet run must still explain. */
function printSummary(io: CliIo, s: FetchSummary, quiet: boolean): void {
  if (quiet && !s.failures.length) return;
  const mib = (n: number): string => `${(n / 1048576).toFixed(1)} MiB`;
  const secs = s.elapsedMs / 1000;
  const rate = secs > 0 ? `${mib(s.bytesFetched / secs)}/s` : '';
  const out: string[] = [];
  if (!quiet && s.dryRun) {
    out.push(`Dry run: ${s.notStarted} of ${s.total} packages would be fetched into ${s.pkgsDir}; ${s.cached} already cached.`);
    for (const p of s.packages.filter((r) => r.status === 'would-fetch')) out.push(`  would fetch ${p.url}`);
  } else if (!quiet) {
    out.push(`${s.fetched} fetched (${mib(s.bytesFetched)} in ${secs.toFixed(1)} s${rate ? `, ${rate}` : ''}), ` +
      `${s.cached} from cache, ${s.extracted} extracted, ${s.failed} failed${s.notStarted ? `, ${s.notStarted} not fetched` : ''} — ${s.pkgsDir}`);
  }
  const unverified = s.packages.filter((p) => p.unverified && (p.status === 'fetched' || p.status === 'cached'));
  if (unverified.length && !quiet) {
    out.push(`${unverified.length} package(s) had no checksum and are NOT verified:`);
    for (const p of unverified) out.push(`  ${p.fileName}`);
  }
  if (s.failures.length) {
    out.push(`${s.failures.length} package(s) failed:`);
    for (const f of s.failures) {
      const where = f.origin ? ` (${f.origin.file}${f.origin.line ? `:${f.origin.line}` : ''})` : '';
      out.push(`  ${f.fileName}${where}: ${f.error.error}: ${f.error.message.split('\n')[0]}`);
      if (f.error.message.includes('\n')) for (const l of f.error.message.split('\n').slice(1).filter(Boolean)) out.push(`    ${l}`);
    }
  }
  if (s.aborted && !quiet) out.push('Interrupted: run the same command again to resume.');
  io.stderr.write(`${out.join('\n')}\n`);
}
