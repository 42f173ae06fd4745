/**
 * Settings for a CLI run: conda's configuration (env now, .condarc files with the
 * configuration work) plus the global flags. The only place the CLI builds Settings.
 */
import { loadSettings } from '../config/load-settings.js';
import type { Settings, SettingValues } from '../config/settings.js';
import type { CliIo, GlobalOptions } from './io.js';

export function cliSettings(io: CliIo, global: GlobalOptions, extra: Partial<SettingValues> = {}): Settings {
  const overrides: Partial<SettingValues> = { ...extra };
  if (global.offline) overrides.offline = true;
  if (global.insecure) overrides.sslVerify = false;
  return loadSettings({ env: io.env, cwd: io.cwd, overrides });
}

/** A debug logger that writes to stderr only with --verbose. */
export function verboseLog(io: CliIo, global: GlobalOptions): (message: string) => void {
  return global.verbose ? (message) => io.stderr.write(`debug: ${message}\n`) : () => undefined;
}

/** --insecure must say loudly that verification is off. */
export function warnInsecure(io: CliIo, global: GlobalOptions): void {
  if (global.insecure) {
    io.stderr.write('WARNING: --insecure: TLS certificate verification is OFF for this run (ssl_verify: false).\n');
  }
}
