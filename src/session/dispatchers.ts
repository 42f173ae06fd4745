/**
 * One undici dispatcher per route (direct, or per proxy URL), built from the session's
 * TLS and timeout settings, with keep-alive pools. Never touches undici's global dispatcher.
 */
import { Agent, ProxyAgent, type Dispatcher } from 'undici';
import type { Settings } from '../config/settings.js';
import { parseProxyUrl, selectProxyWithSource } from './proxy.js';
import { tlsOptionsFor, type TlsOptions } from './tls.js';

export interface Route {
  dispatcher: Dispatcher;
  /** The proxy URL used, if any (may hold credentials: never print it unmasked). */
  proxy?: string;
  /** Where the proxy was configured (`env:HTTPS_PROXY`, `proxy_servers.https (from …)`). */
  proxySource?: string;
}

export class DispatcherPool {
  readonly #settings: Settings;
  readonly #routes = new Map<string, Dispatcher>();
  #tls: TlsOptions | undefined;

  constructor(settings: Settings) {
    this.#settings = settings;
  }

  /** TLS options, read once; a bad CA path or client certificate throws a ConfigError here. */
  tlsOptions(): TlsOptions {
    this.#tls ??= tlsOptionsFor(this.#settings);
    return this.#tls;
  }

  #timeouts() {
    const s = this.#settings;
    return {
      connectMs: Math.round(s.remoteConnectTimeoutSecs * 1000),
      readMs: Math.round(s.remoteReadTimeoutSecs * 1000),
    };
  }

  forUrl(url: URL): Route {
    const selected = selectProxyWithSource(url, this.#settings);
    const proxyUri = selected ? parseProxyUrl(selected) : undefined;
    const key = proxyUri ? proxyUri.href : 'direct';
    let dispatcher = this.#routes.get(key);
    if (!dispatcher) {
      dispatcher = proxyUri ? this.#proxyAgent(proxyUri) : this.#agent();
      this.#routes.set(key, dispatcher);
    }
    return selected ? { dispatcher, proxy: selected.url, proxySource: selected.source } : { dispatcher };
  }

  #agent(): Dispatcher {
    const { connectMs, readMs } = this.#timeouts();
    return new Agent({
      connect: { timeout: connectMs, ...this.tlsOptions() },
      headersTimeout: readMs,
      bodyTimeout: readMs,
      keepAliveTimeout: 10_000,
    });
  }

  #proxyAgent(uri: URL): Dispatcher {
    const { connectMs, readMs } = this.#timeouts();
    const tls = this.tlsOptions();
    return new ProxyAgent({
      uri: uri.href,
      // Plain http goes through the proxy as a forward request; proxies refuse CONNECT to port 80.
      proxyTunnel: false,
      requestTls: { ...tls, timeout: connectMs },
      proxyTls: { ...tls, timeout: connectMs },
      connect: { timeout: connectMs },
      headersTimeout: readMs,
      bodyTimeout: readMs,
    });
  }

  async close(): Promise<void> {
    const all = [...this.#routes.values()];
    this.#routes.clear();
    await Promise.all(all.map((d) => d.close().catch(() => undefined)));
  }
}
