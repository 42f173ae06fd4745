/**
 * Proxy selection with requests' rules, as conda users know them: `proxy_servers`
 * keys (`scheme://host`, `scheme`, `all://host`, `all`), environment proxies filling
 * keys proxy_servers does not set, and NO_PROXY (suffixes, `*`, IPv4 CIDR) applying to
 * the environment proxies only.
 */
import { isIPv4 } from 'node:net';
import type { Settings } from '../core/settings.js';
import { ProxyError } from '../errors/classes.js';
import { redactText } from '../redact/redact-text.js';

/** Proxies from HTTP_PROXY/HTTPS_PROXY/ALL_PROXY/FTP_PROXY (lowercase wins, like urllib). */
export function environmentProxies(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (!value || !/_proxy$/i.test(name) || /^no_proxy$/i.test(name)) continue;
    const scheme = name.slice(0, -'_proxy'.length).toLowerCase();
    if (!scheme || (out[scheme] && name !== name.toLowerCase())) continue;
    out[scheme] = value;
  }
  return out;
}

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, part) => (acc << 8) + Number(part), 0) >>> 0;
}

function inCidr(ip: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  if (!base || !isIPv4(base) || !Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (ipv4ToInt(ip) & mask) === (ipv4ToInt(base) & mask);
}

/** requests' should_bypass_proxies for a NO_PROXY list. */
export function shouldBypassProxy(url: URL, noProxy: string | undefined): boolean {
  if (!noProxy) return false;
  const hostname = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (!hostname) return false;
  const entries = noProxy.replace(/\s/g, '').split(',').filter(Boolean).map((e) => e.toLowerCase());
  const port = url.port || (url.protocol === 'https:' ? '443' : url.protocol === 'http:' ? '80' : '');
  for (const entry of entries) {
    if (entry === '*') return true;
    if (isIPv4(hostname)) {
      if (entry.includes('/') ? inCidr(hostname, entry) : entry === hostname) return true;
      continue;
    }
    const bare = entry.replace(/^\*?\./, '.');
    const hostWithPort = `${hostname}:${port}`;
    if (hostname.endsWith(bare) || hostWithPort.endsWith(bare) || hostname === bare.replace(/^\./, '')) return true;
  }
  return false;
}

export interface SelectedProxy {
  /** The proxy URL (may hold credentials: never print it unmasked). */
  readonly url: string;
  /** Where it was configured: `proxy_servers.https (from ~/.condarc:4)` or `env:HTTPS_PROXY`. */
  readonly source: string;
}

function envProxyName(env: Readonly<Record<string, string | undefined>>, scheme: string): string | undefined {
  const lower = `${scheme}_proxy`;
  if (env[lower]) return lower;
  const upper = lower.toUpperCase();
  if (env[upper]) return upper;
  const found = Object.keys(env).find((k) => k.toLowerCase() === lower && env[k]);
  return found;
}

/**
 * The proxy for a request and where it came from, or undefined for a direct connection.
 * requests' rules: environment proxies fill keys proxy_servers does not set (unless
 * NO_PROXY says to bypass them); then `scheme://host`, `scheme`, `all://host`, `all`.
 */
export function selectProxyWithSource(
  url: URL, settings: Pick<Settings, 'proxyServers' | 'env'> & { readonly sources?: Settings['sources'] },
): SelectedProxy | undefined {
  const scheme = url.protocol.replace(/:$/, '');
  const configured = settings.proxyServers;
  const source = settings.sources?.proxyServers;
  const proxies = new Map<string, SelectedProxy>();
  for (const [key, value] of Object.entries(configured)) {
    const origin = source?.entries?.[key] ?? source?.origin ?? 'settings';
    if (value) proxies.set(key, { url: value, source: `proxy_servers.${key} (from ${origin})` });
  }
  const noProxy = configured.no_proxy || settings.env.no_proxy || settings.env.NO_PROXY;
  if (!proxies.has(scheme) && !shouldBypassProxy(url, noProxy)) {
    for (const name of [envProxyName(settings.env, scheme), envProxyName(settings.env, 'all')]) {
      const value = name ? settings.env[name] : undefined;
      if (name && value) {
        proxies.set(scheme, { url: value, source: `env:${name}` });
        break;
      }
    }
  }
  const host = url.hostname;
  const keys = host ? [`${scheme}://${host}`, scheme, `all://${host}`, 'all'] : [scheme, 'all'];
  for (const key of keys) {
    const found = proxies.get(key);
    if (found) return found;
  }
  return undefined;
}

/** The proxy URL for a request, or undefined for a direct connection. */
export function selectProxy(url: URL, settings: Pick<Settings, 'proxyServers' | 'env'>): string | undefined {
  return selectProxyWithSource(url, settings)?.url;
}

const PROXY_SCHEMES = new Set(['http:', 'https:', 'socks5:', 'socks:']);

/**
 * Mask credentials in a proxy value that may not even parse as a URL. A proxy URL has no
 * use for an '@' after its host, so everything between the scheme and the LAST '@' counts
 * as credentials: a raw '/', '?' or '#' in the password, or a typo such as `http:/u:pw@h`,
 * must not end the userinfo early. Text that looks like a filesystem path is left alone.
 */
export function maskProxyValue(value: string): string {
  const at = value.lastIndexOf('@');
  if (at < 0) return value;
  // A scheme needs a slash after it, or a proxy scheme's name: `user:pw@h` starts with a
  // user, not a scheme, and `C:\Users\a@b` is a Windows path.
  const scheme = /^\s*(?:[a-z][a-z0-9+.-]+:[/\\]+|(?:https?|socks[45]?h?|ftp):)/i.exec(value)?.[0];
  if (scheme === undefined && /^\s*([/\\~.]|[a-z]:[/\\])/i.test(value)) return value;
  const prefix = scheme ?? '';
  if (at < prefix.length) return value;
  return `${prefix}<CREDENTIALS>@${value.slice(at + 1)}`;
}

/** Parse a configured proxy URL; a value without a scheme or of another kind is a ProxyError naming its source. */
export function parseProxyUrl(proxy: SelectedProxy): URL {
  let uri: URL | undefined;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(proxy.url)) {
    try {
      uri = new URL(proxy.url);
    } catch {
      uri = undefined;
    }
  }
  // `http://user:12/x@host` even parses (host `user`, port 12), but an '@' after the host
  // means a '/', '?' or '#' in the password was not percent-encoded: refuse, never connect to `user`.
  const misplacedAt = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*[/?#][^]*@/i.test(proxy.url);
  if (!uri || !PROXY_SCHEMES.has(uri.protocol) || !uri.hostname || misplacedAt) {
    const shown = maskProxyValue(redactText(proxy.url));
    const why = misplacedAt ? "an '@' after the host means a '/', '?' or '#' in the password is not percent-encoded (%2F, %3F, %23)"
      : uri && !PROXY_SCHEMES.has(uri.protocol) ? `the scheme '${uri.protocol}' is not an http, https or socks5 proxy`
        : /^(https?|socks[45]?h?):(?!\/\/)/i.test(proxy.url) ? "the scheme must be followed by '//', as in http://proxy.example.com:3128"
        : 'a proxy URL needs a scheme and a host, as in http://proxy.example.com:3128';
    throw new ProxyError(`Invalid proxy URL '${shown}' from ${proxy.source}: ${why}.`, {
      details: { source: proxy.source },
      // No `scheme://user:password@` example here: a hint is masked like any text, and that would read as credentials.
      hint: `Fix ${proxy.source}: write it as http://proxy.example.com:3128, with any user:password@ right before the host ` +
        'and special characters in the password percent-encoded (/ as %2F, ? as %3F, # as %23, @ as %40).',
    });
  }
  return uri;
}
