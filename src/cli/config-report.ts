/**
 * What `config` shows: every setting with its value and source, the .condarc files read,
 * the proxy/CA/credential variables and credential places. Every string is masked.
 */
import { existsSync } from 'node:fs';
import type { JsonValue } from '../errors/gateway-error.js';
import type { Settings } from '../core/settings.js';
import { SETTING_KEYS, SETTING_SPECS } from '../config/registry.js';
import { findCondarcFiles } from '../config/condarc.js';
import { credentialStorePath, readCredentialStore } from '../auth/credential-store.js';
import { binstarTokenDirs } from '../auth/anaconda-tokens.js';
import { netrcCandidates } from '../auth/netrc.js';
import { redactText } from '../redact/redact-text.js';
import { maskProxyValue, parseProxyUrl } from '../session/proxy.js';
import { tlsOptionsFor } from '../session/tls.js';

export interface ConfigReport {
  files: string[];
  settings: Record<string, { value: JsonValue; source: string; also?: string[]; entries?: Record<string, string> }>;
  environment: Record<string, string>;
  credentials: {
    netrc: string | null;
    store: { path: string; exists: boolean; hosts: Record<string, string> };
    anacondaTokenDirs: string[];
  };
}

/** Mask anything that could carry a secret: URL userinfo, /t/<token>/, signed query values. */
export function maskValue(value: unknown): JsonValue {
  if (typeof value === 'string') {
    // Keep the text as written, with `<CREDENTIALS>@` showing that credentials are set.
    return maskProxyValue(redactText(value));
  }
  if (Array.isArray(value)) return value.map(maskValue);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskValue(v)]));
  }
  return value === undefined ? null : (value as JsonValue);
}

const ENV_NAMES = /^(https?_proxy|all_proxy|ftp_proxy|no_proxy|NETRC|REQUESTS_CA_BUNDLE|CURL_CA_BUNDLE|SSL_CERT_FILE|CONDARC|RATTLER_AUTH_FILE|BINSTAR_CONFIG_DIR|AWS_(PROFILE|REGION|DEFAULT_REGION|ENDPOINT_URL(_S3)?))$/i;

const PROXY_ENV = /^(https?|all|ftp)_proxy$/i;

/** Fail as a request would: unreadable CA bundles or client certificates, proxy URLs that cannot work. */
function checkUsable(settings: Settings): void {
  tlsOptionsFor(settings);
  const source = settings.sources.proxyServers;
  for (const [key, url] of Object.entries(settings.proxyServers)) {
    const origin = source.entries?.[key] ?? source.origin;
    if (key !== 'no_proxy' && url) parseProxyUrl({ url, source: `proxy_servers.${key} (from ${origin})` });
  }
  for (const [name, url] of Object.entries(settings.env)) {
    if (url && PROXY_ENV.test(name)) parseProxyUrl({ url, source: `env:${name}` });
  }
}

export async function describeConfig(settings: Settings, _cwd: string): Promise<ConfigReport> {
  checkUsable(settings);
  const files = findCondarcFiles({ env: settings.env, homeDir: settings.homeDir });
  const out: ConfigReport['settings'] = {};
  for (const key of SETTING_KEYS) {
    const spec = SETTING_SPECS[key];
    const source = settings.sources[key];
    out[spec.name] = {
      value: maskValue(settings[key]), source: source.origin,
      ...(source.also?.length ? { also: [...source.also] } : {}),
      ...(source.entries && source.also?.length ? { entries: { ...source.entries } } : {}),
    };
  }
  const environment: Record<string, string> = {};
  for (const [name, value] of Object.entries(settings.env)) {
    if (value && ENV_NAMES.test(name)) environment[name] = maskValue(value) as string;
  }
  const storePath = credentialStorePath(settings.env, settings.homeDir);
  const hosts: Record<string, string> = {};
  let exists = false;
  if (existsSync(storePath)) {
    exists = true;
    for (const [host, entry] of Object.entries(await readCredentialStore(storePath))) hosts[host] = Object.keys(entry)[0] ?? '?';
  }
  return {
    files,
    settings: out,
    environment,
    credentials: {
      netrc: netrcCandidates(settings.env, settings.homeDir).find((p) => existsSync(p)) ?? null,
      store: { path: storePath, exists, hosts },
      anacondaTokenDirs: binstarTokenDirs(settings.env, settings.homeDir).filter((d) => existsSync(d)),
    },
  };
}

export function formatConfig(report: ConfigReport): string {
  const lines: string[] = [];
  lines.push('# .condarc files read (lowest precedence first):');
  for (const f of report.files) lines.push(`#   ${f}`);
  if (!report.files.length) lines.push('#   (none)');
  lines.push('');
  const width = Math.max(...Object.keys(report.settings).map((k) => k.length));
  for (const [name, { value, source, also }] of Object.entries(report.settings)) {
    const shown = typeof value === 'string' ? value : JSON.stringify(value);
    lines.push(`${name.padEnd(width)} : ${shown}    # ${source}${also ? ` (merged with ${also.join(', ')})` : ''}`);
  }
  lines.push('');
  lines.push('# environment:');
  for (const [k, v] of Object.entries(report.environment)) lines.push(`#   ${k}=${v}`);
  if (!Object.keys(report.environment).length) lines.push('#   (nothing relevant set)');
  lines.push('# credentials (values never shown):');
  lines.push(`#   .netrc: ${report.credentials.netrc ?? '(none)'}`);
  const hosts = Object.entries(report.credentials.store.hosts).map(([h, k]) => `${h} (${k})`).join(', ');
  lines.push(`#   credential store: ${report.credentials.store.path}${report.credentials.store.exists ? `: ${hosts || 'empty'}` : ' (absent)'}`);
  lines.push(`#   anaconda token dirs: ${report.credentials.anacondaTokenDirs.join(', ') || '(none)'}`);
  return `${lines.join('\n')}\n`;
}
