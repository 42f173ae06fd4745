/**
 * channel_settings → auth handler name, exactly as conda's get_session chooses: an
 * entry matches when its `channel` equals the channel name, or when it has the URL's
 * scheme and fnmatches the URL's netloc + path (no scheme never matches: that would
 * allow a downgrade). The last matching entry wins.
 */

/** Python's fnmatch.fnmatchcase: `*` (also across `/`), `?`, `[seq]`, `[!seq]`. */
export function fnmatch(text: string, pattern: string): boolean {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) {
        re += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, end).replace(/\\/g, '\\\\');
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      else if (body.startsWith('^')) body = `\\${body}`;
      re += `[${body}]`;
      i = end;
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's').test(text);
}

function netlocPath(url: URL): string {
  return `${url.host}${url.pathname}`;
}

function parsePattern(channel: string): URL | undefined {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(channel)) return undefined;
  try {
    // `*` in a host is not a valid URL host: parse with a placeholder and put it back.
    return new URL(channel.replace(/\*/g, '__STAR__'));
  } catch {
    return undefined;
  }
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
    const pattern = parsePattern(channel);
    if (!pattern || pattern.protocol !== url.protocol) continue;
    const patternText = netlocPath(pattern).replace(/__STAR__/gi, '*');
    if (fnmatch(netlocPath(url), patternText)) chosen = entry;
  }
  const auth = chosen?.auth?.trim();
  return auth ? auth : undefined;
}
