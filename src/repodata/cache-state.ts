/**
 * The `.info.json` state file in conda's format (RepodataState): keys, types, legacy
 * aliases and `has_<format>` flags. Parsing never throws on wrong types: it repairs them
 * the way conda does, so a damaged state only costs a re-download.
 */

/** `{ value, last_checked }`: whether a format (zst, shards, json) was available when last checked. */
export interface FormatFlag {
  value: boolean;
  /** ISO 8601 UTC with a trailing `Z`, e.g. `2026-11-25T10:00:00.123456Z`. */
  last_checked: string;
}

export type FormatName = 'zst' | 'shards' | 'json' | 'jlap';

/**
 * conda's state file. Nanosecond fields are bigint because they exceed 2^53.
 * @example { url: 'https://conda.anaconda.org/conda-forge/linux-64', etag: '"abc"', mod: '', cache_control: 'public, max-age=30', mtime_ns: 1795462784620562423n, size: 71, refresh_ns: 1795462784620875482n }
 */
export interface RepodataState {
  /** The subdir URL, credential-free. */
  url: string;
  etag: string;
  /** Last-Modified */
  mod: string;
  cache_control: string;
  /** stat of the data file when it was written. */
  mtime_ns: bigint;
  size: number;
  /** When the cache was last confirmed by a 200 or 304 (0 when never). */
  refresh_ns: bigint;
  has_zst?: FormatFlag;
  has_shards?: FormatFlag;
  has_json?: FormatFlag;
  has_jlap?: FormatFlag;
  /** Keys we do not use (conda's jlap fields, future keys), kept as they were. */
  extra?: Record<string, unknown>;
}

/** conda's CHECK_ALTERNATE_FORMAT_INTERVAL. */
export const CHECK_ALTERNATE_FORMAT_INTERVAL_MS = 7 * 24 * 3600 * 1000;

const STRING_KEYS = ['url', 'etag', 'mod', 'cache_control'] as const;
const INT_KEYS = ['mtime_ns', 'size', 'refresh_ns'] as const;
const FORMATS: readonly FormatName[] = ['zst', 'jlap', 'json', 'shards'];
const KNOWN = new Set<string>([...STRING_KEYS, ...INT_KEYS, ...FORMATS.map((f) => `has_${f}`),
  '_url', '_etag', '_mod', '_cache_control']);

export function emptyState(url = ''): RepodataState {
  return { url, etag: '', mod: '', cache_control: '', mtime_ns: 0n, size: 0, refresh_ns: 0n };
}

export function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/** Exact integer text of a top-level key (JSON.parse would round nanoseconds). */
function exactInteger(text: string, key: string): bigint | undefined {
  const m = new RegExp(`"${key}"\\s*:\\s*(-?\\d+)\\s*[,}]`).exec(text);
  return m?.[1] === undefined ? undefined : BigInt(m[1]);
}

export interface ParsedState {
  state: RepodataState;
  /** What was repaired (wrong types, malformed has_* objects), for a debug log. */
  warnings: string[];
}

/**
 * Parse a state file's text. Throws SyntaxError only when the text is not one JSON object
 * (conda's JSONDecodeError case, e.g. the JSON written twice); the caller then starts afresh.
 */
export function parseState(text: string): ParsedState {
  const raw: unknown = JSON.parse(pythonJsonToStrict(text));
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new SyntaxError('state file is not a JSON object');
  const obj = raw as Record<string, unknown>;
  const warnings: string[] = [];
  const state = emptyState();
  for (const key of STRING_KEYS) {
    const value = key in obj ? obj[key] : obj[`_${key}`];
    if (typeof value === 'string') state[key] = value;
    else if (value !== undefined) warnings.push(`${key} is not a string`);
  }
  for (const key of INT_KEYS) {
    const value = obj[key];
    if (typeof value === 'number' && Number.isInteger(value) && value >= 0) {
      if (key === 'size') state.size = value;
      else state[key] = exactInteger(text, key) ?? BigInt(value);
    } else if (value !== undefined) {
      warnings.push(`${key} is not a non-negative integer`);
    }
  }
  for (const fmt of FORMATS) {
    const key = `has_${fmt}` as const;
    if (!(key in obj)) continue;
    const flag = parseFlag(obj[key]);
    if (flag) state[key] = flag;
    else warnings.push(`${key} is malformed; dropped`);
  }
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) if (!KNOWN.has(k)) extra[k] = v;
  if (Object.keys(extra).length > 0) state.extra = extra;
  return { state, warnings };
}

/**
 * conda's has_format: `last_checked` must be text datetime.fromisoformat reads (a trailing Z
 * allowed) and `value` must be present; anything else is malformed and dropped ("not known").
 * V8's Date.parse is far more lenient ("1", "Tuesday 5"), so the form is checked first.
 */
function parseFlag(value: unknown): FormatFlag | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const obj = value as Record<string, unknown>;
  if (!('value' in obj) || typeof obj.last_checked !== 'string' || isoDateMs(obj.last_checked) === undefined) return undefined;
  return { value: pythonTruthy(obj.value), last_checked: obj.last_checked };
}

// What Python's datetime.fromisoformat accepts, in its extended form (conda writes `...T11:45:44.123456Z`).
const ISO_DATETIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d{1,6}))?)?)?(Z|[+-]\d{2}(?::?\d{2}(?::?\d{2}(?:\.\d{1,6})?)?)?)?)?$/;

/** Milliseconds since the epoch for a fromisoformat-valid text (no zone read as UTC), else undefined. */
export function isoDateMs(text: string): number | undefined {
  const m = ISO_DATETIME.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour = 0, minute = 0, second = 0] = m.slice(1, 7).map((x) => (x === undefined ? undefined : Number(x))) as number[];
  if (month! < 1 || month! > 12 || day! < 1 || day! > new Date(Date.UTC(year!, month!, 0)).getUTCDate()) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const fraction = Number(`0.${m[7] ?? '0'}`) * 1000;
  let ms = Date.UTC(year!, month! - 1, day!, hour, minute, second) + Math.floor(fraction);
  const zone = m[8];
  if (zone && zone !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})?/.exec(zone)!;
    const offset = (Number(z[2]) * 60 + Number(z[3] ?? 0)) * 60_000;
    if (Number(z[2]) > 23 || Number(z[3] ?? 0) > 59) return undefined;
    ms -= z[1] === '-' ? -offset : offset;
  }
  return Number.isFinite(ms) ? ms : undefined;
}

/** Python's bool(): empty strings, lists and dicts and 0 are false. */
function pythonTruthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object' && v !== null) return Object.keys(v).length > 0;
  return Boolean(v);
}

/**
 * Python's json writes NaN, Infinity and -Infinity bare (a `"mod": NaN` is something conda can
 * write); JSON.parse refuses them. Outside strings they become null, which the parser above then
 * repairs key by key as conda does (a non-string mod reads as ""), keeping the rest of the state.
 */
export function pythonJsonToStrict(text: string): string {
  if (!/NaN|Infinity/.test(text)) return text;
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    const word = /^(-?Infinity|NaN)/.exec(text.slice(i, i + 9));
    if (word) {
      out += 'null';
      i += word[1]!.length;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

/** What `JSON.stringify` gives for a public state: the nanosecond fields as exact decimal strings. */
export type RepodataStateJson = Omit<RepodataState, 'mtime_ns' | 'refresh_ns'> & { mtime_ns: string; refresh_ns: string };

/**
 * A copy of `state` that `JSON.stringify` can print (bigint alone throws): a non-enumerable
 * `toJSON` writes mtime_ns/refresh_ns as decimal strings, exact where a JSON number would
 * round them (they exceed 2^53), as protobuf's JSON does for int64. The state file itself is
 * written by serializeState, with integers, as conda writes it.
 */
export function jsonSafeState(state: RepodataState): RepodataState {
  const copy: RepodataState = { ...state };
  Object.defineProperty(copy, 'toJSON', {
    value: (): RepodataStateJson => ({ ...copy, mtime_ns: copy.mtime_ns.toString(), refresh_ns: copy.refresh_ns.toString() }),
    enumerable: false, writable: true, configurable: true,
  });
  return copy;
}

/**
 * Our own key in the state file: the record count of the data file as we wrote it, with that
 * file's size and mtime_ns, so a cached index is not scanned again to be counted. conda keeps
 * keys it does not know when it rewrites the state, so the count is believed only while the
 * data file still has the size and mtime_ns recorded next to it.
 */
export const RECORD_COUNT_KEY = 'conda_gateway_records';

/** The state with the record count of its data file (call once size and mtime_ns are set). */
export function withRecordCount(state: RepodataState, records: number): RepodataState {
  const entry = { count: records, size: state.size, mtime_ns: state.mtime_ns.toString() };
  return { ...state, extra: { ...state.extra, [RECORD_COUNT_KEY]: entry } };
}

/** The recorded count, when it was recorded for the data file the state describes. */
export function recordCountOf(state: RepodataState): number | undefined {
  const entry = state.extra?.[RECORD_COUNT_KEY] as { count?: unknown; size?: unknown; mtime_ns?: unknown } | undefined;
  if (!entry || typeof entry !== 'object') return undefined;
  const { count, size, mtime_ns } = entry;
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) return undefined;
  return size === state.size && mtime_ns === state.mtime_ns.toString() ? count : undefined;
}

/** conda's layout: `json.dumps(state, indent=2)`, known keys first in conda's order. */
export function serializeState(state: RepodataState): string {
  const lines: string[] = [];
  const put = (key: string, json: string): void => {
    lines.push(`  ${JSON.stringify(key)}: ${json}`);
  };
  for (const key of STRING_KEYS) put(key, JSON.stringify(state[key]));
  put('mtime_ns', state.mtime_ns.toString());
  put('size', String(state.size));
  put('refresh_ns', state.refresh_ns.toString());
  for (const fmt of FORMATS) {
    const flag = state[`has_${fmt}`];
    if (flag) put(`has_${fmt}`, `{\n    "last_checked": ${JSON.stringify(flag.last_checked)},\n    "value": ${flag.value}\n  }`);
  }
  for (const [k, v] of Object.entries(state.extra ?? {})) {
    if (!KNOWN.has(k)) put(k, JSON.stringify(v, null, 2).replace(/\n/g, '\n  '));
  }
  return `{\n${lines.join(',\n')}\n}`;
}

/** conda's timestamp form: microseconds, `Z`. */
export function isoNow(now: number = Date.now()): string {
  return new Date(now).toISOString().replace(/Z$/, '000Z');
}

/** conda's has_format: a missing flag means "try it". */
export function hasFormat(state: RepodataState, fmt: FormatName): { value: boolean; lastChecked?: Date } {
  const flag = state[`has_${fmt}`];
  if (!flag) return { value: true };
  return { value: flag.value, lastChecked: new Date(isoDateMs(flag.last_checked) ?? Number.NaN) };
}

export function setHasFormat(state: RepodataState, fmt: FormatName, value: boolean, now: number = Date.now()): void {
  state[`has_${fmt}`] = { value, last_checked: isoNow(now) };
}

/** conda's should_check_format: true when available, or when the last check is over 7 days old. */
export function shouldCheckFormat(state: RepodataState, fmt: FormatName, now: number = Date.now()): boolean {
  const { value, lastChecked } = hasFormat(state, fmt);
  if (value) return true;
  return lastChecked === undefined || now - lastChecked.getTime() > CHECK_ALTERNATE_FORMAT_INTERVAL_MS;
}

/**
 * The state for a fresh 200: the response's validators (missing ones become ""), the
 * previous has_* flags, and nothing that described the old content.
 */
export function stateFromResponse(url: string, headers: { get(name: string): string | null }, previous?: RepodataState): RepodataState {
  const state = emptyState(url);
  state.etag = headers.get('etag') ?? '';
  state.mod = headers.get('last-modified') ?? '';
  state.cache_control = headers.get('cache-control') ?? '';
  for (const fmt of FORMATS) {
    const flag = previous?.[`has_${fmt}`];
    if (flag) state[`has_${fmt}`] = { ...flag };
  }
  return state;
}
