/**
 * The extraction phase of fetchPackages(): a verified tarball becomes `<pkgs>/<stem>/`
 * with its repodata_record.json, a few at a time beside the downloads. A package that
 * fails to extract (unsafe or corrupt archive) leaves no folder and no tarball behind,
 * so neither we nor conda take it from the cache later.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { PackageArchiveError } from '../errors/classes.js';
import type { GatewayError } from '../errors/gateway-error.js';
import { maskUrl } from '../redact/safe-url.js';
import { toGatewayError } from '../session/map-error.js';
import { urlForCache } from './pkgs-dir.js';
import type { FetchEvent, PackageSpec } from './types.js';
import type { StreamedExtraction } from './extract/stream-extract.js';
import type { ExtractPackageResult } from './extract/extract-package.js';

/** Extractions at once: they are CPU-bound (zstd, bzip2), so about one per core, at most 4. */
export function defaultExtractJobs(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

export interface ExtractContext {
  pkgsDir: string;
  emit: (event: FetchEvent) => void;
  keepCredentials: boolean;
  noLock: boolean;
  signal: AbortSignal;
  /** Runs one extraction when a slot is free. */
  slot: <T>(fn: () => Promise<T>) => Promise<T>;
}

/** `reused`: another process extracted it while we waited for the lock. */
export type ExtractOutcome = { ok: true; path: string; reused: boolean } | { ok: false; error: GatewayError };

/** The URL conda will see for this package: credentials only when the user asked to keep them. */
export function recordedUrl(url: string, keepCredentials: boolean): string {
  return keepCredentials ? url.replace(/#.*$/s, '') : urlForCache(url);
}

/**
 * Run as download()'s whileLocked step (the package lock still held): the folder extracted while
 * downloading, put in place, or undefined when the tarball must be extracted as usual (the
 * streamed extraction gave up, or putting it in place failed: the file path then fails the same
 * way, typed). Never throws: the verified download stands either way.
 */
export async function acceptWhileLocked(ctx: ExtractContext, pkg: PackageSpec, known: { md5?: string; sha256?: string },
  streamed: StreamedExtraction): Promise<ExtractPackageResult | undefined> {
  try {
    const { acceptStreamed } = await import('./extract/extract-package.js');
    return await acceptStreamed({
      pkgsDir: ctx.pkgsDir, pkg, recordUrl: recordedUrl(pkg.url, ctx.keepCredentials), known, noLock: true, signal: ctx.signal, streamed,
    });
  } catch (err) {
    streamed.failure ??= err;
    await streamed.discard();
    return undefined;
  }
}

export function extractStep(ctx: ExtractContext, pkg: PackageSpec, known?: { md5?: string; sha256?: string },
  streamed?: StreamedExtraction, accepted?: ExtractPackageResult): Promise<ExtractOutcome> {
  if (accepted) {
    // Extracted while downloading and already in place (under the download's lock).
    const masked = maskUrl(pkg.url);
    ctx.emit({ type: 'extract-start', url: masked, fileName: pkg.fileName });
    if (!accepted.reused) ctx.emit({
      type: 'extracted', url: masked, fileName: pkg.fileName, path: accepted.path, files: accepted.files, bytes: accepted.bytes,
      elapsedMs: Math.round(accepted.elapsedMs), streamed: accepted.streamed,
    });
    return Promise.resolve({ ok: true, path: accepted.path, reused: accepted.reused });
  }
  return ctx.slot(async () => {
    const masked = maskUrl(pkg.url);
    ctx.emit({ type: 'extract-start', url: masked, fileName: pkg.fileName });
    try {
      const { extractPackage } = await import('./extract/extract-package.js');
      const done = await extractPackage({
        pkgsDir: ctx.pkgsDir, pkg, recordUrl: recordedUrl(pkg.url, ctx.keepCredentials), known, noLock: ctx.noLock, signal: ctx.signal,
        streamed,
      });
      if (!done.reused) ctx.emit({
        type: 'extracted', url: masked, fileName: pkg.fileName, path: done.path, files: done.files, bytes: done.bytes,
        elapsedMs: Math.round(done.elapsedMs), streamed: done.streamed,
      });
      return { ok: true, path: done.path, reused: done.reused };
    } catch (err) {
      if (err instanceof PackageArchiveError) await rm(join(ctx.pkgsDir, pkg.fileName), { force: true }).catch(() => undefined);
      return { ok: false, error: toGatewayError(err, { url: pkg.url, path: join(ctx.pkgsDir, pkg.fileName) }) };
    } finally {
      await streamed?.discard();
    }
  });
}
