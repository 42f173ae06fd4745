/**
 * Channel names ↔ URLs, as conda resolves them: full URLs stay, `defaults` expands to
 * default_channels, custom_channels win over channel_alias; and back from a URL to the
 * canonical channel name (conda's get_channel_name_from_url), which channel_settings use.
 */
import type { Settings } from '../core/settings.js';

/** The settings channel names are resolved with. */
export type ChannelSettings = Pick<Settings, 'channelAlias' | 'customChannels' | 'defaultChannels'>;

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

const URL_LIKE = /^[a-z][a-z0-9+.-]*:\/\//i;

/** The base URLs a channel name (or URL) stands for; `defaults` gives several. */
export function resolveChannelUrls(channel: string, settings: ChannelSettings): string[] {
  const name = channel.trim().replace(/\/+$/, '');
  if (URL_LIKE.test(name)) return [trimSlash(name)];
  if (name === 'defaults') return settings.defaultChannels.map(trimSlash);
  const slash = name.indexOf('/');
  // `custom/label` style names: the first segment picks the custom channel.
  const head = slash > 0 ? name.slice(0, slash) : name;
  const custom = settings.customChannels[name] ?? settings.customChannels[head];
  if (custom) return [`${trimSlash(custom)}/${name}`];
  return [`${trimSlash(settings.channelAlias)}/${name}`];
}

/** conda's KNOWN_SUBDIRS: a trailing one of these is the platform, not part of the channel. */
export const KNOWN_SUBDIRS: ReadonlySet<string> = new Set([
  'noarch', 'emscripten-wasm32', 'wasi-wasm32', 'freebsd-64', 'linux-32', 'linux-64', 'linux-aarch64',
  'linux-armv6l', 'linux-armv7l', 'linux-ppc64', 'linux-ppc64le', 'linux-riscv64', 'linux-s390x',
  'osx-64', 'osx-arm64', 'win-32', 'win-64', 'win-arm64', 'zos-z',
]);

const FILE_NAME = /\.(json|json\.zst|json\.bz2|jlap|conda|tar\.bz2|msgpack\.zst|zst)$/i;

/** scheme, location (host[:port] + path prefix) of a base URL, without credentials or token. */
function splitLocation(url: string): { scheme: string; location: string } | undefined {
  try {
    const u = new URL(url);
    const path = u.pathname.replace(/\/t\/[^/]*/, '').replace(/\/+$/, '');
    return { scheme: u.protocol.replace(/:$/, ''), location: `${u.host}${path}` };
  } catch {
    return undefined;
  }
}

/**
 * The canonical channel name for a URL: the name under channel_alias or a custom
 * channel, `defaults` for a default channel, else `scheme://location/path` with the
 * subdir, file name and `/t/<token>` removed. undefined when the URL cannot be parsed.
 */
export function channelNameFromUrl(url: string | URL, settings: ChannelSettings): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(typeof url === 'string' ? url : url.href);
  } catch {
    return undefined;
  }
  const segments = parsed.pathname.split('/').filter(Boolean);
  if (segments[0] === 't' && segments.length >= 2) segments.splice(0, 2);
  else {
    const t = segments.indexOf('t');
    if (t >= 0 && t + 1 < segments.length) segments.splice(t, 2);
  }
  if (segments.length && FILE_NAME.test(segments[segments.length - 1] as string)) segments.pop();
  if (segments.length && KNOWN_SUBDIRS.has(segments[segments.length - 1] as string)) segments.pop();
  const scheme = parsed.protocol.replace(/:$/, '');
  const location = [parsed.host, ...segments].join('/');

  for (const member of settings.defaultChannels) {
    const m = splitLocation(member);
    if (m && m.scheme === scheme && m.location === location) return 'defaults';
  }
  for (const [name, base] of Object.entries(settings.customChannels)) {
    const b = splitLocation(base);
    if (!b) continue;
    const full = `${b.location}/${name}`;
    if (location === full || location.startsWith(`${full}/`)) return location.slice(b.location.length + 1);
  }
  const alias = splitLocation(settings.channelAlias);
  if (alias && location.startsWith(`${alias.location}/`)) return location.slice(alias.location.length + 1);
  return `${scheme}://${location}`;
}
