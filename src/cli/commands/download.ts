/** `conda-gateway download <url>`: one verified, resumable download. */
import { basename } from 'node:path';
import type { RegisterCommand } from './types.js';

export const registerDownload: RegisterCommand = (program, env) => {
  program
    .command('download')
    .description('download one URL (http, https, file, ftp, s3) with verification and resume')
    .argument('<url>', 'URL to fetch')
    .option('-o, --output <path>', 'target file (default: the URL\'s file name in the current directory)')
    .option('--sha256 <hex>', 'expected sha256')
    .option('--md5 <hex>', 'expected md5')
    .option('--size <bytes>', 'expected size in bytes')
    .option('--json', 'print one JSON object on stdout')
    .action(async (url: string, opts: { output?: string; sha256?: string; md5?: string; size?: string; json?: boolean }) => {
      const { io } = env;
      const global = { ...env.globals(), json: opts.json };
      const [{ download }, { cliSettings, verboseLog, warnInsecure }, { createByteBar }, { renderError }, { maskUrl }, { resolve }] =
        await Promise.all([
          import('../../download/download.js'), import('../context.js'), import('../progress.js'),
          import('../render-error.js'), import('../../redact/safe-url.js'), import('node:path'),
        ]);
      try {
        warnInsecure(io, global);
        const settings = cliSettings(io, global);
        const output = opts.output ?? defaultName(url);
        // Keep a trailing separator: `-o dir/` names a directory, which download() refuses clearly.
        const target = resolve(io.cwd, output) + (/[/\\]$/.test(output) ? '/' : '');
        const bar = await createByteBar(io, global, basename(target));
        const log = verboseLog(io, global);
        const result = await download(url, target, {
          settings, sha256: opts.sha256, md5: opts.md5, size: opts.size === undefined ? undefined : (opts.size as unknown as number),
          onProgress: (p) => bar.update(p.bytes, p.total), log,
          onRetry: (e) => log(`retry ${e.attempt} after ${e.reason} in ${e.delayMs} ms: ${e.url}`),
        }).finally(() => bar.stop());
        if (global.json) {
          io.stdout.write(`${JSON.stringify({ ok: true, ...result, url: result.url.toString() })}\n`);
        } else if (!global.quiet) {
          const how = result.reused ? 'already present and verified' : result.resumedFrom ? `resumed from byte ${result.resumedFrom}` : 'downloaded';
          io.stderr.write(`${maskUrl(url)} -> ${result.path}: ${how}, ${result.bytes} bytes, sha256 ${result.sha256}` +
            `${result.unverified ? ' (no checksum given: not verified)' : ''}\n`);
        }
      } catch (err) {
        env.setExitCode(renderError(io, err, { json: global.json, verbose: global.verbose }));
      }
    });
};

function defaultName(url: string): string {
  try {
    const name = basename(new URL(url).pathname);
    return name || 'download';
  } catch {
    return 'download';
  }
}
