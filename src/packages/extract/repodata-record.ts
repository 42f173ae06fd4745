/**
 * `info/repodata_record.json` as conda writes it after extracting a package from an
 * explicit URL (ExtractPackageAction: `PackageRecord.from_objects(index_json, url=,
 * channel=, fn=, sha256=, size=, md5=)`, dumped by auxlib's Entity.dump through
 * `json.dump(indent=2)`): PackageRecord's fields in declaration order, each dumped by its
 * field's rules, non-ASCII escaped as Python's ensure_ascii does.
 */

/** conda's KNOWN_SUBDIRS: a URL whose parent folder is one of these names a channel. */
const KNOWN_SUBDIRS = new Set([
  'noarch', 'emscripten-wasm32', 'wasi-wasm32', 'freebsd-64', 'linux-32', 'linux-64', 'linux-aarch64', 'linux-armv6l',
  'linux-armv7l', 'linux-ppc64', 'linux-ppc64le', 'linux-riscv64', 'linux-s390x', 'osx-64', 'osx-arm64', 'win-32', 'win-64',
  'win-arm64', 'zos-z',
]);

/** conda's Platform enum: index.json holds a name or a value, the record holds the value. */
const PLATFORM_VALUES: Record<string, string> = {
  freebsd: 'freebsd', linux: 'linux', win: 'win32', win32: 'win32', openbsd: 'openbsd5', openbsd5: 'openbsd5',
  osx: 'darwin', darwin: 'darwin', zos: 'zos', emscripten: 'emscripten', wasi: 'wasi',
};

/** 9999-12-31 in seconds: above it a timestamp is taken as milliseconds (conda/conda-build#1988). */
const MAX_SECONDS = 253402300799;

export interface RecordSource {
  /** The URL as it will be recorded (credentials already removed unless kept on purpose). */
  url: string;
  fn: string;
  md5: string;
  sha256: string;
  size: number;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Channel(url) printed: scheme://host/path-to-channel/subdir, never credentials; `<unknown>` without a known subdir. */
export function channelOf(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return '<unknown>';
  }
  const segments = u.pathname.replace(/\/t\/[^/]+(?=\/)/, '').split('/');
  segments.pop();
  const subdir = segments.at(-1) ?? '';
  if (!KNOWN_SUBDIRS.has(subdir)) return '<unknown>';
  return `${u.protocol}//${u.host}${segments.join('/')}`;
}

function subdirOf(url: string): string | undefined {
  const channel = channelOf(url);
  return channel === '<unknown>' ? undefined : channel.slice(channel.lastIndexOf('/') + 1);
}

/** NoarchType.coerce: 'python' | 'generic' | booleans and boolean-ish strings. */
function noarchOf(value: unknown): 'python' | 'generic' | undefined {
  if (value === true) return 'generic';
  if (typeof value !== 'string') return undefined;
  const v = value.toLowerCase();
  if (v === 'python' || v === 'generic') return v;
  return ['true', 'yes', 'on', 'y', '1'].includes(v) ? 'generic' : undefined;
}

/** _FeaturesField: a string or list, split on spaces/commas, dumped space-joined; empty is left out. */
function featuresOf(value: unknown): string | undefined {
  const list = typeof value === 'string' ? value.replace(/ /g, ',').split(',') : Array.isArray(value) ? value.map(String) : [];
  const kept = list.map((f) => f.trim()).filter(Boolean);
  return kept.length ? kept.join(' ') : undefined;
}

/** TimestampField: stored in seconds, dumped as whole milliseconds (the same float steps as Python). */
function timestampOf(value: unknown): number | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value) || value === 0) return undefined;
  const seconds = value > MAX_SECONDS ? value / 1000 : value;
  return Math.trunc(seconds < MAX_SECONDS ? seconds * 1000 : seconds);
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** The record conda would write for this package, keys in conda's order. */
export function buildRepodataRecord(index: Readonly<Record<string, unknown>>, src: RecordSource): Record<string, Json> {
  const out: Record<string, Json> = {};
  const copy = (key: string, from: string = key): void => {
    if (from in index && index[from] !== undefined) out[key] = index[from] as Json;
  };
  copy('name');
  copy('version');
  if ('build' in index) copy('build');
  else copy('build', 'build_string');
  copy('build_number');
  out.channel = channelOf(src.url);
  const subdir = typeof index.subdir === 'string' ? index.subdir : subdirOf(src.url);
  if (subdir !== undefined) out.subdir = subdir;
  out.fn = src.fn;
  out.md5 = src.md5;
  if (index.legacy_bz2_md5 != null) out.legacy_bz2_md5 = index.legacy_bz2_md5 as Json;
  if ('legacy_bz2_size' in index) out.legacy_bz2_size = (index.legacy_bz2_size ?? null) as Json;
  out.url = src.url;
  out.sha256 = src.sha256;
  if ('arch' in index) out.arch = (index.arch ?? null) as Json;
  if ('platform' in index) {
    const p = index.platform;
    out.platform = typeof p === 'string' ? PLATFORM_VALUES[p] ?? p : null;
  }
  out.depends = stringList(index.depends);
  out.constrains = stringList(index.constrains);
  const flags = stringList(index.flags);
  if (flags.length) out.flags = flags;
  const trackFeatures = featuresOf(index.track_features);
  if (trackFeatures) out.track_features = trackFeatures;
  const features = featuresOf(index.features);
  if (features) out.features = features;
  const noarch = noarchOf(index.noarch);
  if (noarch) out.noarch = noarch;
  for (const key of ['preferred_env', 'python_site_packages_path', 'license', 'license_family']) {
    if (typeof index[key] === 'string') out[key] = index[key] as string;
  }
  const packageType = typeof index.package_type === 'string' ? index.package_type : noarch ? `noarch_${noarch}` : undefined;
  if (packageType) out.package_type = packageType;
  const timestamp = timestampOf(index.timestamp) ?? timestampFromDate(index.date);
  if (timestamp !== undefined) out.timestamp = timestamp;
  const indexed = timestampOf(index.indexed_timestamp);
  if (indexed !== undefined) out.indexed_timestamp = indexed;
  if (typeof index.date === 'string') out.date = index.date;
  out.size = src.size;
  return out;
}

/** TimestampField's fallback: whole seconds of an ISO `date`, dumped in milliseconds. */
function timestampFromDate(date: unknown): number | undefined {
  if (typeof date !== 'string') return undefined;
  const ms = Date.parse(date.length === 10 ? `${date}T00:00:00Z` : date);
  if (!Number.isFinite(ms)) return undefined;
  return timestampOf(Math.trunc(ms / 1000));
}

/** Python's `json.dump(obj, indent=2)`: the same layout as JSON.stringify, with ensure_ascii. */
export function serializeRecord(record: Record<string, Json>): string {
  return JSON.stringify(record, null, 2).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
