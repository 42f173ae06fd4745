/**
 * loadSettings: resolve conda settings from layers (lowest first: defaults, .condarc
 * files, CONDA_* variables, explicit overrides) with conda's merge rules: scalars take
 * the highest-precedence value, maps merge key by key, lists concatenate (higher
 * precedence first, de-duplicated, `#!top`/`#!bottom` honoured), and a `#!final`
 * value stops later layers. Pure: the environment is passed in.
 */
import { homedir } from 'node:os';
import { SETTING_KEYS, SETTING_SPECS, settingKeyForName } from './registry.js';
import type { SettingKey, SettingValues, Settings } from '../core/settings.js';
import type { SettingSource } from './parsers.js';
import { ConfigError } from '../errors/classes.js';

/** One source of raw values, e.g. a parsed .condarc file. Keys are conda's names. */
export interface SettingsLayer {
  /** Shown in errors and `config` output: a file path or 'env'. */
  readonly origin: string;
  readonly values: Readonly<Record<string, unknown>>;
  /** Line of each key in the file, for errors that name file and line. */
  readonly lines?: Readonly<Record<string, number>>;
  /** Keys marked `#!final`: layers of higher precedence may not change them. */
  readonly final?: readonly string[];
  /** Per list item of a key: `#!top` / `#!bottom` markers. */
  readonly itemFlags?: Readonly<Record<string, ReadonlyArray<'top' | 'bottom' | undefined>>>;
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

interface Contribution {
  value: unknown;
  source: SettingSource;
  flags?: ReadonlyArray<'top' | 'bottom' | undefined>;
  /** Map entries' own places (file:line of the nested key). */
  entries?: Record<string, string>;
}

function entryOrigins(value: unknown, name: string, layer: SettingsLayer, fallback: string): Record<string, string> | undefined {
  if (!isPlainMap(value)) return undefined;
  const out: Record<string, string> = {};
  for (const key of Object.keys(value)) {
    const line = layer.lines?.[`${name}.${key}`];
    out[key] = line ? `${layer.origin}:${line}` : fallback;
  }
  return out;
}

function isPlainMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function listKey(item: unknown): string {
  return typeof item === 'string' ? item : JSON.stringify(item);
}

function unique(items: readonly unknown[]): unknown[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const key = listKey(item);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** conda's SequenceParameter merge: higher precedence first; marked items to the top or bottom. */
function mergeLists(contributions: readonly Contribution[]): unknown[] {
  const marked = (c: Contribution, flag: 'top' | 'bottom') =>
    (c.value as unknown[]).filter((_v, i) => c.flags?.[i] === flag);
  const top = contributions.flatMap((c) => marked(c, 'top'));
  const bottom = [...contributions].reverse().flatMap((c) => marked(c, 'bottom'));
  const all = [...contributions].reverse().flatMap((c) => c.value as unknown[]);
  const topDeduped = unique([...top, ...all]);
  return unique([...[...bottom].reverse(), ...[...topDeduped].reverse()]).reverse();
}

function merge(contributions: readonly Contribution[]): { value: unknown; source: SettingSource } {
  const last = contributions[contributions.length - 1] as Contribution;
  if (contributions.length === 1) {
    return { value: last.value, source: last.entries ? { ...last.source, entries: last.entries } : last.source };
  }
  const also = contributions.slice(0, -1).map((c) => c.source.origin).reverse();
  if (contributions.every((c) => Array.isArray(c.value))) {
    return { value: mergeLists(contributions), source: { origin: last.source.origin, also } };
  }
  if (contributions.every((c) => isPlainMap(c.value))) {
    const entries = Object.assign({}, ...contributions.map((c) => c.entries ?? {})) as Record<string, string>;
    return { value: Object.assign({}, ...contributions.map((c) => c.value)), source: { origin: last.source.origin, also, entries } };
  }
  return { value: last.value, source: last.source };
}

export function loadSettings(options: LoadSettingsOptions = {}): Settings {
  const env = Object.freeze({ ...(options.env ?? {}) });
  const contributions = new Map<SettingKey, Contribution[]>();
  const finalKeys = new Set<SettingKey>();
  const add = (key: SettingKey, c: Contribution) => {
    if (finalKeys.has(key)) return;
    contributions.set(key, [...(contributions.get(key) ?? []), c]);
  };

  for (const layer of options.layers ?? []) {
    const finalInLayer: SettingKey[] = [];
    for (const [name, raw] of Object.entries(layer.values)) {
      const key = settingKeyForName(name);
      if (!key) continue; // keys of conda's that the connection layer does not read
      const line = layer.lines?.[name];
      const source = { origin: line ? `${layer.origin}:${line}` : layer.origin };
      const spec = SETTING_SPECS[key];
      const value = spec.parse(raw, spec.name, source);
      add(key, { value, source, flags: layer.itemFlags?.[name], entries: entryOrigins(value, name, layer, source.origin) });
      if (layer.final?.includes(name)) finalInLayer.push(key);
    }
    for (const key of finalInLayer) finalKeys.add(key);
  }

  for (const key of SETTING_KEYS) {
    const spec = SETTING_SPECS[key];
    for (const envName of [spec.env, ...spec.aliases.map((a) => `CONDA_${a.toUpperCase()}`)]) {
      const raw = env[envName];
      if (raw === undefined || raw === '') continue;
      const source = { origin: `env:${envName}` };
      const value = spec.parse(raw, spec.name, source);
      add(key, { value, source, entries: isPlainMap(value) ? Object.fromEntries(Object.keys(value).map((k) => [k, source.origin])) : undefined });
      break;
    }
  }

  const values = {} as Record<SettingKey, unknown>;
  const sources = {} as Record<SettingKey, SettingSource>;
  for (const key of SETTING_KEYS) {
    const found = contributions.get(key);
    if (found?.length) {
      const merged = merge(found);
      values[key] = merged.value;
      sources[key] = merged.source;
    } else {
      values[key] = SETTING_SPECS[key].default;
      sources[key] = { origin: 'default' };
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
      hint: `Set client_ssl_cert next to client_ssl_cert_key (${sources.clientSslCertKey.origin}), or remove the key.`,
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
