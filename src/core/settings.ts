/**
 * The Settings type: every setting the connection layer reads, with conda's meaning,
 * fully resolved and read-only. camelCase here; conda's snake_case names live in the registry.
 */
/** Where a setting's value came from. */
export interface SettingSource {
  /** 'default', 'env:CONDA_SSL_VERIFY', '/home/u/.condarc:12', 'cli:--offline', 'api'. */
  readonly origin: string;
  /** Lower-precedence places that also contributed to a merged list or map value. */
  readonly also?: readonly string[];
  /** For map settings: where each entry came from (`proxy_servers.http` → `/home/u/.condarc:4`). */
  readonly entries?: Readonly<Record<string, string>>;
}

export type PathConflict = 'clobber' | 'warn' | 'prevent';

export interface SettingValues {
  /** true, false, 'truststore', or a path to a CA bundle file or directory. @default true */
  sslVerify: boolean | string;
  /** Client certificate (or combined cert+key) file. @default null */
  clientSslCert: string | null;
  /** Client key file; requires clientSslCert. @default null */
  clientSslCertKey: string | null;
  /** Keys `http`, `https`, `all`, `scheme://host`; values are proxy URLs. @default {} */
  proxyServers: Record<string, string>;
  /** @default 9.15 */
  remoteConnectTimeoutSecs: number;
  /** Per-read (idle) timeout, not a limit on the whole transfer. @default 60 */
  remoteReadTimeoutSecs: number;
  /** @default 3 */
  remoteMaxRetries: number;
  /** Waits 0, then factor·2^(n-1) seconds. @default 1 */
  remoteBackoffFactor: number;
  /** Ours: the longest Retry-After (seconds) we wait for. @default 60 */
  remoteRetryAfterMaxSecs: number;
  /** @default false */
  offline: boolean;
  /** @default true */
  addAnacondaToken: boolean;
  /** Entries `{ channel, auth, ... }`; the last match wins. @default [] */
  channelSettings: Array<Record<string, string>>;
  /** @default 'https://conda.anaconda.org' */
  channelAlias: string;
  /** @default {} */
  customChannels: Record<string, string>;
  /** @default ['https://repo.anaconda.com/pkgs/main', 'https://repo.anaconda.com/pkgs/r'] */
  defaultChannels: string[];
  /** 0 means 5 (conda's rule, with default_threads). @default 0 */
  fetchThreads: number;
  /** @default 0 */
  repodataThreads: number;
  /** @default 0 */
  defaultThreads: number;
  /** 1 obeys Cache-Control max-age, 0 always revalidates, >1 is seconds. @default 1 */
  localRepodataTtl: number;
  /** @default false */
  useIndexCache: boolean;
  /** @default true */
  repodataUseZst: boolean;
  /** @default true */
  repodataUseShards: boolean;
  /** Offer HTTP/2 via ALPN to https servers (direct connections). @default true */
  http2: boolean;
  /** @default [] */
  experimental: string[];
  /** @default false */
  noLock: boolean;
  /** @default false */
  allowNonChannelUrls: boolean;
  /** @default 'clobber' */
  pathConflict: PathConflict;
  /**
   * Keep tokens and passwords in the package URLs written to the cache (urls.txt,
   * repodata_record.json), so conda can match /t/<token>/ URLs; they then sit on disk. @default false
   */
  pkgsKeepCredentials: boolean;
  /** @default [] (then ~/.conda/pkgs) */
  pkgsDirs: string[];
  /** Channel URL prefix → ordered mirror URLs (pixi's [mirrors] shape). @default {} */
  mirrors: Record<string, string[]>;
  /** Package and repodata names in oci:// channels: 'v0' (ghcr.io/channel-mirrors, rattler) or the CEP 'v1'. @default 'v0' */
  ociEncoding: 'v0' | 'v1';
  /** OCI registries (`host` or `host:port`) reached over plain http instead of https. @default [] */
  ociPlainHttp: string[];
}

export type SettingKey = keyof SettingValues;

export interface Settings extends Readonly<SettingValues> {
  /** Where each value came from. */
  readonly sources: Readonly<Record<SettingKey, SettingSource>>;
  /** The environment the settings were read from (HTTP_PROXY, NETRC, AWS_*, HOME …). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Home directory used for ~ paths (.netrc, ~/.condarc, ~/.conda/pkgs). */
  readonly homeDir: string;
}
