/**
 * conda-lock.yml (version 1): `metadata.platforms` and a `package` list whose conda
 * entries carry `url`, `hash.md5`/`hash.sha256` and `platform`. pip entries are skipped.
 */
import { packageFromUrl } from './package-url.js';
import { shortValue, specError } from './spec-error.js';
import type { YamlSource } from './yaml-source.js';
import type { ParsedSpecs, PackageSpec } from './types.js';

export function isCondaLock(y: YamlSource): boolean {
  return y.isMap(y.root) && y.child(y.root, 'package') !== undefined && y.child(y.root, 'metadata') !== undefined;
}

export function parseCondaLock(y: YamlSource, platforms: readonly string[]): ParsedSpecs {
  const file = y.file;
  const versionNode = y.child(y.root, 'version');
  const version = y.toJs(versionNode);
  if (version !== 1) {
    throw specError({ file, line: y.rootKeyLine('version') }, `unsupported conda-lock version ${shortValue(version)} (version 1 is understood)`);
  }
  const packageNode = y.child(y.root, 'package');
  if (!y.isSeq(packageNode)) throw specError({ file, line: y.lineOf(packageNode) }, "'package' must be a list");
  const packages: PackageSpec[] = [];
  const skipped: ParsedSpecs['skipped'] = [];
  const seenPlatforms = new Set<string>();
  for (const item of y.items(packageNode)) {
    const origin = { file, line: y.lineOf(item) };
    const entry = y.toJs(item);
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw specError(origin, 'a package entry must be a mapping');
    const e = entry as Record<string, unknown>;
    const manager = e.manager ?? 'conda';
    if (typeof e.platform !== 'string') throw specError(origin, `package '${String(e.name ?? '?')}' has no platform`);
    seenPlatforms.add(e.platform);
    if (!platforms.includes(e.platform)) continue;
    if (manager !== 'conda') {
      skipped.push({ origin, reason: `${String(manager)} package '${String(e.name ?? '?')}' (only conda packages are fetched)` });
      continue;
    }
    if (typeof e.url !== 'string') throw specError(origin, `package '${String(e.name ?? '?')}' has no url`);
    const hash = (typeof e.hash === 'object' && e.hash !== null ? e.hash : {}) as Record<string, unknown>;
    packages.push(packageFromUrl(e.url, origin, { md5: hash.md5, sha256: hash.sha256, size: e.size }));
  }
  if (packages.length === 0 && skipped.length === 0) {
    const declared = y.toJs(y.child(y.child(y.root, 'metadata'), 'platforms'));
    const has = Array.isArray(declared) ? declared.map(String) : [...seenPlatforms];
    throw specError({ file, line: y.lineOf(y.child(y.child(y.root, 'metadata'), 'platforms')) },
      `this lock file has no packages for ${platforms.join(' or ')} (it has: ${has.join(', ') || 'none'})`,
      `Pass --platform ${has[0] ?? '<subdir>'} to fetch another platform's packages.`);
  }
  return { format: 'conda-lock', source: file, packages, skipped };
}
