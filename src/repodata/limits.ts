/**
 * Limits on what a channel may make us decode, hold or write (issue: hostile servers). Every
 * one is settable per call (`fetchRepodata(..., { limits: { maxIndexBytes: 4 * 2 ** 30 } })`);
 * going over one is CG_REPODATA_TOO_LARGE and nothing of the body is cached (its temp file is
 * removed). conda-forge's largest index (linux-64) decodes to about 300 MB at a ratio under 10.
 */
export interface RepodataLimits {
  /** Decoded bytes of one repodata.json. @default 1 GiB */
  maxIndexBytes: number;
  /** Decoded bytes per byte received (zstd or gzip), checked once past `ratioFloorBytes`. @default 100 */
  maxRatio: number;
  /** Decoded bytes below which the ratio is not checked. @default 16 MiB */
  ratioFloorBytes: number;
  /** Bytes of a shard index, received and decoded. @default 32 MiB */
  maxShardIndexBytes: number;
  /** Package names in one shard index. @default 500 000 (conda-forge lists about 30 000) */
  maxShardNames: number;
  /** Bytes of one shard, received and decoded. @default 32 MiB */
  maxShardBytes: number;
  /** JSON nesting depth of repodata.json. @default 64 */
  maxDepth: number;
}

export const DEFAULT_REPODATA_LIMITS: Readonly<RepodataLimits> = Object.freeze({
  maxIndexBytes: 2 ** 30,
  maxRatio: 100,
  ratioFloorBytes: 16 * 2 ** 20,
  maxShardIndexBytes: 32 * 2 ** 20,
  maxShardNames: 500_000,
  maxShardBytes: 32 * 2 ** 20,
  maxDepth: 64,
});

/** The defaults with the caller's overrides (non-positive or non-numbers ignored). */
export function resolveLimits(overrides: Partial<RepodataLimits> | undefined): RepodataLimits {
  const out: RepodataLimits = { ...DEFAULT_REPODATA_LIMITS };
  for (const key of Object.keys(out) as Array<keyof RepodataLimits>) {
    const v = overrides?.[key];
    if (typeof v === 'number' && Number.isFinite(v) && v > 0) out[key] = v;
  }
  return out;
}
