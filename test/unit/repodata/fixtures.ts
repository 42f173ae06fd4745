/** Repodata fixtures made by the tests: repodata objects, zstd (the zstd CLI), msgpack shards and shard indexes. */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { encode } from '@msgpack/msgpack';

/** zstd-compress with the `zstd` CLI (Debian package `zstd`, listed in .ci/apt-packages). */
export function zstd(data: Buffer | string | Uint8Array, level = 3): Buffer {
  const out = spawnSync('zstd', ['-q', '-c', `-${level}`], { input: data, maxBuffer: 1 << 30 });
  if (out.error) {
    throw new Error(`the zstd CLI is needed to make test fixtures (apt-get install zstd; it is in .ci/apt-packages): ${out.error.message}`);
  }
  if (out.status !== 0) throw new Error(`zstd failed: ${out.stderr.toString()}`);
  return out.stdout;
}

export interface FixtureRecord {
  name: string;
  version: string;
  build?: string;
  depends?: string[];
  subdir: string;
}

function hex(text: string, algo: 'sha256' | 'md5'): string {
  return createHash(algo).update(text).digest('hex');
}

export function record(r: FixtureRecord): Record<string, unknown> {
  const build = r.build ?? 'h0_0';
  const fn = `${r.name}-${r.version}-${build}.conda`;
  return {
    name: r.name, version: r.version, build, build_number: 0, depends: r.depends ?? [], subdir: r.subdir,
    sha256: hex(fn, 'sha256'), md5: hex(fn, 'md5'), size: 1000 + fn.length, timestamp: 1_764_000_000_000,
  };
}

export function filename(r: FixtureRecord): string {
  return `${r.name}-${r.version}-${r.build ?? 'h0_0'}.conda`;
}

/** A repodata.json object for these records. */
export function repodataOf(subdir: string, records: FixtureRecord[]): Record<string, unknown> {
  const conda: Record<string, unknown> = {};
  for (const r of records) conda[filename(r)] = record(r);
  return { info: { subdir }, packages: {}, 'packages.conda': conda, removed: [], repodata_version: 1 };
}

/** A shard file (zstd of msgpack) for one package name, checksums as raw bytes as conda-index writes them. */
export function shardFile(records: FixtureRecord[], removed: string[] = []): Buffer {
  const conda: Record<string, unknown> = {};
  for (const r of records) {
    const rec = record(r);
    conda[filename(r)] = { ...rec, sha256: Buffer.from(rec.sha256 as string, 'hex'), md5: Buffer.from(rec.md5 as string, 'hex') };
  }
  return zstd(Buffer.from(encode({ packages: {}, 'packages.conda': conda, removed })));
}

export function sha256Bytes(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

/** A shard index (zstd of msgpack) mapping names to the sha256 of their shard files. */
export function shardIndexFile(subdir: string, shards: Record<string, Uint8Array>, info: Record<string, unknown> = {}): Buffer {
  const map: Record<string, Uint8Array> = {};
  for (const [name, hash] of Object.entries(shards)) map[name] = hash;
  return zstd(Buffer.from(encode({ version: 1, info: { subdir, base_url: '', shards_base_url: './shards/', created_at: '2026-11-25T00:00:00Z', ...info }, shards: map })));
}

/**
 * A sharded subdir: files keyed by path under the subdir (`repodata_shards.msgpack.zst`,
 * `shards/<hex>.msgpack.zst`), from records grouped by name.
 */
export function shardedSubdir(subdir: string, records: FixtureRecord[], info: Record<string, unknown> = {}): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const byName = new Map<string, FixtureRecord[]>();
  for (const r of records) byName.set(r.name, [...(byName.get(r.name) ?? []), r]);
  const hashes: Record<string, Uint8Array> = {};
  for (const [name, recs] of byName) {
    const file = shardFile(recs);
    const hash = sha256Bytes(file);
    hashes[name] = hash;
    files.set(`shards/${hash.toString('hex')}.msgpack.zst`, file);
  }
  files.set('repodata_shards.msgpack.zst', shardIndexFile(subdir, hashes, info));
  return files;
}
