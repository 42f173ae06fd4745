/** The package version and the User-Agent built from it. */
import { createRequire } from 'node:module';
import { release, platform } from 'node:os';

let cached: string | undefined;

export function packageVersion(): string {
  if (cached === undefined) {
    const require = createRequire(import.meta.url);
    cached = (require('../package.json') as { version: string }).version;
  }
  return cached;
}

let undiciVersion: string | undefined;
function undiciVersionOf(): string {
  if (undiciVersion === undefined) {
    try {
      const require = createRequire(import.meta.url);
      undiciVersion = (require('undici/package.json') as { version: string }).version;
    } catch {
      undiciVersion = 'unknown';
    }
  }
  return undiciVersion;
}

/** `conda-gateway/<version> undici/<v> node/<v> <os>/<release>`, shaped like conda's user agent. */
export function userAgent(): string {
  const osName = platform() === 'darwin' ? 'OSX' : platform() === 'win32' ? 'Windows' : platform() === 'linux' ? 'Linux' : platform();
  return `conda-gateway/${packageVersion()} undici/${undiciVersionOf()} node/${process.versions.node} ${osName}/${release()}`;
}
