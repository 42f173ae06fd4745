/**
 * Sharded repodata (CEP-16), pure parts: decode the shard index and shards (msgpack after
 * zstd), turn raw-byte checksums back into hex, find dependency names, assemble a subset.
 */
import { CacheError } from '../errors/classes.js';
import { maskUrl } from '../redact/safe-url.js';
import { invalidRepodata } from './errors.js';
import type { Repodata, RepodataRecord } from './types.js';

export interface ShardIndexInfo {
  base_url?: string;
  shards_base_url?: string;
  subdir?: string;
  [key: string]: unknown;
}

export interface ShardIndex {
  version: number;
  info: ShardIndexInfo;
  /** Package name → lower-case hex sha256 of its shard file. */
  shards: Map<string, string>;
}

export interface Shard {
  packages: Record<string, RepodataRecord>;
  'packages.conda': Record<string, RepodataRecord>;
  removed: string[];
}

type Msgpack = typeof import('@msgpack/msgpack');
let msgpackModule: Promise<Msgpack> | undefined;
function loadMsgpack(): Promise<Msgpack> {
  msgpackModule ??= import('@msgpack/msgpack');
  return msgpackModule;
}

async function unpack(bytes: Uint8Array, what: string, url: string): Promise<Record<string, unknown>> {
  const { decode } = await loadMsgpack();
  let value: unknown;
  try {
    value = decode(bytes);
  } catch (err) {
    throw invalidRepodata(what, url, `not valid msgpack (${(err as Error).message})`, err);
  }
  if (!isPlainObject(value)) throw invalidRepodata(what, url, 'expected a msgpack map');
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Decoded (zstd already removed) `repodata_shards.msgpack.zst` → index; a hash that is not 32 bytes is an error. */
export async function parseShardIndex(decoded: Uint8Array, url: string, maxNames = 500_000): Promise<ShardIndex> {
  const raw = await unpack(decoded, 'shard index', url);
  const info = isPlainObject(raw.info) ? (raw.info as ShardIndexInfo) : {};
  if (!isPlainObject(raw.shards)) throw invalidRepodata('shard index', url, "missing the 'shards' map");
  const shards = new Map<string, string>();
  let names = 0;
  for (const name in raw.shards) {
    if (++names > maxNames) {
      throw new CacheError(`shard index from ${maskUrl(url)} is too large: it lists over ${maxNames} package names`, {
        code: 'CG_REPODATA_TOO_LARGE', url,
        hint: 'Nothing of it was cached. If the channel is trusted, raise limits.maxShardNames (see DEFAULT_REPODATA_LIMITS).',
      });
    }
  }
  for (const [name, hash] of Object.entries(raw.shards)) {
    if (!(hash instanceof Uint8Array) || hash.length !== 32) {
      throw invalidRepodata('shard index', url, `the hash of '${name}' is not 32 raw bytes`);
    }
    shards.set(name, toHex(hash));
  }
  return { version: typeof raw.version === 'number' ? raw.version : 1, info, shards };
}

/** Decoded shard → records with hex `sha256`/`md5`. */
export async function parseShard(decoded: Uint8Array, url: string): Promise<Shard> {
  const raw = await unpack(decoded, 'shard', url);
  const records = (key: 'packages' | 'packages.conda'): Record<string, RepodataRecord> => {
    const group = raw[key];
    if (group === undefined) return {};
    if (!isPlainObject(group)) throw invalidRepodata('shard', url, `'${key}' is not a map`);
    const out: Record<string, RepodataRecord> = {};
    for (const [fn, rec] of Object.entries(group)) {
      if (!isPlainObject(rec)) throw invalidRepodata('shard', url, `the record of '${fn}' is not a map`);
      const copy: Record<string, unknown> = { ...rec };
      for (const k of ['sha256', 'md5']) if (copy[k] instanceof Uint8Array) copy[k] = toHex(copy[k] as Uint8Array);
      out[fn] = copy as RepodataRecord;
    }
    return out;
  };
  const removed = Array.isArray(raw.removed) ? raw.removed.filter((x): x is string => typeof x === 'string') : [];
  return { packages: records('packages'), 'packages.conda': records('packages.conda'), removed };
}

/** The package name of a match spec: `python >=3.8` → `python`; `__glibc` and unparsable specs → undefined. */
export function dependencyName(spec: string): string | undefined {
  let s = spec.trim();
  const channelSep = s.lastIndexOf('::');
  if (channelSep >= 0) s = s.slice(channelSep + 2);
  const m = /^[A-Za-z0-9_][A-Za-z0-9_.+-]*/.exec(s);
  if (!m) return undefined;
  const name = m[0].toLowerCase();
  return name.startsWith('__') ? undefined : name;
}

/** Names reached by the `depends` of every record of a shard. */
export function shardDependencies(shard: Shard): Set<string> {
  const names = new Set<string>();
  for (const group of [shard.packages, shard['packages.conda']]) {
    for (const rec of Object.values(group)) {
      if (!Array.isArray(rec.depends)) continue;
      for (const dep of rec.depends) {
        const name = typeof dep === 'string' ? dependencyName(dep) : undefined;
        if (name) names.add(name);
      }
    }
  }
  return names;
}

/** Shard URL: `<shards_base_url><hex>.msgpack.zst`, the base relative to the index URL and ending in `/`. */
export function shardUrl(indexUrl: string, info: ShardIndexInfo, hex: string): string {
  let base = typeof info.shards_base_url === 'string' && info.shards_base_url ? info.shards_base_url : './shards/';
  if (!base.endsWith('/')) base += '/';
  return new URL(`${hex}.msgpack.zst`, new URL(base, indexUrl)).href;
}

/** `{ info, packages, packages.conda, repodata_version }` from the visited shards, minus their `removed`. */
export function assembleSubset(subdir: string, info: ShardIndexInfo, shards: readonly Shard[]): Repodata {
  const packages: Record<string, RepodataRecord> = {};
  const conda: Record<string, RepodataRecord> = {};
  const removed = new Set<string>();
  for (const shard of shards) {
    Object.assign(packages, shard.packages);
    Object.assign(conda, shard['packages.conda']);
    for (const fn of shard.removed) removed.add(fn);
  }
  for (const fn of removed) {
    delete packages[fn];
    delete conda[fn];
  }
  const outInfo: Repodata['info'] = { subdir: typeof info.subdir === 'string' ? info.subdir : subdir };
  if (typeof info.base_url === 'string') outInfo.base_url = info.base_url;
  return { info: outInfo, packages, 'packages.conda': conda, removed: [...removed], repodata_version: outInfo.base_url ? 2 : 1 };
}

/**
 * The same subset from full indexes (a channel without shards): the records of `packages`
 * and of every name their `depends` reach, across all the given subdirs.
 */
export function closureOf(indexes: readonly Repodata[], packages: readonly string[]): Repodata[] {
  const byName = new Map<string, Array<{ index: number; group: 'packages' | 'packages.conda'; fn: string; rec: RepodataRecord }>>();
  indexes.forEach((repodata, index) => {
    for (const group of ['packages', 'packages.conda'] as const) {
      for (const [fn, rec] of Object.entries(repodata[group] ?? {})) {
        if (typeof rec?.name !== 'string') continue;
        const name = rec.name.toLowerCase();
        // Appended in place: copying the list per record made 80k records of one name quadratic.
        let list = byName.get(name);
        if (!list) byName.set(name, (list = []));
        list.push({ index, group, fn, rec });
      }
    }
  });
  const out: Repodata[] = indexes.map((r) => ({
    ...(r.info ? { info: r.info } : {}), packages: {}, 'packages.conda': {}, removed: [],
    ...(r.repodata_version !== undefined ? { repodata_version: r.repodata_version } : {}),
  }));
  const visited = new Set<string>();
  let wave = packages.map((p) => p.trim().toLowerCase()).filter(Boolean);
  while (wave.length > 0) {
    const next: string[] = [];
    for (const name of wave) {
      if (visited.has(name)) continue;
      visited.add(name);
      for (const { index, group, fn, rec } of byName.get(name) ?? []) {
        out[index]![group]![fn] = rec;
        for (const dep of Array.isArray(rec.depends) ? rec.depends : []) {
          const depName = typeof dep === 'string' ? dependencyName(dep) : undefined;
          if (depName && !visited.has(depName)) next.push(depName);
        }
      }
    }
    wave = next;
  }
  return out;
}
