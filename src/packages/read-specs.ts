/**
 * Turn command-line inputs (spec files, lock files, package URLs, URLs of spec files)
 * into one de-duplicated package list, detecting each input's format from its content.
 */
import { constants, type FileHandle, open } from 'node:fs/promises';
import { isGatewayError } from '../errors/gateway-error.js';
import { resolve } from 'node:path';
import type { Settings } from '../core/settings.js';
import { maskUrl } from '../redact/safe-url.js';
import { isExplicitText, parseExplicit } from './parse-explicit.js';
import { isCondaLock, parseCondaLock } from './parse-conda-lock.js';
import { isPixiLock, parsePixiLock } from './parse-pixi-lock.js';
import { fileNameOf, isPackageFileName, looksLikeUrl, packageFromUrl } from './package-url.js';
import { defaultPlatforms } from './platform.js';
import { specError, where } from './spec-error.js';
import { hasTopLevelKey, loadYaml } from './yaml-source.js';
import type { PackageSpec, ParseOptions, ParsedSpecs } from './types.js';

const UNKNOWN_FORMAT_HINT =
  'Give a conda explicit file (conda list --explicit --md5), a conda-lock.yml, a pixi.lock, or package URLs.';

/** Parse the text of one spec or lock file, detecting its format. */
export async function parseSpecText(text: string, file: string, options: ParseOptions = {}): Promise<ParsedSpecs> {
  const platforms = options.platforms ?? defaultPlatforms();
  if (isExplicitText(text)) return parseExplicit(text, file, options.platforms);
  if (hasTopLevelKey(text, 'environments') || hasTopLevelKey(text, 'package') || hasTopLevelKey(text, 'metadata')) {
    const y = await loadYaml(text, file);
    if (isPixiLock(y)) return parsePixiLock(y, platforms, options.environment);
    if (isCondaLock(y)) return parseCondaLock(y, platforms);
  }
  const firstLine = text.split(/\r?\n/).findIndex((l) => l.trim() !== '');
  throw specError({ file, line: firstLine >= 0 ? firstLine + 1 : undefined },
    'unknown format: not a conda explicit file, conda-lock.yml or pixi.lock', UNKNOWN_FORMAT_HINT);
}

/** Largest spec or lock file read into memory (file or URL), unless `maxSpecBytes` says otherwise. */
export const DEFAULT_MAX_SPEC_BYTES = 256 * 1024 * 1024;

export interface ReadSpecsOptions extends ParseOptions {
  cwd?: string;
  /** Largest spec file (on disk, or the decoded body of a URL) to read into memory. @default DEFAULT_MAX_SPEC_BYTES */
  maxSpecBytes?: number;
  /** Used to fetch spec files given by URL. */
  settings?: Settings;
  signal?: AbortSignal;
}

/** Read every input; a URL naming a package file is a package, any other URL a spec file to fetch. */
export async function readSpecs(inputs: readonly string[], options: ReadSpecsOptions = {}): Promise<ParsedSpecs[]> {
  const out: ParsedSpecs[] = [];
  for (const input of inputs) {
    if (looksLikeUrl(input)) {
      const bare = input.split('#')[0]!;
      const name = fileNameOf(bare);
      if (isPackageFileName(name) || !name) {
        out.push({ format: 'url', source: 'command line', packages: [packageFromUrl(input, { file: 'command line' })], skipped: [] });
        continue;
      }
      const { downloadText } = await import('../download/download-text.js');
      const text = await downloadText(bare, { settings: options.settings, signal: options.signal, maxBytes: options.maxSpecBytes ?? DEFAULT_MAX_SPEC_BYTES });
      out.push(await parseSpecText(text, maskUrl(bare), options));
      continue;
    }
    const path = resolve(options.cwd ?? '.', input);
    out.push(await parseSpecText(await readSpecFile(path, options.maxSpecBytes ?? DEFAULT_MAX_SPEC_BYTES), path, options));
  }
  return out;
}

/** A local spec file's text: a regular file within the size limit (a fifo or /dev/zero would never end). */
async function readSpecFile(path: string, limit: number): Promise<string> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    const st = await handle.stat();
    if (!st.isFile()) throw specError({ file: path }, 'is not a regular file');
    if (st.size > limit) {
      throw specError({ file: path }, `is ${st.size} bytes, larger than the limit of ${limit} bytes`,
        'Raise the limit with --max-spec-bytes (maxSpecBytes in the library) if this file is really that large.');
    }
    return await handle.readFile('utf8');
  } catch (err) {
    if (isGatewayError(err)) throw err;
    const code = (err as { code?: string }).code;
    throw specError({ file: path }, code === 'ENOENT' ? 'no such file' : `cannot be read (${code ?? String(err)})`);
  } finally {
    await handle?.close();
  }
}

/** One entry per cache file name: duplicates merged, conflicting checksums an error naming both places. */
export function mergeSpecs(lists: ReadonlyArray<ParsedSpecs | readonly PackageSpec[]>): PackageSpec[] {
  const byName = new Map<string, PackageSpec>();
  for (const list of lists) {
    for (const pkg of Array.isArray(list) ? list : (list as ParsedSpecs).packages) {
      const seen = byName.get(pkg.fileName);
      if (!seen) {
        byName.set(pkg.fileName, pkg);
        continue;
      }
      const conflict = (['md5', 'sha256', 'size'] as const).find((k) =>
        seen[k] !== undefined && pkg[k] !== undefined && seen[k] !== pkg[k]);
      if (conflict) {
        throw specError(pkg.origin ?? { file: 'input' },
          `${pkg.fileName} is listed again with a different ${conflict} (first at ${seen.origin ? where(seen.origin) : 'input'})`);
      }
      byName.set(pkg.fileName, {
        ...seen,
        ...(seen.md5 ?? pkg.md5 ? { md5: seen.md5 ?? pkg.md5 } : {}),
        ...(seen.sha256 ?? pkg.sha256 ? { sha256: seen.sha256 ?? pkg.sha256 } : {}),
        ...(seen.size ?? pkg.size) !== undefined ? { size: seen.size ?? pkg.size } : {},
      });
    }
  }
  return [...byName.values()];
}
