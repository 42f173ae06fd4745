/**
 * Value parsers for settings. Each takes a raw value (a string from the environment,
 * or any YAML value from a .condarc) and either returns the typed value or throws a
 * ConfigError naming the setting and where the value came from.
 */
import { ConfigError } from '../errors/classes.js';
import { redactText } from '../redact/redact-text.js';

import type { SettingSource } from '../core/settings.js';

export type { SettingSource };

export type Parser<T> = (raw: unknown, name: string, source: SettingSource) => T;

/** Settings (or parts of them) whose values are secrets: never shown, even when malformed. */
const SECRET_NAME = /pass|token|secret|key|auth|cred|cert/i;
const MAX_SHOWN = 80;

/**
 * A bad value as an error may show it: scalars (masked: no URL userinfo, tokens or signed
 * queries; nothing at all under a secret-looking name), and of a mapping or list only its
 * shape — a proxy_servers entry written as a mapping holds a password.
 */
export function describeValue(raw: unknown, name: string): string {
  if (raw === null || typeof raw === 'boolean' || typeof raw === 'number') return String(raw);
  if (typeof raw === 'string') {
    if (SECRET_NAME.test(name)) return `<${raw.length} characters, hidden>`;
    const text = raw.length > MAX_SHOWN ? `${raw.slice(0, MAX_SHOWN)}…` : raw;
    return `'${redactText(text)}'`;
  }
  if (Array.isArray(raw)) return `a list of ${raw.length} item${raw.length === 1 ? '' : 's'}`;
  if (typeof raw === 'object') {
    const keys = Object.keys(raw as object);
    const shown = keys.slice(0, 8).map((k) => redactText(k.length > 40 ? `${k.slice(0, 40)}…` : k));
    return keys.length ? `a mapping (keys: ${shown.join(', ')}${keys.length > 8 ? ', …' : ''}; values hidden)` : 'an empty mapping';
  }
  return typeof raw;
}

function fail(name: string, source: SettingSource, raw: unknown, expected: string): never {
  const shown = describeValue(raw, name);
  throw new ConfigError(`Invalid value ${shown} for setting '${name}' (from ${source.origin}): expected ${expected}.`, {
    details: { setting: name, source: source.origin },
    hint: `Fix '${name}' in ${source.origin}.`,
  });
}

const TRUE_WORDS = new Set(['true', 'yes', 'on', 'y', '1']);
const FALSE_WORDS = new Set(['false', 'no', 'off', 'n', '0']);

export const parseBool: Parser<boolean> = (raw, name, source) => {
  if (typeof raw === 'boolean') return raw;
  if (typeof raw === 'string') {
    const word = raw.trim().toLowerCase();
    if (TRUE_WORDS.has(word)) return true;
    if (FALSE_WORDS.has(word)) return false;
  }
  if (raw === 0 || raw === 1) return raw === 1;
  return fail(name, source, raw, 'a boolean (true or false)');
};

export function parseNumber(opts: { integer?: boolean; min?: number } = {}): Parser<number> {
  return (raw, name, source) => {
    let value: number | undefined;
    if (typeof raw === 'number') value = raw;
    else if (typeof raw === 'string' && raw.trim() !== '' && !Number.isNaN(Number(raw.trim()))) value = Number(raw.trim());
    const kind = opts.integer ? 'an integer' : 'a number';
    const bound = opts.min !== undefined ? ` >= ${opts.min}` : '';
    if (value === undefined || !Number.isFinite(value)) return fail(name, source, raw, `${kind}${bound}`);
    if (opts.integer && !Number.isInteger(value)) return fail(name, source, raw, `${kind}${bound}`);
    if (opts.min !== undefined && value < opts.min) return fail(name, source, raw, `${kind}${bound}`);
    return value;
  };
}

export const parseString: Parser<string> = (raw, name, source) => {
  if (typeof raw === 'string') return raw;
  if (typeof raw === 'number') return String(raw);
  return fail(name, source, raw, 'a string');
};

export const parseOptionalString: Parser<string | null> = (raw, name, source) => {
  if (raw === null || raw === undefined || raw === '') return null;
  return parseString(raw, name, source);
};

export function parseEnum<T extends string>(values: readonly T[]): Parser<T> {
  return (raw, name, source) => {
    const text = typeof raw === 'string' ? raw.trim().toLowerCase() : raw;
    if (typeof text === 'string' && (values as readonly string[]).includes(text)) return text as T;
    return fail(name, source, raw, `one of ${values.join(', ')}`);
  };
}

/** Sequences: a YAML list, or a comma-separated string from the environment (conda's rule). */
export const parseStringList: Parser<string[]> = (raw, name, source) => {
  if (typeof raw === 'string') return raw.split(',').map((s) => s.trim()).filter(Boolean);
  if (Array.isArray(raw)) return raw.map((item, i) => parseString(item, `${name}[${i}]`, source));
  if (raw === null) return [];
  return fail(name, source, raw, 'a list of strings');
};

/** Maps: a YAML mapping, or JSON / `key=value,key=value` text from the environment. */
export function parseMap<V>(valueParser: Parser<V>): Parser<Record<string, V>> {
  return (raw, name, source) => {
    let value = raw;
    if (typeof raw === 'string') {
      const text = raw.trim();
      if (text.startsWith('{')) {
        try {
          value = JSON.parse(text);
        } catch {
          return fail(name, source, raw, 'a mapping (JSON object or key=value pairs)');
        }
      } else {
        const out: Record<string, string> = {};
        for (const pair of text.split(',').map((s) => s.trim()).filter(Boolean)) {
          const eq = pair.indexOf('=');
          if (eq <= 0) return fail(name, source, raw, 'a mapping (JSON object or key=value pairs)');
          out[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
        }
        value = out;
      }
    }
    if (value === null) return {};
    if (typeof value !== 'object' || Array.isArray(value)) return fail(name, source, raw, 'a mapping');
    const out: Record<string, V> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = valueParser(v, `${name}.${k}`, source);
    return out;
  };
}

/** A list of string→string maps (channel_settings). */
export const parseListOfMaps: Parser<Array<Record<string, string>>> = (raw, name, source) => {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      return fail(name, source, raw, 'a list of mappings (JSON in the environment)');
    }
  }
  if (value === null) return [];
  if (!Array.isArray(value)) return fail(name, source, raw, 'a list of mappings');
  return value.map((item, i) => parseMap(parseString)(item, `${name}[${i}]`, source));
};
