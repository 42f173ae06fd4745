/**
 * Settings for a CLI run: conda's configuration (.condarc files on conda's search path,
 * CONDA_* variables) plus the global flags. The only place the CLI builds Settings, and
 * so the one place that warns when TLS verification is off.
 */
import { homedir } from 'node:os';
import { loadCondaSettings } from '../config/condarc.js';
import type { Settings, SettingValues } from '../core/settings.js';
import type { CliIo, GlobalOptions } from './io.js';

export interface CliSettingsOptions {
  /**
   * Read .condarc files. Off for runs that must not see the user's configuration.
   * @default true, except with an empty environment (the demo passes `env: {}` to ignore the caller's setup)
   */
  configFiles?: boolean;
}

export function cliSettings(io: CliIo, global: GlobalOptions, extra: Partial<SettingValues> = {}, options: CliSettingsOptions = {}): Settings {
  const overrides: Partial<SettingValues> = { ...extra };
  if (global.offline) overrides.offline = true;
  if (global.insecure) overrides.sslVerify = false;
  const homeDir = io.env.HOME || homedir();
  const settings = loadCondaSettings({
    env: io.env, cwd: io.cwd, homeDir, overrides,
    ...((options.configFiles ?? Object.keys(io.env).length > 0) ? {} : { files: [] }),
  });
  warnInsecure(io, global, settings);
  return settings;
}

/** A debug logger that writes to stderr only with --verbose. */
export function verboseLog(io: CliIo, global: GlobalOptions): (message: string) => void {
  return global.verbose ? (message) => io.stderr.write(`debug: ${message}\n`) : () => undefined;
}

const warned = new WeakSet<object>();

/**
 * --insecure must say loudly that verification is off; ssl_verify: false from the
 * configuration is said once too. Once per run (io), whoever calls it.
 */
export function warnInsecure(io: CliIo, global: GlobalOptions, settings?: Settings): void {
  if (warned.has(io)) return;
  if (global.insecure) {
    warned.add(io);
    io.stderr.write('WARNING: --insecure: TLS certificate verification is OFF for this run (ssl_verify: false). ' +
      'Anyone on the network path can read and change what is downloaded.\n');
  } else if (settings?.sslVerify === false) {
    warned.add(io);
    io.stderr.write(`WARNING: TLS certificate verification is OFF: ssl_verify is false (from ${settings.sources.sslVerify.origin}).\n`);
  }
}
