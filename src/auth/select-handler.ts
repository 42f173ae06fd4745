/**
 * channel_settings → auth handler name, exactly as conda's get_session chooses: an
 * entry matches when its `channel` equals the channel name, or when it has the URL's
 * scheme and fnmatches the URL's netloc + path (no scheme never matches: that would
 * allow a downgrade). The last matching entry wins.
 */
import { fnmatch } from './fnmatch.js';

export { fnmatch };

/**
 * Python's urlsplit(channel) reduced to what get_session uses: the scheme and netloc + path
 * (up to `?` or `#`), raw, so `*` and `[...]` in a host need no URL parsing. The netloc is
 * lowercased because the request side is a WHATWG URL, whose host is.
 */
function splitPattern(channel: string): { protocol: string; pattern: string } | undefined {
  const text = channel.trim().replace(/[\t\r\n]/g, '');
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(text);
  if (!scheme) return undefined;
  let rest = text.slice(scheme[0].length);
  let netloc = '';
  if (rest.startsWith('//')) {
    const end = rest.slice(2).search(/[/?#]/);
    netloc = end < 0 ? rest.slice(2) : rest.slice(2, 2 + end);
    rest = end < 0 ? '' : rest.slice(2 + end);
  }
  const path = rest.split(/[?#]/, 1)[0] ?? '';
  return { protocol: `${(scheme[1] as string).toLowerCase()}:`, pattern: `${netloc.toLowerCase()}${path}` };
}

/** The `auth` name chosen for a URL, or undefined (then the default auth applies). */
export function selectAuthHandlerName(
  url: URL, channelName: string | undefined, channelSettings: ReadonlyArray<Readonly<Record<string, string>>>,
): string | undefined {
  let chosen: Readonly<Record<string, string>> | undefined;
  for (const entry of channelSettings) {
    const channel = entry.channel;
    if (typeof channel !== 'string') continue;
    if (channelName !== undefined && channel === channelName) {
      chosen = entry;
      continue;
    }
    const split = splitPattern(channel);
    if (!split || split.protocol !== url.protocol) continue;
    if (fnmatch(`${url.host}${url.pathname}`, split.pattern)) chosen = entry;
  }
  const auth = chosen?.auth?.trim();
  return auth ? auth : undefined;
}
