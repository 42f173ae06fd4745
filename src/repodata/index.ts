/** Channel indexes (repodata) with conda's cache: plain, .zst and sharded (CEP-16). */
export { fetchRepodata, parseRepodata } from './fetch-repodata.js';
export { decide } from './freshness.js';
export type { CacheDecision, DecideInput } from './freshness.js';
export { fetchShardedSubset, fetchShardIndex, SHARD_INDEX_FN } from './sharded.js';
export type { ShardOptions, LoadedIndex } from './sharded.js';
export { cacheKey, cachePaths, credentialFreeUrl, defaultCacheDir, keyedUrl, subdirUrl } from './cache-key.js';
export type { CachePaths } from './cache-key.js';
export {
  parseState, serializeState, emptyState, hasFormat, setHasFormat, shouldCheckFormat, CHECK_ALTERNATE_FORMAT_INTERVAL_MS,
} from './cache-state.js';
export type { RepodataState, RepodataStateJson, FormatFlag, FormatName, ParsedState } from './cache-state.js';
export { isStale, maxAgeSeconds, secondsLeft, cacheControlMaxAge } from './freshness.js';
export { UnavailableInvalidChannel } from './errors.js';
export { dependencyName, parseShard, parseShardIndex, assembleSubset, closureOf, shardUrl } from './shards.js';
export type { Shard, ShardIndex, ShardIndexInfo } from './shards.js';
export { createZstdDecoder, decodeZstd, zstdBackend, ZstdDecodeError, DecodedTooLargeError } from './zst.js';
export type { ZstdBackend, DecodeBudget } from './zst.js';
export { DEFAULT_REPODATA_LIMITS, resolveLimits } from './limits.js';
export type { RepodataLimits } from './limits.js';
export { RepodataShapeValidator, validateRepodataShape, JsonShapeError, MAX_JSON_DEPTH } from './json-shape.js';
export type { JsonShapeSummary } from './json-shape.js';
export { sparseRecords } from './sparse.js';
export type { CacheResult, FetchRepodataOptions, FetchRepodataResult, Repodata, RepodataRecord } from './types.js';
