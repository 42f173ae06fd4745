/**
 * pixi.lock (versions 4–6): `environments.<env>.packages.<platform>` lists references
 * (`- conda: <url>` / `- pypi: <url>`), resolved against the top-level `packages` list
 * (v6: `conda: <url>` entries; v4/v5: `kind: conda` entries with `url`) for checksums and size.
 */
import { maskUrl } from '../redact/safe-url.js';
import { looksLikeUrl, packageFromUrl } from './package-url.js';
import { shortValue, specError } from './spec-error.js';
import type { YamlSource } from './yaml-source.js';
import type { ParsedSpecs, PackageSpec } from './types.js';

const VERSIONS = [4, 5, 6];

export function isPixiLock(y: YamlSource): boolean {
  return y.isMap(y.root) && y.child(y.root, 'environments') !== undefined && y.child(y.root, 'version') !== undefined;
}

interface Record_ {
  line?: number;
  md5?: unknown;
  sha256?: unknown;
  size?: unknown;
}

function catalogue(y: YamlSource): Map<string, Record_> {
  const out = new Map<string, Record_>();
  for (const item of y.items(y.child(y.root, 'packages'))) {
    const e = y.toJs(item);
    if (typeof e !== 'object' || e === null) continue;
    const r = e as Record<string, unknown>;
    const url = typeof r.conda === 'string' ? r.conda : r.kind === 'conda' && typeof r.url === 'string' ? r.url : undefined;
    if (url && !out.has(url)) out.set(url, { line: y.lineOf(item), md5: r.md5, sha256: r.sha256, size: r.size });
  }
  return out;
}

export function parsePixiLock(y: YamlSource, platforms: readonly string[], environment = 'default'): ParsedSpecs {
  const file = y.file;
  const versionNode = y.child(y.root, 'version');
  const version = y.toJs(versionNode);
  if (typeof version !== 'number' || !VERSIONS.includes(version)) {
    throw specError({ file, line: y.rootKeyLine('version') },
      `unsupported pixi.lock version ${shortValue(version)} (versions ${VERSIONS.join(', ')} are understood)`);
  }
  const envs = y.child(y.root, 'environments');
  const env = y.child(envs, environment);
  if (env === undefined) {
    const names = y.entries(envs).map(([k]) => k);
    throw specError({ file, line: y.lineOf(envs) }, `no environment '${environment}' (it has: ${names.join(', ') || 'none'})`,
      names.length ? `Pass --environment ${names[0]}.` : undefined);
  }
  const byPlatform = y.child(env, 'packages');
  const available = y.entries(byPlatform).map(([k]) => k);
  const chosen = available.filter((p) => platforms.includes(p));
  if (chosen.length === 0) {
    throw specError({ file, line: y.lineOf(byPlatform) ?? y.lineOf(env) },
      `environment '${environment}' has no packages for ${platforms.join(' or ')} (it has: ${available.join(', ') || 'none'})`,
      `Pass --platform ${available[0] ?? '<subdir>'} to fetch another platform's packages.`);
  }
  const records = catalogue(y);
  const packages: PackageSpec[] = [];
  const skipped: ParsedSpecs['skipped'] = [];
  for (const platform of chosen) {
    for (const ref of y.items(y.child(byPlatform, platform))) {
      const origin = { file, line: y.lineOf(ref) };
      const r = y.toJs(ref);
      if (typeof r !== 'object' || r === null) throw specError(origin, 'a package reference must be a mapping such as `- conda: <url>`');
      const refMap = r as Record<string, unknown>;
      if (typeof refMap.conda !== 'string') {
        const kind = Object.keys(refMap)[0] ?? '?';
        skipped.push({ origin, reason: `${kind} package (only conda packages are fetched)` });
        continue;
      }
      const url = refMap.conda;
      if (!looksLikeUrl(url)) {
        skipped.push({ origin, reason: `source package '${url}' (built locally, nothing to fetch)` });
        continue;
      }
      const record = records.get(url);
      if (!record) throw specError(origin, `package ${maskUrl(url)} is not described in the top-level 'packages' list`);
      packages.push(packageFromUrl(url, { file, line: record.line ?? origin.line }, record));
    }
  }
  return { format: 'pixi-lock', source: file, packages, skipped };
}
