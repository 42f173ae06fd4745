/**
 * One undici dispatcher per route (direct, or per proxy URL), built from the session's
 * TLS and timeout settings, with keep-alive pools. Never touches undici's global dispatcher.
 */
import { Agent, ProxyAgent, type Dispatcher } from 'undici';
import type { Settings } from '../config/settings.js';
import { selectProxy } from './proxy.js';
import { tlsOptionsFor, type TlsOptions } from './tls.js';
import { ProxyError } from '../errors/classes.js';
import { maskUrl } from '../redact/safe-url.js';

export interface Route {
  dispatcher: Dispatcher;
  /** The proxy URL used, if any (may hold credentials: never print it unmasked). */
  proxy?: string;
}

export class DispatcherPool {
  readonly #settings: Settings;
  readonly #routes = new Map<string, Dispatcher>();
  #tls: TlsOptions | undefined;

  constructor(settings: Settings) {
    this.#settings = settings;
  }

  #tlsOptions(): TlsOptions {
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
    const proxy = selectProxy(url, this.#settings);
    const key = proxy ?? 'direct';
    let dispatcher = this.#routes.get(key);
    if (!dispatcher) {
      dispatcher = proxy ? this.#proxyAgent(proxy) : this.#agent();
      this.#routes.set(key, dispatcher);
    }
    return proxy ? { dispatcher, proxy } : { dispatcher };
  }

  #agent(): Dispatcher {
    const { connectMs, readMs } = this.#timeouts();
    return new Agent({
      connect: { timeout: connectMs, ...this.#tlsOptions() },
      headersTimeout: readMs,
      bodyTimeout: readMs,
      keepAliveTimeout: 10_000,
    });
  }

  #proxyAgent(proxy: string): Dispatcher {
    const { connectMs, readMs } = this.#timeouts();
    let uri: URL;
    try {
      uri = new URL(proxy);
      if (!/^https?:$/.test(uri.protocol)) throw new Error('scheme');
    } catch {
      throw new ProxyError(
        `Invalid proxy URL '${maskUrl(proxy)}': a proxy must be written scheme://[user:password@]host[:port], e.g. http://proxy.example.com:3128.`,
        { hint: 'Fix proxy_servers in .condarc or the *_PROXY environment variables.' });
    }
    const tls = this.#tlsOptions();
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
