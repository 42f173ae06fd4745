/**
 * Whether a package is already extracted in the cache the way conda counts it: a folder
 * `<pkgs>/<stem>/` with `info/index.json` and an `info/repodata_record.json` for the same
 * file whose checksum matches the spec. The tarball is not needed (`conda clean --tarballs`).
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { cachePath } from '../pkgs-dir.js';
import type { PackageSpec } from '../types.js';

export interface ExtractedHit {
  /** The extracted folder. */
  path: string;
  /** The archive size the record names. */
  bytes: number;
  /** No checksum to compare: taken on the file name alone. */
  unverified: boolean;
}

/** The extracted folder's name: the file name without `.conda` / `.tar.bz2`. */
export function stemOf(fileName: string): string {
  return fileName.endsWith('.conda') ? fileName.slice(0, -'.conda'.length) : fileName.replace(/\.tar\.bz2$/, '');
}

export function extractedDirOf(pkgsDir: string, fileName: string): string {
  return cachePath(pkgsDir, stemOf(fileName));
}

export async function checkExtracted(pkgsDir: string, pkg: PackageSpec): Promise<ExtractedHit | undefined> {
  const dir = extractedDirOf(pkgsDir, pkg.fileName);
  let record: Record<string, unknown>;
  try {
    const [text, index] = await Promise.all([
      readFile(join(dir, 'info', 'repodata_record.json'), 'utf8'), stat(join(dir, 'info', 'index.json')),
    ]);
    if (!index.isFile()) return undefined;
    const parsed: unknown = JSON.parse(text);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
    record = parsed as Record<string, unknown>;
  } catch {
    return undefined;
  }
  // The .conda and .tar.bz2 of one build share a folder; the record says which one it came from.
  if (typeof record.fn === 'string' && record.fn !== pkg.fileName) return undefined;
  const size = typeof record.size === 'number' ? record.size : undefined;
  if (pkg.size !== undefined && size !== undefined && size !== pkg.size) return undefined;
  if (pkg.sha256) {
    return record.sha256 === pkg.sha256 ? { path: dir, bytes: size ?? 0, unverified: false } : undefined;
  }
  if (pkg.md5) return record.md5 === pkg.md5 ? { path: dir, bytes: size ?? 0, unverified: false } : undefined;
  return typeof record.fn === 'string' ? { path: dir, bytes: size ?? 0, unverified: true } : undefined;
}
