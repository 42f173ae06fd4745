/** The state one fetchPackages() run shares between its steps, and the per-package result shape. */
import { join } from 'node:path';
import type { Settings } from '../core/settings.js';
import type { GatewayError } from '../errors/gateway-error.js';
import { maskUrl } from '../redact/safe-url.js';
import type { Session } from '../session/create-session.js';
import type { ExtractContext } from './extract-step.js';
import type { FetchPackagesOptions } from './fetch-packages.js';
import type { MirrorSelector } from './mirrors.js';
import type { UrlsTxt } from './pkgs-dir.js';
import type { FetchEvent, PackageResult, PackageSpec } from './types.js';

/** What the whole run shares. */
export interface Run {
  started: number;
  settings: Settings;
  packages: PackageSpec[];
  pkgsDir: string;
  jobs: number;
  perHost: number;
  extract: boolean;
  keepCredentials: boolean;
  emit: (event: FetchEvent) => void;
  opts: FetchPackagesOptions;
  abort: AbortController;
  results: Map<PackageSpec, PackageResult>;
  /** Extractions still running, awaited before the summary. */
  pending: Array<Promise<void>>;
  urls: UrlsTxt;
  bytesFetched: number;
  /** Packages extracted in this run. */
  extracted: number;
  dispose: () => void;
}

export interface RunState extends Run {
  session: Session;
  mirrors: MirrorSelector;
  extractor: ExtractContext;
  /** Streamed extractions running (at most MAX_STREAMED). */
  streaming: number;
}


export function hostOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return url;
  }
}

export function result(pkg: PackageSpec, pkgsDir: string, status: PackageResult['status'], bytes: number, unverified: boolean,
  error?: GatewayError, extractedPath?: string): PackageResult {
  return {
    url: maskUrl(pkg.url), fileName: pkg.fileName, status, path: join(pkgsDir, pkg.fileName), bytes, unverified,
    ...(extractedPath ? { extractedPath } : {}), ...(error ? { error: error.toJSON() } : {}), ...(pkg.origin ? { origin: pkg.origin } : {}),
  };
}

