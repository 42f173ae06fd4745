/** `WWW-Authenticate` challenges of OCI registries: `Bearer realm=…,service=…,scope=…` or `Basic realm=…`. */

export interface Challenge {
  readonly scheme: 'bearer' | 'basic';
  readonly params: Readonly<Record<string, string>>;
}

const PARAM = /\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:\\.|[^"\\])*)"|([^\s,]*))\s*,?/y;

/** The first Bearer or Basic challenge in a header value (several may be listed), or undefined. */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  // Split on scheme tokens: a scheme is a word followed by a space and not by '='.
  const re = /(?:^|,)\s*(Bearer|Basic)(?=\s|$)/gi;
  const starts: Array<{ scheme: string; at: number; end: number }> = [];
  for (let m = re.exec(header); m; m = re.exec(header)) starts.push({ scheme: m[1]!.toLowerCase(), at: m.index, end: re.lastIndex });
  const preferred = starts.find((s) => s.scheme === 'bearer') ?? starts[0];
  if (!preferred) return undefined;
  const next = starts.find((s) => s.at > preferred.at);
  const text = header.slice(preferred.end, next ? next.at : undefined);
  const params: Record<string, string> = {};
  PARAM.lastIndex = 0;
  let pos = 0;
  while (pos < text.length) {
    PARAM.lastIndex = pos;
    const m = PARAM.exec(text);
    if (!m || m[0] === '') break;
    params[m[1]!.toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
    pos = PARAM.lastIndex;
  }
  return { scheme: preferred.scheme as Challenge['scheme'], params };
}
