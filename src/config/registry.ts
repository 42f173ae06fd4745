/**
 * SETTING_SPECS: the one registry of settings — conda's name and aliases, the env
 * variable, the default, the parser and a doc line. Typed so that a setting without
 * any of these does not compile.
 */
import { existsSync } from 'node:fs';
import type { SettingValues } from '../core/settings.js';
import {
  parseBool, parseEnum, parseListOfMaps, parseMap, parseNumber, parseOptionalString, parseString, parseStringList,
  type Parser,
} from './parsers.js';
import { ConfigError } from '../errors/classes.js';

export interface SettingSpec<T> {
  /** conda's key in .condarc. */
  readonly name: string;
  readonly aliases: readonly string[];
  /** Environment variable (CONDA_<NAME>). */
  readonly env: string;
  readonly default: T;
  readonly parse: Parser<T>;
  readonly doc: string;
  /** True when the value may hold credentials and must be masked when shown. */
  readonly secret?: boolean;
}

export const DEFAULT_CHANNEL_ALIAS = 'https://conda.anaconda.org';
export const DEFAULT_CHANNELS = ['https://repo.anaconda.com/pkgs/main', 'https://repo.anaconda.com/pkgs/r'];
export const DEFAULT_REMOTE_CONNECT_TIMEOUT_SECS = 9.15;
export const DEFAULT_REMOTE_READ_TIMEOUT_SECS = 60;
export const DEFAULT_REMOTE_MAX_RETRIES = 3;
export const DEFAULT_REMOTE_BACKOFF_FACTOR = 1;
export const DEFAULT_RETRY_AFTER_MAX_SECS = 60;

const SSL_VERIFY_MESSAGE = (v: string): string =>
  `ssl_verify value '${v}' must be a boolean, a path to a certificate bundle file, a path to a directory ` +
  "containing certificates of trusted CAs, or 'truststore' to use the operating system certificate store.";

const parseSslVerify: Parser<boolean | string> = (raw, name, source) => {
  if (typeof raw === 'boolean') return raw;
  if (typeof raw === 'string') {
    const word = raw.trim().toLowerCase();
    if (['true', 'yes', 'on', '1'].includes(word)) return true;
    if (['false', 'no', 'off', '0'].includes(word)) return false;
    if (word === 'truststore') return 'truststore';
    if (raw.trim() && existsSync(raw.trim())) return raw.trim();
  }
  throw new ConfigError(`${SSL_VERIFY_MESSAGE(String(raw))} (from ${source.origin})`, {
    details: { setting: name, source: source.origin },
    hint: `Fix '${name}' in ${source.origin}.`,
  });
};

const parseTtl: Parser<number> = (raw, name, source) => {
  if (typeof raw === 'boolean') return raw ? 1 : 0;
  if (typeof raw === 'string' && ['true', 'false'].includes(raw.trim().toLowerCase())) {
    return raw.trim().toLowerCase() === 'true' ? 1 : 0;
  }
  return parseNumber({ integer: true, min: 0 })(raw, name, source);
};

const parseMirrors = parseMap<string[]>((raw, name, source) =>
  typeof raw === 'string' ? [raw] : parseStringList(raw, name, source));

/** One SettingSpec per setting, typed by its value. */
export type SettingSpecs = { readonly [K in keyof SettingValues]-?: SettingSpec<SettingValues[K]> };

function spec<T>(name: string, def: T, parse: Parser<T>, doc: string, extra: Partial<SettingSpec<T>> = {}): SettingSpec<T> {
  return { name, aliases: [], env: `CONDA_${name.toUpperCase()}`, default: def, parse, doc, ...extra };
}

export const SETTING_SPECS: SettingSpecs = {
  sslVerify: spec('ssl_verify', true as boolean | string, parseSslVerify,
    "Verify TLS certificates: true, false, 'truststore', or a CA bundle file or directory.", { aliases: ['verify_ssl'] }),
  clientSslCert: spec('client_ssl_cert', null as string | null, parseOptionalString,
    'Client certificate file (or cert+key in one file).', { aliases: ['client_cert'] }),
  clientSslCertKey: spec('client_ssl_cert_key', null as string | null, parseOptionalString,
    'Client private key file.', { aliases: ['client_cert_key'] }),
  proxyServers: spec('proxy_servers', {} as Record<string, string>, parseMap(parseString),
    'Proxy URL per scheme (http, https, all) or scheme://host.', { secret: true }),
  remoteConnectTimeoutSecs: spec('remote_connect_timeout_secs', DEFAULT_REMOTE_CONNECT_TIMEOUT_SECS,
    parseNumber({ min: 0 }), 'Seconds to wait for a connection.'),
  remoteReadTimeoutSecs: spec('remote_read_timeout_secs', DEFAULT_REMOTE_READ_TIMEOUT_SECS,
    parseNumber({ min: 0 }), 'Seconds to wait between two reads of a response.'),
  remoteMaxRetries: spec('remote_max_retries', DEFAULT_REMOTE_MAX_RETRIES,
    parseNumber({ integer: true, min: 0 }), 'Retries after a failed request.'),
  remoteBackoffFactor: spec('remote_backoff_factor', DEFAULT_REMOTE_BACKOFF_FACTOR,
    parseNumber({ min: 0 }), 'Backoff between retries: 0, then factor*2^(n-1) seconds.'),
  remoteRetryAfterMaxSecs: spec('remote_retry_after_max_secs', DEFAULT_RETRY_AFTER_MAX_SECS,
    parseNumber({ min: 0 }), 'Longest Retry-After (seconds) honoured before retrying (conda-gateway).'),
  offline: spec('offline', false, parseBool, 'Refuse remote URLs; file:// keeps working.'),
  addAnacondaToken: spec('add_anaconda_token', true, parseBool,
    'Add anaconda-client tokens to matching channel URLs.', { aliases: ['add_binstar_token'] }),
  channelSettings: spec('channel_settings', [] as Array<Record<string, string>>, parseListOfMaps,
    'Per-channel settings; `auth` chooses an auth handler plugin.'),
  channelAlias: spec('channel_alias', DEFAULT_CHANNEL_ALIAS, parseString, 'Prefix for channel names.'),
  customChannels: spec('custom_channels', {} as Record<string, string>, parseMap(parseString),
    'Channel name → base URL.'),
  defaultChannels: spec('default_channels', DEFAULT_CHANNELS, parseStringList, 'Members of `defaults`.'),
  fetchThreads: spec('fetch_threads', 0, parseNumber({ integer: true, min: 0 }), 'Parallel package downloads (0: 5).'),
  repodataThreads: spec('repodata_threads', 0, parseNumber({ integer: true, min: 0 }), 'Parallel repodata fetches.'),
  defaultThreads: spec('default_threads', 0, parseNumber({ integer: true, min: 0 }), 'Fallback for *_threads.'),
  localRepodataTtl: spec('local_repodata_ttl', 1, parseTtl,
    '1: obey Cache-Control max-age; 0: always revalidate; >1: seconds.'),
  useIndexCache: spec('use_index_cache', false, parseBool, 'Use cached repodata even when expired.'),
  repodataUseZst: spec('repodata_use_zst', true, parseBool, 'Try repodata.json.zst first.'),
  repodataUseShards: spec('repodata_use_shards', true, parseBool, 'Use sharded repodata (CEP-16) when offered.'),
  http2: spec('http2', true, parseBool,
    'Offer HTTP/2 to https servers (ALPN): shards and packages from one host share one connection. false: HTTP/1.1 only.'),
  experimental: spec('experimental', [] as string[], parseStringList, 'Experimental features.'),
  noLock: spec('no_lock', false, parseBool, 'Disable file locks.'),
  allowNonChannelUrls: spec('allow_non_channel_urls', false, parseBool,
    'A 404 on noarch is empty repodata instead of an error.'),
  pathConflict: spec('path_conflict', 'clobber' as 'clobber' | 'warn' | 'prevent',
    parseEnum(['clobber', 'warn', 'prevent'] as const), 'What to do when a download target exists.'),
  pkgsKeepCredentials: spec('pkgs_keep_credentials', false, parseBool,
    'Write package URLs with their tokens/passwords into urls.txt and repodata_record.json, as conda does (conda-gateway).'),
  pkgsDirs: spec('pkgs_dirs', [] as string[], parseStringList, 'Package cache directories.'),
  mirrors: spec('mirrors', {} as Record<string, string[]>, parseMirrors,
    'Channel URL prefix → ordered list of mirror URLs.', { secret: true }),
  ociEncoding: spec('oci_encoding', 'v0' as 'v0' | 'v1', parseEnum(['v0', 'v1'] as const),
    "Names in oci:// channels: 'v0' (ghcr.io/channel-mirrors, rattler) or 'v1' (the proposed CEP)."),
  ociPlainHttp: spec('oci_plain_http', [] as string[], parseStringList,
    'OCI registries (host or host:port) reached over plain http, like Docker\'s insecure-registries.'),
};

export const SETTING_KEYS = Object.keys(SETTING_SPECS) as Array<keyof SettingValues>;

/** Look a setting up by conda's name or alias. */
export function settingKeyForName(name: string): keyof SettingValues | undefined {
  const wanted = name.trim().toLowerCase();
  return SETTING_KEYS.find((k) => SETTING_SPECS[k].name === wanted || SETTING_SPECS[k].aliases.includes(wanted));
}
