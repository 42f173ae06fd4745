/**
 * loadSettings: resolve conda settings from layers (lowest first: defaults, .condarc
 * files, CONDA_* variables, explicit overrides). Pure: the environment is passed in.
 */
import { homedir } from 'node:os';
import { SETTING_KEYS, SETTING_SPECS, settingKeyForName } from './registry.js';
import type { SettingKey, SettingValues, Settings } from './settings.js';
import type { SettingSource } from './parsers.js';
import { ConfigError } from '../errors/classes.js';

/** One source of raw values, e.g. a parsed .condarc file. Keys are conda's names. */
export interface SettingsLayer {
  /** Shown in errors and `config` output: a file path or 'env'. */
  readonly origin: string;
  readonly values: Readonly<Record<string, unknown>>;
  /** Line of each key in the file, for errors that name file and line. */
  readonly lines?: Readonly<Record<string, number>>;
}

export interface LoadSettingsOptions {
  /** Environment to read CONDA_* and friends from. Never defaults to process.env. @default {} */
  env?: Readonly<Record<string, string | undefined>>;
  cwd?: string;
  /** Configuration layers below the environment (e.g. .condarc files), lowest precedence first. */
  layers?: readonly SettingsLayer[];
  /** Highest precedence: CLI flags or API callers. */
  overrides?: Partial<SettingValues>;
  /** @default env.HOME or os.homedir() */
  homeDir?: string;
}

export function loadSettings(options: LoadSettingsOptions = {}): Settings {
  const env = Object.freeze({ ...(options.env ?? {}) });
  const values = {} as Record<SettingKey, unknown>;
  const sources = {} as Record<SettingKey, SettingSource>;
  for (const key of SETTING_KEYS) {
    values[key] = SETTING_SPECS[key].default;
    sources[key] = { origin: 'default' };
  }

  for (const layer of options.layers ?? []) {
    for (const [name, raw] of Object.entries(layer.values)) {
      const key = settingKeyForName(name);
      if (!key) continue; // keys of conda's that the connection layer does not read
      const line = layer.lines?.[name];
      const source = { origin: line ? `${layer.origin}:${line}` : layer.origin };
      values[key] = SETTING_SPECS[key].parse(raw, SETTING_SPECS[key].name, source);
      sources[key] = source;
    }
  }

  for (const key of SETTING_KEYS) {
    const spec = SETTING_SPECS[key];
    for (const envName of [spec.env, ...spec.aliases.map((a) => `CONDA_${a.toUpperCase()}`)]) {
      const raw = env[envName];
      if (raw === undefined || raw === '') continue;
      const source = { origin: `env:${envName}` };
      values[key] = spec.parse(raw, spec.name, source);
      sources[key] = source;
      break;
    }
  }

  for (const [key, value] of Object.entries(options.overrides ?? {}) as Array<[SettingKey, unknown]>) {
    if (value === undefined || !(key in SETTING_SPECS)) continue;
    const source = { origin: 'override' };
    values[key] = SETTING_SPECS[key].parse(value, SETTING_SPECS[key].name, source);
    sources[key] = source;
  }

  if (values.clientSslCertKey && !values.clientSslCert) {
    throw new ConfigError("'client_ssl_cert' is required when 'client_ssl_cert_key' is defined " +
      `(client_ssl_cert_key from ${sources.clientSslCertKey.origin}).`, {
      details: { setting: 'client_ssl_cert_key', source: sources.clientSslCertKey.origin },
    });
  }

  const homeDir = options.homeDir ?? env.HOME ?? homedir();
  return Object.freeze({
    ...(values as unknown as SettingValues),
    sources: Object.freeze(sources),
    env,
    homeDir,
  });
}

/** Settings with every default: no files, no environment. */
export function defaultSettings(overrides: Partial<SettingValues> = {}): Settings {
  return loadSettings({ env: {}, overrides });
}

/** A copy of settings with some values replaced (provenance 'override'). */
export function withSettings(base: Settings, overrides: Partial<SettingValues>): Settings {
  const values: Record<string, unknown> = {};
  const sources: Record<string, SettingSource> = { ...base.sources };
  for (const key of SETTING_KEYS) values[key] = base[key];
  for (const [key, value] of Object.entries(overrides) as Array<[SettingKey, unknown]>) {
    if (value === undefined) continue;
    values[key] = SETTING_SPECS[key].parse(value, SETTING_SPECS[key].name, { origin: 'override' });
    sources[key] = { origin: 'override' };
  }
  return Object.freeze({
    ...(values as unknown as SettingValues),
    sources: Object.freeze(sources) as Settings['sources'],
    env: base.env,
    homeDir: base.homeDir,
  });
}
