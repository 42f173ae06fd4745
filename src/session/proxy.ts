/**
 * Proxy selection with requests' rules, as conda users know them: `proxy_servers`
 * keys (`scheme://host`, `scheme`, `all://host`, `all`), environment proxies filling
 * keys proxy_servers does not set, and NO_PROXY (suffixes, `*`, IPv4 CIDR) applying to
 * the environment proxies only.
 */
import { isIPv4 } from 'node:net';
import type { Settings } from '../config/settings.js';

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

/** The proxy URL for a request, or undefined for a direct connection. */
export function selectProxy(url: URL, settings: Pick<Settings, 'proxyServers' | 'env'>): string | undefined {
  const scheme = url.protocol.replace(/:$/, '');
  const proxies: Record<string, string> = { ...settings.proxyServers };
  const noProxy = proxies.no_proxy ?? settings.env.no_proxy ?? settings.env.NO_PROXY;
  if (!shouldBypassProxy(url, noProxy)) {
    const fromEnv = environmentProxies(settings.env);
    const envProxy = fromEnv[scheme] ?? fromEnv.all;
    if (envProxy && proxies[scheme] === undefined) proxies[scheme] = envProxy;
  }
  const host = url.hostname;
  const keys = host ? [`${scheme}://${host}`, scheme, `all://${host}`, 'all'] : [scheme, 'all'];
  for (const key of keys) {
    const value = proxies[key];
    if (value) return value;
  }
  return undefined;
}
