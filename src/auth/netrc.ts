/**
 * `.netrc` as a credential source, read the way requests (and so conda) reads it:
 * `$NETRC` if set, else `~/.netrc`, then `~/_netrc`; `machine` matched on the host name
 * (no port), then `default`; an empty login falls back to the account field.
 */
import { isFdPressure, withFdBackoff } from '../core/fd-pressure.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../errors/classes.js';
import type { CredentialSource, Credentials } from './types.js';

export interface NetrcEntry {
  readonly login: string;
  readonly account: string;
  readonly password: string;
}

export interface Netrc {
  /** Machine name (lowercased) → entry; the last entry for a machine wins, as in Python's netrc. */
  readonly machines: ReadonlyMap<string, NetrcEntry>;
  readonly default?: NetrcEntry;
}

interface Token {
  text: string;
  line: number;
}

const KEYWORDS = new Set(['machine', 'default', 'macdef']);

function tokenize(lines: readonly string[]): Token[] {
  const tokens: Token[] = [];
  lines.forEach((line, index) => {
    if (/^\s*#/.test(line)) return; // Python's netrc skips whole-line comments
    const re = /"((?:\\.|[^"\\])*)"|(\S+)/g;
    for (let m = re.exec(line); m; m = re.exec(line)) {
      tokens.push({ text: m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? ''), line: index + 1 });
    }
  });
  return tokens;
}

function parseError(file: string, line: number, what: string): ConfigError {
  // Never quote the offending token: it may be a password.
  return new ConfigError(`Cannot parse ${file} line ${line}: ${what}.`, {
    code: 'CG_CREDENTIALS_INVALID',
    details: { file, line },
    hint: `Fix line ${line} of ${file} (entries read: machine <host> login <user> password <secret>), or point NETRC elsewhere.`,
  });
}

/** Parse .netrc text. `file` only names the file in errors. */
export function parseNetrc(text: string, file = '.netrc'): Netrc {
  const lines = text.split(/\r?\n/);
  const tokens = tokenize(lines);
  const machines = new Map<string, NetrcEntry>();
  let fallback: NetrcEntry | undefined;
  let i = 0;
  while (i < tokens.length) {
    const tok = tokens[i++] as Token;
    if (tok.text === 'macdef') {
      // A macro body runs from the line after `macdef name` to the next empty line.
      let end = tok.line + 1;
      while (end <= lines.length && (lines[end - 1] ?? '').trim() !== '') end++;
      while (i < tokens.length && (tokens[i] as Token).line <= end) i++;
      continue;
    }
    let name: string;
    if (tok.text === 'machine') {
      const host = tokens[i++];
      if (!host || KEYWORDS.has(host.text)) throw parseError(file, tok.line, "'machine' without a host name");
      name = host.text.toLowerCase();
    } else if (tok.text === 'default') {
      name = '';
    } else {
      throw parseError(file, tok.line, "expected 'machine', 'default' or 'macdef'");
    }
    const entry = { login: '', account: '', password: '' };
    while (i < tokens.length && !KEYWORDS.has((tokens[i] as Token).text)) {
      const key = tokens[i++] as Token;
      const field = key.text === 'user' ? 'login' : key.text;
      if (field !== 'login' && field !== 'account' && field !== 'password') {
        throw parseError(file, key.line, "expected 'login', 'account' or 'password'");
      }
      const value = tokens[i++];
      if (!value) throw parseError(file, key.line, `'${key.text}' without a value`);
      entry[field] = value.text;
    }
    if (name === '') fallback = entry;
    else machines.set(name, entry);
  }
  return fallback ? { machines, default: fallback } : { machines };
}

/** Where requests looks for the file: only $NETRC when set, else ~/.netrc then ~/_netrc. */
export function netrcCandidates(env: Readonly<Record<string, string | undefined>>, homeDir: string): string[] {
  const explicit = env.NETRC;
  if (explicit !== undefined && explicit !== '') {
    return [explicit.startsWith('~/') ? join(homeDir, explicit.slice(2)) : explicit];
  }
  return [join(homeDir, '.netrc'), join(homeDir, '_netrc')];
}

/** Read the first netrc file that exists; undefined when there is none. */
export async function readNetrc(paths: readonly string[]): Promise<{ path: string; netrc: Netrc } | undefined> {
  for (const path of paths) {
    let text: string;
    try {
      text = await withFdBackoff(() => readFile(path, 'utf8'));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') continue;
      if (isFdPressure(err)) throw err;
      throw new ConfigError(`Cannot read ${path}: ${code ?? 'error'}.`, {
        code: 'CG_CREDENTIALS_INVALID', cause: err, details: { file: path },
        hint: `Make ${path} readable, or point NETRC elsewhere.`,
      });
    }
    return { path, netrc: parseNetrc(text, path) };
  }
  return undefined;
}

/** requests' get_netrc_auth for one host: (login or account, password), or undefined. */
export function netrcLookup(netrc: Netrc, hostname: string): { username: string; password: string } | undefined {
  const entry = netrc.machines.get(hostname.toLowerCase()) ?? netrc.default;
  if (!entry) return undefined;
  return { username: entry.login || entry.account, password: entry.password };
}

/** A credential source over the netrc file found from the environment; the file is read once, on first use. */
export function createNetrcSource(env: Readonly<Record<string, string | undefined>>, homeDir: string): CredentialSource {
  const paths = netrcCandidates(env, homeDir);
  let loaded: Promise<{ path: string; netrc: Netrc } | undefined> | undefined;
  return {
    name: 'netrc',
    async lookup(url: URL): Promise<Credentials | undefined> {
      if (!url.hostname) return undefined;
      loaded ??= readNetrc(paths).catch((err: unknown) => {
        if (isFdPressure(err)) loaded = undefined;
        throw err;
      });
      const found = await loaded;
      if (!found) return undefined;
      const creds = netrcLookup(found.netrc, url.hostname.replace(/^\[|\]$/g, ''));
      if (!creds) return undefined;
      return { kind: 'basic', username: creds.username, password: creds.password, source: found.path };
    },
  };
}
