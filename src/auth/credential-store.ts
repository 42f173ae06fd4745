/**
 * A credential store in rattler's (and so pixi's) file format: a JSON object from host
 * (or `*.domain` wildcard, or `s3://bucket`) to `{"BearerToken": …}`, `{"BasicHTTP":
 * {username, password}}`, `{"CondaToken": …}` or `{"S3Credentials": {access_key_id,
 * secret_access_key, session_token}}`. `RATTLER_AUTH_FILE` names the file, else
 * `~/.rattler/credentials.json`. Reading is a credential source; writing serves `auth login`.
 */
import { isFdPressure, withFdBackoff } from '../core/fd-pressure.js';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ConfigError } from '../errors/classes.js';
import type { CredentialSource, Credentials } from './types.js';
import type { Env } from '../core/types.js';

export type StoredAuthentication =
  | { BearerToken: string }
  | { BasicHTTP: { username: string; password: string } }
  | { CondaToken: string }
  | { S3Credentials: { access_key_id: string; secret_access_key: string; session_token?: string | null } };

export type CredentialStoreData = Record<string, StoredAuthentication>;


export function credentialStorePath(env: Env, homeDir: string): string {
  const explicit = env.RATTLER_AUTH_FILE;
  if (explicit) return explicit.startsWith('~/') ? join(homeDir, explicit.slice(2)) : explicit;
  return join(homeDir, '.rattler', 'credentials.json');
}

function invalid(file: string, what: string, extra: { line?: number; host?: string } = {}): ConfigError {
  return new ConfigError(`Cannot use the credentials file ${file}${extra.line ? ` (line ${extra.line})` : ''}: ${what}.`, {
    code: 'CG_CREDENTIALS_INVALID',
    details: { file, ...(extra.line ? { line: extra.line } : {}), ...(extra.host ? { host: extra.host } : {}) },
    hint: `Fix or remove ${file}; entries look like {"repo.example.com": {"BearerToken": "…"}}. ` +
      '`conda-gateway auth login` writes valid entries.',
  });
}

function isString(v: unknown): v is string {
  return typeof v === 'string';
}

/** Check one entry's shape without ever quoting its values. */
function validateEntry(file: string, host: string, value: unknown): StoredAuthentication {
  const bad = () => invalid(file, `the entry for '${host}' must be one of BearerToken, BasicHTTP, CondaToken, S3Credentials`, { host });
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw bad();
  const keys = Object.keys(value);
  if (keys.length !== 1) throw bad();
  const v = value as Record<string, unknown>;
  if (isString(v.BearerToken)) return { BearerToken: v.BearerToken };
  if (isString(v.CondaToken)) return { CondaToken: v.CondaToken };
  const basic = v.BasicHTTP as Record<string, unknown> | undefined;
  if (basic && isString(basic.username) && isString(basic.password)) {
    return { BasicHTTP: { username: basic.username, password: basic.password } };
  }
  const s3 = v.S3Credentials as Record<string, unknown> | undefined;
  if (s3 && isString(s3.access_key_id) && isString(s3.secret_access_key)) {
    const token = s3.session_token;
    if (token !== undefined && token !== null && !isString(token)) throw bad();
    return { S3Credentials: { access_key_id: s3.access_key_id, secret_access_key: s3.secret_access_key, session_token: token ?? null } };
  }
  throw bad();
}

/** Parse the store's text; errors name the file and line, never a secret. */
export function parseCredentialStore(text: string, file: string): CredentialStoreData {
  if (text.trim() === '') return {};
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    const pos = /position (\d+)/.exec(String((err as Error).message));
    const line = pos ? text.slice(0, Number(pos[1])).split('\n').length : undefined;
    throw invalid(file, 'it is not valid JSON', { line });
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw invalid(file, 'it must be a JSON object keyed by host');
  const out: CredentialStoreData = {};
  for (const [host, value] of Object.entries(raw)) out[host] = validateEntry(file, host, value);
  return out;
}

export async function readCredentialStore(file: string): Promise<CredentialStoreData> {
  let text: string;
  try {
    // Out of descriptors is not an unreadable file: wait for one (a low ulimit -n with many transfers).
    text = await withFdBackoff(() => readFile(file, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return {};
    if (isFdPressure(err)) throw err;
    throw new ConfigError(`Cannot read the credentials file ${file}: ${code ?? 'error'}.`, {
      code: 'CG_CREDENTIALS_INVALID', cause: err, details: { file }, hint: `Make ${file} readable, or set RATTLER_AUTH_FILE.`,
    });
  }
  return parseCredentialStore(text, file);
}

/** Write the whole store atomically (temp file + rename), readable by the owner only. */
export async function writeCredentialStore(file: string, data: CredentialStoreData): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  try {
    await writeFile(tmp, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 });
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new ConfigError(`Cannot write the credentials file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}.`, {
      code: 'CG_CREDENTIALS_INVALID', cause: err, details: { file }, hint: `Check that ${dirname(file)} is writable.`,
    });
  }
}

/** rattler's lookup order: the host, then `s3://bucket` for S3, then `*.host`, `*.parent` … wildcards. */
export function storeKeysFor(url: URL): string[] {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (!host) return [];
  const keys = [host];
  if (url.protocol === 's3:') keys.push(`s3://${host}`);
  let domain = host;
  for (;;) {
    keys.push(`*.${domain}`);
    const dot = domain.indexOf('.');
    if (dot < 0) break;
    domain = domain.slice(dot + 1);
  }
  return keys;
}

export function toCredentials(entry: StoredAuthentication, source: string): Credentials {
  if ('BearerToken' in entry) return { kind: 'bearer', token: entry.BearerToken, source };
  if ('CondaToken' in entry) return { kind: 'conda-token', token: entry.CondaToken, source };
  if ('BasicHTTP' in entry) return { kind: 'basic', username: entry.BasicHTTP.username, password: entry.BasicHTTP.password, source };
  const s3 = entry.S3Credentials;
  return {
    kind: 's3', accessKeyId: s3.access_key_id, secretAccessKey: s3.secret_access_key,
    ...(s3.session_token ? { sessionToken: s3.session_token } : {}), source,
  };
}

export function lookupInStore(data: CredentialStoreData, url: URL, source: string): Credentials | undefined {
  const lowered = new Map(Object.entries(data).map(([k, v]) => [k.toLowerCase(), v]));
  for (const key of storeKeysFor(url)) {
    const entry = lowered.get(key);
    if (entry) return toCredentials(entry, source);
  }
  return undefined;
}

/** The store as a credential source; the file is read once, on first use. */
export function createCredentialStoreSource(env: Env, homeDir: string): CredentialSource {
  const file = credentialStorePath(env, homeDir);
  let loaded: Promise<CredentialStoreData> | undefined;
  return {
    name: 'credential-store',
    async lookup(url) {
      loaded ??= readCredentialStore(file).catch((err: unknown) => {
        if (isFdPressure(err)) loaded = undefined; // read again next time; a bad file stays an error
        throw err;
      });
      return lookupInStore(await loaded, url, file);
    },
  };
}
