/**
 * The default credential sources for a session, in the order they are asked:
 * the rattler/pixi credential store, anaconda-client token files (when
 * add_anaconda_token), then .netrc. URL credentials beat them all.
 */
import type { Settings } from '../core/settings.js';
import { createAnacondaTokenSource } from './anaconda-tokens.js';
import { createCredentialStoreSource } from './credential-store.js';
import { createNetrcSource } from './netrc.js';
import type { CredentialSource, Credentials } from './types.js';

/** `log` (the session's debug log) hears about credential files that are skipped. */
export function defaultCredentialSources(
  settings: Pick<Settings, 'env' | 'homeDir' | 'addAnacondaToken'>, log?: (message: string) => void,
): CredentialSource[] {
  return [
    createCredentialStoreSource(settings.env, settings.homeDir),
    ...(settings.addAnacondaToken === false ? [] : [createAnacondaTokenSource(settings.env, settings.homeDir, log)]),
    createNetrcSource(settings.env, settings.homeDir),
  ];
}

/** The first credentials of a kind any source has for a URL (S3 adapters ask for 's3'). */
export async function findCredentials<K extends Credentials['kind']>(
  url: URL, sources: readonly CredentialSource[], kinds: readonly K[],
): Promise<Extract<Credentials, { kind: K }> | undefined> {
  for (const source of sources) {
    const creds = await source.lookup(url);
    if (creds && (kinds as readonly string[]).includes(creds.kind)) return creds as Extract<Credentials, { kind: K }>;
  }
  return undefined;
}
