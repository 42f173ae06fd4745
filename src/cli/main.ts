/** The conda-gateway CLI: commander program, global flags, one file per command. */
import { Command, CommanderError } from 'commander';
import { packageVersion } from '../version.js';
import { processIo, type CliIo, type GlobalOptions } from './io.js';
import { renderError } from './render-error.js';
import { escapingIo } from './safe-text.js';
import type { RegisterCommand } from './commands/types.js';
import { registerDownload } from './commands/download.js';
import { registerDemo } from './commands/demo.js';
import { registerFetch } from './commands/fetch.js';
import { registerRepodata } from './commands/repodata.js';
import { registerConfig } from './commands/config.js';
import { registerAuth } from './commands/auth.js';

/** Every command, in help order. Command files import their heavy modules lazily. */
const COMMANDS: RegisterCommand[] = [registerDownload, registerFetch, registerRepodata, registerConfig, registerAuth, registerDemo];

export function buildProgram(io: CliIo, setExitCode: (code: number) => void): Command {
  const program = new Command();
  program
    .name('conda-gateway')
    .description("conda's connection gateway: verified, resumable downloads from conda channels")
    .version(packageVersion(), '--version')
    .option('--offline', 'refuse remote URLs (file:// keeps working); same as CONDA_OFFLINE=true')
    .option('--insecure', 'do not verify TLS certificates (ssl_verify: false)')
    .option('-v, --verbose', 'log retries, credential sources and error causes')
    .option('-q, --quiet', 'no progress bars or summaries')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });
  const env = {
    io,
    globals: () => program.opts<GlobalOptions>(),
    setExitCode,
  };
  for (const register of COMMANDS) register(program, env);
  return program;
}

export async function run(argv: readonly string[] = process.argv, given: CliIo = processIo()): Promise<number> {
  // Outside text (names, URLs, server messages) never reaches the terminal with its control characters.
  const io = escapingIo(given);
  let exitCode = 0;
  const program = buildProgram(io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv]);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    return renderError(io, err);
  }
  return exitCode;
}
