/** The shapes shared by the package fetcher: one package to fetch, where it was listed, and events. */
import type { GatewayErrorJson } from '../errors/gateway-error.js';

/** Where a package was listed: a spec file and line, or a command-line argument. */
export interface SpecOrigin {
  readonly file: string;
  /** 1-based line, when known. */
  readonly line?: number;
}

/** One package to fetch into the cache. */
export interface PackageSpec {
  /** The channel URL of the package file (may carry credentials; never printed unmasked). */
  readonly url: string;
  /** The file name in the package cache, e.g. `numpy-2.1.0-py312h1_0.conda`. */
  readonly fileName: string;
  readonly md5?: string;
  readonly sha256?: string;
  readonly size?: number;
  readonly origin?: SpecOrigin;
}

export type SpecFormat = 'explicit' | 'conda-lock' | 'pixi-lock' | 'url';

export interface ParsedSpecs {
  readonly format: SpecFormat;
  readonly source: string;
  readonly packages: PackageSpec[];
  /** Entries deliberately not fetched (pypi packages, source packages), with a reason. */
  readonly skipped: Array<{ origin: SpecOrigin; reason: string }>;
}

export interface ParseOptions {
  /** Platforms (conda subdirs) to take from lock files. @default [hostSubdir(), 'noarch'] */
  platforms?: readonly string[];
  /** Environment of a pixi.lock. @default 'default' */
  environment?: string;
}

/** Events reported by fetchPackages(); every URL in them is masked. */
export type FetchEvent =
  | {
    type: 'plan'; pkgsDir: string; packages: number; bytes: number; cached: number; toFetch: number; toFetchBytes: number; jobs: number;
    /** Packages to extract in this run (fetched ones plus cached tarballs not yet extracted); 0 with extract off. */
    toExtract: number;
  }
  | { type: 'start'; url: string; fileName: string; size?: number; mirror?: string }
  | { type: 'progress'; url: string; fileName: string; bytes: number; total?: number }
  | { type: 'retry'; url: string; fileName: string; attempt: number; delayMs: number; reason: string }
  | { type: 'mirror-failover'; url: string; fileName: string; from: string; to?: string; reason: string; code: string; failures: number }
  /** `path` is the tarball, or the extracted folder when only that is in the cache. */
  | { type: 'cached'; url: string; fileName: string; path: string; bytes: number; unverified: boolean }
  /** Extraction phase: a package starts being extracted into its cache folder, and is done. */
  | { type: 'extract-start'; url: string; fileName: string }
  /** `streamed`: extracted while downloading (false: from the verified tarball afterwards). */
  | { type: 'extracted'; url: string; fileName: string; path: string; files: number; bytes: number; elapsedMs: number; streamed: boolean }
  | {
    type: 'done'; url: string; fileName: string; path: string; bytes: number; sha256: string; md5?: string;
    resumedFrom: number; attempts: number; elapsedMs: number; unverified: boolean; from: string;
  }
  | { type: 'error'; url: string; fileName: string; error: GatewayErrorJson }
  | { type: 'summary'; summary: FetchSummaryJson };

export type FetchStatus = 'fetched' | 'cached' | 'failed' | 'skipped' | 'would-fetch';

export interface PackageResult {
  /** Masked URL. */
  readonly url: string;
  readonly fileName: string;
  readonly status: FetchStatus;
  readonly path: string;
  readonly bytes: number;
  readonly unverified: boolean;
  /** The extracted folder `<pkgs>/<name>-<version>-<build>`, when the package is (now) extracted. */
  readonly extractedPath?: string;
  readonly error?: GatewayErrorJson;
  readonly origin?: SpecOrigin;
}

export interface FetchSummaryJson {
  pkgsDir: string;
  total: number;
  fetched: number;
  cached: number;
  /** Packages extracted into the cache in this run. */
  extracted: number;
  failed: number;
  /** Not fetched because of --fail-fast or an interrupt. */
  notStarted: number;
  unverified: number;
  /** Bytes transferred in this run (resumed prefixes excluded). */
  bytesFetched: number;
  elapsedMs: number;
  aborted: boolean;
  dryRun: boolean;
  failures: Array<{ url: string; fileName: string; origin?: SpecOrigin; error: GatewayErrorJson }>;
}
