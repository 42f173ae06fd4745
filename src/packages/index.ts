/** Fetching many packages into a conda package cache: spec and lock parsers, mirrors, scheduling. */
export { fetchPackages, DEFAULT_FETCH_JOBS, DEFAULT_PER_HOST_JOBS, type FetchPackagesOptions, type FetchSummary } from './fetch-packages.js';
export { readSpecs, parseSpecText, mergeSpecs, type ReadSpecsOptions } from './read-specs.js';
export { defaultPkgsDir, urlForCache } from './pkgs-dir.js';
export { condaSubdir, defaultPlatforms } from './platform.js';
export { MirrorSelector, type Candidate } from './mirrors.js';
export type {
  FetchEvent, FetchStatus, FetchSummaryJson, PackageResult, PackageSpec, ParseOptions, ParsedSpecs, SpecFormat, SpecOrigin,
} from './types.js';
