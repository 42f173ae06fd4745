/**
 * anaconda-client token files as a credential source (conda's add_binstar_token):
 * `$BINSTAR_CONFIG_DIR/data` or the per-user binstar config directory holds files named
 * `quote_plus(url) + ".token"`; a URL under such a url gets `/t/<token>/` after it.
 * Each token also serves the URL with its first `api` replaced by `conda`.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { CredentialSource, Credentials } from './types.js';

type Env = Readonly<Record<string, string | undefined>>;

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

/** url → token, from every token file found. */
export async function readBinstarTokens(dirs: readonly string[]): Promise<Map<string, { token: string; file: string }>> {
  const tokens = new Map<string, { token: string; file: string }>();
  for (const dir of dirs) {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      continue;
    }
    for (const name of names.sort()) {
      if (!name.endsWith('.token')) continue;
      const file = join(dir, name);
      let token: string;
      try {
        token = (await readFile(file, 'utf8')).trim();
      } catch {
        continue;
      }
      if (!token) continue;
      const url = unquotePlus(name.slice(0, -'.token'.length)).replace(/\/+$/, '');
      for (const key of [url, replaceFirstApiWithConda(url)]) if (!tokens.has(key)) tokens.set(key, { token, file });
    }
  }
  return tokens;
}

/** A source giving conda tokens for URLs under a token file's URL (only when add_anaconda_token). */
export function createAnacondaTokenSource(env: Env, homeDir: string): CredentialSource {
  const dirs = binstarTokenDirs(env, homeDir);
  let loaded: ReturnType<typeof readBinstarTokens> | undefined;
  return {
    name: 'anaconda-tokens',
    async lookup(url): Promise<Credentials | undefined> {
      if (!/^https?:$/.test(url.protocol) || /\/t\/[^/]*/.test(url.pathname)) return undefined;
      loaded ??= readBinstarTokens(dirs);
      const clean = `${url.protocol}//${url.host}${url.pathname}`;
      for (const [base, { token, file }] of await loaded) {
        if (clean === base || clean.startsWith(`${base}/`)) {
          const prefix = new URL(base).pathname.replace(/\/+$/, '');
          return { kind: 'conda-token', token, source: file, pathPrefix: prefix };
        }
      }
      return undefined;
    },
  };
}
