/**
 * conda explicit files (`conda list --explicit [--md5|--sha256]`): `@EXPLICIT`, then one
 * package URL per line with an optional `#<md5>` or `#sha256:<hex>` fragment.
 */
import { looksLikeUrl, packageFromUrl } from './package-url.js';
import { specError } from './spec-error.js';
import type { ParsedSpecs, PackageSpec } from './types.js';

/** True when the text is an explicit file (has `@EXPLICIT`) or a list of URLs only. */
export function isExplicitText(text: string): boolean {
  if (/^[ \t]*@EXPLICIT[ \t]*\r?$/m.test(text)) return true;
  // Else a list of URLs only: stop at the first line that is not one (line 1 of a YAML file).
  let any = false;
  for (let pos = 0; pos < text.length;) {
    const nl = text.indexOf('\n', pos);
    const line = text.slice(pos, nl < 0 ? text.length : nl).trim();
    pos = nl < 0 ? text.length : nl + 1;
    if (!line || line.startsWith('#')) continue;
    if (!looksLikeUrl(line)) return false;
    any = true;
  }
  return any;
}

export function parseExplicit(text: string, file: string, platforms?: readonly string[]): ParsedSpecs {
  const packages: PackageSpec[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((rawLine, index) => {
    const line = rawLine.trim();
    const origin = { file, line: index + 1 };
    if (!line || line === '@EXPLICIT') return;
    if (line.startsWith('#')) {
      const platform = /^#\s*platform:\s*(\S+)/.exec(line)?.[1];
      if (platform && platforms && !platforms.includes(platform)) {
        throw specError(origin, `this explicit file is for platform '${platform}', not ${platforms.join(' or ')}`,
          `Use the file made for this machine, or pass --platform ${platform} to fetch its packages anyway.`);
      }
      return;
    }
    if (!looksLikeUrl(line)) {
      throw specError(origin, `expected a package URL, found '${line.slice(0, 80)}'`,
        'Explicit files list one package URL per line, as `conda list --explicit --md5` writes them.');
    }
    packages.push(packageFromUrl(line, origin));
  });
  return { format: 'explicit', source: file, packages, skipped: [] };
}
