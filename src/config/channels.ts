/**
 * Channel names → URLs, as conda resolves them: full URLs stay, `defaults` expands to
 * default_channels, custom_channels win over channel_alias.
 */
import type { Settings } from './settings.js';

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

/** The base URLs a channel name (or URL) stands for; `defaults` gives several. */
export function resolveChannelUrls(channel: string, settings: Pick<Settings, 'channelAlias' | 'customChannels' | 'defaultChannels'>): string[] {
  const name = channel.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(name)) return [trimSlash(name)];
  if (name === 'defaults') return settings.defaultChannels.map(trimSlash);
  const custom = settings.customChannels[name];
  if (custom) return [`${trimSlash(custom)}/${name}`];
  return [`${trimSlash(settings.channelAlias)}/${name}`];
}
