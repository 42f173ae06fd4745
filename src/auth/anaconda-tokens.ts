/**
 * anaconda-client token files as a credential source (conda's add_binstar_token):
 * `$BINSTAR_CONFIG_DIR/data` or the per-user binstar config directory holds files named
 * `quote_plus(url) + ".token"`; a URL under such a url gets `/t/<token>/` after it.
 * Each token also serves the URL with its first `api` replaced by `conda`.
 */
import { isFdPressure, withFdBackoff } from '../core/fd-pressure.js';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { maskUrl } from '../redact/safe-url.js';
import type { CredentialSource, Credentials } from './types.js';
import type { Env } from '../core/types.js';


/** Where the token files are: BINSTAR_CONFIG_DIR/data, else platformdirs' user config (and data) dir for binstar. */
export function binstarTokenDirs(env: Env, homeDir: string, platform: NodeJS.Platform = process.platform): string[] {
  if (env.BINSTAR_CONFIG_DIR) return [join(env.BINSTAR_CONFIG_DIR, 'data')];
  if (platform === 'darwin') return [join(homeDir, 'Library', 'Application Support', 'binstar')];
  if (platform === 'win32') {
    const local = env.LOCALAPPDATA ?? join(homeDir, 'AppData', 'Local');
    return [join(local, 'ContinuumIO', 'binstar')];
  }
  const config = env.XDG_CONFIG_HOME || join(homeDir, '.config');
  const data = env.XDG_DATA_HOME || join(homeDir, '.local', 'share');
  // conda HEAD reads the config dir; anaconda-client and older conda use the data dir.
  return [join(config, 'binstar'), join(data, 'binstar')];
}

export function replaceFirstApiWithConda(url: string): string {
  return url.replace(/([./])api([./]|$)/, '$1conda$2');
}

function unquotePlus(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

/** A token: the file it came from and the path of its URL (the `/t/<token>` goes after it). */
export interface BinstarToken {
  readonly token: string;
  readonly file: string;
  readonly pathPrefix: string;
}

/**
 * The http(s) URL a token file name stands for, or why it cannot be used. A name such as
 * `https%3A.token` (no host) must be skipped, never break lookups for every request.
 */
function tokenUrl(url: string): { key: string; pathPrefix: string } | { problem: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { problem: 'its name is not a URL' };
  }
  if (!/^https?:$/.test(parsed.protocol) || !parsed.hostname) return { problem: 'its name is not an http(s) URL with a host' };
  if (!/^https?:\/\/[^/?#]/i.test(url)) return { problem: 'its name is not a URL of the form scheme://host/path' };
  if (parsed.username || parsed.password || parsed.search || parsed.hash) return { problem: 'its URL holds credentials, a query or a fragment' };
  const pathPrefix = parsed.pathname.replace(/\/+$/, '');
  // Compared with the request URL as WHATWG writes it (lowercase scheme and host, no default port).
  return { key: `${parsed.protocol}//${parsed.host}${pathPrefix}`, pathPrefix };
}

/** url → token, from every token file found; `log` hears about files skipped (names only, never tokens). */
export async function readBinstarTokens(
  dirs: readonly string[], log: (message: string) => void = () => undefined,
): Promise<Map<string, BinstarToken>> {
  const tokens = new Map<string, BinstarToken>();
  for (const dir of dirs) {
    let names: string[];
    try {
      names = await withFdBackoff(() => readdir(dir));
    } catch (err) {
      // A missing or unreadable directory has no tokens; running out of descriptors must not hide them.
      if (isFdPressure(err)) throw err;
      continue;
    }
    for (const name of names.sort()) {
      if (!name.endsWith('.token')) continue;
      const file = join(dir, name);
      const url = unquotePlus(name.slice(0, -'.token'.length)).replace(/\/+$/, '');
      const targets = [url, replaceFirstApiWithConda(url)].map(tokenUrl);
      const problem = targets.map((target) => ('problem' in target ? target.problem : undefined)).find(Boolean);
      if (problem) {
        log(`anaconda token file for ${maskUrl(url)} in ${dir} skipped: ${problem}`);
        continue;
      }
      let token: string;
      try {
        token = (await withFdBackoff(() => readFile(file, 'utf8'))).trim();
      } catch (err) {
        if (isFdPressure(err)) throw err;
        continue;
      }
      if (!token) continue;
      for (const target of targets) {
        if ('key' in target && !tokens.has(target.key)) tokens.set(target.key, { token, file, pathPrefix: target.pathPrefix });
      }
    }
  }
  return tokens;
}

/** A source giving conda tokens for URLs under a token file's URL (only when add_anaconda_token). */
export function createAnacondaTokenSource(env: Env, homeDir: string, log?: (message: string) => void): CredentialSource {
  const dirs = binstarTokenDirs(env, homeDir);
  let loaded: ReturnType<typeof readBinstarTokens> | undefined;
  return {
    name: 'anaconda-tokens',
    async lookup(url): Promise<Credentials | undefined> {
      if (!/^https?:$/.test(url.protocol) || /\/t\/[^/]*/.test(url.pathname)) return undefined;
      loaded ??= readBinstarTokens(dirs, log).catch((err: unknown) => {
        if (isFdPressure(err)) loaded = undefined;
        throw err;
      });
      const clean = `${url.protocol}//${url.host}${url.pathname}`;
      for (const [base, { token, file, pathPrefix }] of await loaded) {
        if (clean === base || clean.startsWith(`${base}/`)) {
          return { kind: 'conda-token', token, source: file, pathPrefix };
        }
      }
      return undefined;
    },
  };
}
