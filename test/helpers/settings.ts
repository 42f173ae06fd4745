/** Settings for tests: no retry delays unless asked, short timeouts. */
import { loadSettings, type Settings } from '../../src/index.js';
import { type SettingValues } from '../../src/config/index.js';

export function testSettings(overrides: Partial<SettingValues> = {}, env: Record<string, string> = {}): Settings {
  return loadSettings({ env, overrides: { remoteBackoffFactor: 0, remoteRetryAfterMaxSecs: 0, ...overrides } });
}

export const noSleep = async (): Promise<void> => undefined;
