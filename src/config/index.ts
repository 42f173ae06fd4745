/** Settings: conda's names, defaults and sources. */
export { loadSettings, defaultSettings, withSettings } from './load-settings.js';
export type { LoadSettingsOptions, SettingsLayer } from './load-settings.js';
export { SETTING_SPECS, SETTING_KEYS, settingKeyForName } from './registry.js';
export type { SettingSpec, SettingSpecs } from './registry.js';
export type { Settings, SettingValues, SettingKey, PathConflict } from '../core/settings.js';
export type { SettingSource, Parser } from './parsers.js';
export { resolveChannelUrls, channelNameFromUrl } from './channels.js';
export type { ChannelSettings } from './channels.js';
export type { Env } from '../core/types.js';
export { loadCondaSettings, condarcLayers, findCondarcFiles, condarcSearchPath, parseCondarc, readCondarc } from './condarc.js';
export type { LoadCondaSettingsOptions, CondarcSearchOptions } from './condarc.js';
