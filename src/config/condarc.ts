/**
 * Find and parse .condarc files in conda's search order and turn each into a
 * SettingsLayer whose values remember their file and line, with conda's `#!final`,
 * `#!top` and `#!bottom` markers. YAML is loaded on first use only.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, extname, join, resolve } from 'node:path';
import { homedir } from 'node:os';
import { ConfigError } from '../errors/classes.js';
import { loadSettings, type LoadSettingsOptions, type SettingsLayer } from './load-settings.js';
import type { Settings } from '../core/settings.js';
import type { Env } from '../core/types.js';


export interface CondarcSearchOptions {
  env: Env;
  homeDir: string;
  /** @default process.platform */
  platform?: NodeJS.Platform;
}

const CONDARC_NAMES = new Set(['.condarc', 'condarc']);
const YAML_EXTENSIONS = new Set(['.yml', '.yaml']);

/** conda's SEARCH_PATH (conda/base/constants.py), lowest precedence first, unexpanded. */
export function condarcSearchPath(platform: NodeJS.Platform = process.platform, env: Env = {}): string[] {
  if (env.CONDA_RESTRICT_RC_SEARCH_PATH !== undefined) return ['$CONDARC'];
  const system = platform === 'win32'
    ? ['C:/ProgramData/conda/.condarc', 'C:/ProgramData/conda/condarc', 'C:/ProgramData/conda/condarc.d']
    : ['/etc/conda/.condarc', '/etc/conda/condarc', '/etc/conda/condarc.d/',
      '/var/lib/conda/.condarc', '/var/lib/conda/condarc', '/var/lib/conda/condarc.d/'];
  return [
    ...system,
    '$CONDA_ROOT/.condarc', '$CONDA_ROOT/condarc', '$CONDA_ROOT/condarc.d/',
    '$XDG_CONFIG_HOME/conda/.condarc', '$XDG_CONFIG_HOME/conda/condarc', '$XDG_CONFIG_HOME/conda/condarc.d/',
    '~/.config/conda/.condarc', '~/.config/conda/condarc', '~/.config/conda/condarc.d/',
    '~/.conda/.condarc', '~/.conda/condarc', '~/.conda/condarc.d/',
    '~/.condarc',
    '$CONDA_PREFIX/.condarc', '$CONDA_PREFIX/condarc', '$CONDA_PREFIX/condarc.d/',
    '$CONDARC',
  ];
}

/** `~` and `$VAR`/`${VAR}`; undefined when a variable the entry needs is unset. */
function expandEntry(entry: string, env: Env, homeDir: string): string | undefined {
  let missing = false;
  const out = entry.replace(/\$\{(\w+)\}|\$(\w+)/g, (_m, a: string | undefined, b: string | undefined) => {
    const value = env[(a ?? b) as string];
    if (value === undefined || value === '') missing = true;
    return value ?? '';
  });
  if (missing) return undefined;
  return out.startsWith('~/') || out === '~' ? join(homeDir, out.slice(1)) : out;
}

function isConfigFileName(path: string): boolean {
  return CONDARC_NAMES.has(basename(path)) || YAML_EXTENSIONS.has(extname(path));
}

/** The .condarc files that exist, in precedence order (lowest first), each once. */
export function findCondarcFiles(options: CondarcSearchOptions): string[] {
  const { env, homeDir } = options;
  const found: string[] = [];
  const seen = new Set<string>();
  const add = (path: string) => {
    const key = resolve(path);
    if (seen.has(key)) return;
    seen.add(key);
    found.push(path);
  };
  for (const entry of condarcSearchPath(options.platform, env)) {
    const path = expandEntry(entry, env, homeDir);
    if (path === undefined) continue;
    let stat;
    try {
      stat = statSync(path);
    } catch {
      continue;
    }
    if (stat.isDirectory()) {
      for (const name of readdirSync(path).sort()) {
        const child = join(path, name);
        if (isConfigFileName(child) && statSync(child, { throwIfNoEntry: false })?.isFile()) add(child);
      }
    } else if (stat.isFile() && (entry === '$CONDARC' || isConfigFileName(path))) {
      // $CONDARC is read whatever its name: a user who sets it means that file.
      add(path);
    }
  }
  return found;
}

type YamlModule = typeof import('yaml');
let yamlModule: YamlModule | undefined;
function loadYaml(): YamlModule {
  yamlModule ??= createRequire(import.meta.url)('yaml') as YamlModule;
  return yamlModule;
}

/** Expand `$VAR` / `${VAR}` in string values as conda does; unknown variables stay as written. */
function expandValue(value: unknown, env: Env): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{(\w+)\}|\$(\w+)/g, (m, a: string | undefined, b: string | undefined) => env[(a ?? b) as string] ?? m);
  }
  if (Array.isArray(value)) return value.map((v) => expandValue(v, env));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expandValue(v, env)]));
  }
  return value;
}

/** The first repeated key of the top-level mapping and the line of its second use. */
function findDuplicateKey(text: string): { key: string; line: number } | undefined {
  const { parseDocument, LineCounter, isMap, isScalar } = loadYaml();
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, uniqueKeys: false });
  if (!isMap(doc.contents)) return undefined;
  const seen = new Set<string>();
  for (const pair of doc.contents.items) {
    if (!isScalar(pair.key)) continue;
    const key = String(pair.key.value);
    if (seen.has(key)) return { key, line: pair.key.range ? counter.linePos(pair.key.range[0]).line : 1 };
    seen.add(key);
  }
  return undefined;
}

const PATH_KEYS = new Set(['ssl_verify', 'verify_ssl', 'client_ssl_cert', 'client_cert', 'client_ssl_cert_key', 'client_cert_key']);

/** Parse one .condarc text into a layer. `file` names the file in errors and provenance. */
export function parseCondarc(text: string, file: string, options: { env?: Env; homeDir?: string } = {}): SettingsLayer {
  const env = options.env ?? {};
  const { parseDocument, LineCounter, isMap, isSeq, isScalar } = loadYaml();
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    let line = first.linePos?.[0]?.line ?? 1;
    let reason = first.message.split('\n')[0]?.replace(/ at line \d+, column \d+.*$/, '');
    if (first.code === 'DUPLICATE_KEY') {
      const dup = findDuplicateKey(text);
      if (dup) {
        line = dup.line;
        reason = `'${dup.key}' is set twice`;
      }
    }
    throw new ConfigError(`Cannot parse ${file} line ${line}: ${reason}.`, {
      details: { file, line }, hint: `Fix the YAML at ${file}:${line}.`,
    });
  }
  const values: Record<string, unknown> = {};
  const lines: Record<string, number> = {};
  const final: string[] = [];
  const itemFlags: Record<string, Array<'top' | 'bottom' | undefined>> = {};
  const sourceLines = text.split(/\r?\n/);
  const lineOf = (offset: number) => lineCounter.linePos(offset).line;
  const marker = (line: number) => /#!(final|top|bottom)\b/.exec(sourceLines[line - 1] ?? '')?.[1];

  if (doc.contents === null || (isScalar(doc.contents) && (doc.contents.value === null || doc.contents.value === ''))) {
    return { origin: file, values, lines };
  }
  if (!isMap(doc.contents)) {
    const line = doc.contents.range ? lineOf(doc.contents.range[0]) : 1;
    throw new ConfigError(`Cannot use ${file}: it must be a mapping of setting names to values (line ${line}).`, {
      details: { file, line }, hint: `Write ${file} as 'key: value' lines, e.g. 'ssl_verify: true'.`,
    });
  }
  let plain: Record<string, unknown>;
  try {
    plain = (doc.toJS({ maxAliasCount: 100 }) ?? {}) as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(`Cannot use ${file}: ${(err as Error).message}.`, {
      cause: err, details: { file }, hint: `Simplify ${file}: conda settings need no YAML aliases.`,
    });
  }
  for (const pair of doc.contents.items) {
    const keyNode = pair.key;
    const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
    const line = isScalar(keyNode) && keyNode.range ? lineOf(keyNode.range[0]) : 1;
    lines[key] = line;
    const valueNode = pair.value;
    let value: unknown = plain[key] ?? null;
    value = expandValue(value, env);
    if (PATH_KEYS.has(key) && typeof value === 'string' && value.startsWith('~/') && options.homeDir) {
      value = join(options.homeDir, value.slice(2));
    }
    values[key] = value;
    if (marker(line) === 'final') final.push(key);
    if (isMap(valueNode)) {
      for (const inner of valueNode.items) {
        if (isScalar(inner.key) && inner.key.range) lines[`${key}.${String(inner.key.value)}`] = lineOf(inner.key.range[0]);
      }
    }
    if (isSeq(valueNode)) {
      itemFlags[key] = valueNode.items.map((item) => {
        const range = (item as { range?: [number, number, number] }).range;
        const flag = range ? marker(lineOf(range[0])) : undefined;
        return flag === 'top' || flag === 'bottom' ? flag : undefined;
      });
    }
  }
  return { origin: file, values, lines, final, itemFlags };
}

/** Read and parse one file. */
export function readCondarc(path: string, options: { env?: Env; homeDir?: string } = {}): SettingsLayer {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`Cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}.`, {
      cause: err, details: { file: path }, hint: `Make ${path} readable, or remove it.`,
    });
  }
  return parseCondarc(text, path, options);
}

/** Every .condarc layer for this environment, lowest precedence first. */
export function condarcLayers(options: CondarcSearchOptions & { files?: readonly string[] }): SettingsLayer[] {
  const files = options.files ?? findCondarcFiles(options);
  return files.map((f) => readCondarc(f, { env: options.env, homeDir: options.homeDir }));
}

export interface LoadCondaSettingsOptions extends Omit<LoadSettingsOptions, 'layers'> {
  /** Read exactly these files instead of conda's search path. */
  files?: readonly string[];
  /** Extra layers above the .condarc files and below the environment. */
  layers?: readonly SettingsLayer[];
  platform?: NodeJS.Platform;
}

/**
 * Settings as conda would see them: the .condarc files on conda's search path (or
 * `files`), then CONDA_* variables, then overrides.
 */
export function loadCondaSettings(options: LoadCondaSettingsOptions = {}): Settings {
  const env = options.env ?? {};
  const homeDir = options.homeDir ?? env.HOME ?? homedir();
  const layers = condarcLayers({ env, homeDir, platform: options.platform, files: options.files });
  return loadSettings({ ...options, env, homeDir, layers: [...layers, ...(options.layers ?? [])] });
}
