/**
 * One undici dispatcher per route (direct, or per proxy URL), built from the session's
 * TLS and timeout settings, with keep-alive pools. Never touches undici's global dispatcher.
 */
import { Agent, proxyAgentClass, type Dispatcher } from '../util/undici.js';
import type { Settings } from '../core/settings.js';
import { maskProxyValue, parseProxyUrl, selectProxyWithSource } from './proxy.js';
import { redactText } from '../redact/redact-text.js';
import { tlsOptionsFor, type TlsOptions } from './tls.js';
import { guardedConnector } from './guarded-connector.js';
import type { Route, RouteProvider } from '../core/adapter.js';

export type { Route };

function describeTls(settings: Settings, tls: TlsOptions): string {
  const from = settings.sources.sslVerify.origin;
  const v = settings.sslVerify;
  let trust: string;
  if (v === false) trust = `certificates NOT verified (ssl_verify false from ${from})`;
  else if (v === 'truststore') trust = `the operating system's trust store (ssl_verify from ${from})`;
  else if (typeof v === 'string') trust = `CA certificates from ${v} (ssl_verify from ${from})`;
  else {
    const envName = ['REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE', 'SSL_CERT_FILE'].find((n) => settings.env[n]);
    trust = envName ? `CA certificates from ${settings.env[envName]} (${envName})` : "Node's built-in CA certificates";
  }
  return `TLS: ${trust}${tls.cert ? `; client certificate ${settings.clientSslCert} (from ${settings.sources.clientSslCert.origin})` : ''}`;
}

export class DispatcherPool implements RouteProvider {
  readonly #settings: Settings;
  readonly #routes = new Map<string, Dispatcher>();
  readonly #log: (message: string) => void;
  #tls: TlsOptions | undefined;

  /** `log` (the session's debug log) hears which proxy and which trust roots are used, masked. */
  constructor(settings: Settings, log: (message: string) => void = () => undefined) {
    this.#settings = settings;
    this.#log = log;
  }

  /** TLS options, read once; a bad CA path or client certificate throws a ConfigError here. */
  tlsOptions(): TlsOptions {
    if (!this.#tls) {
      this.#tls = tlsOptionsFor(this.#settings);
      this.#log(describeTls(this.#settings, this.#tls));
    }
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
      if (selected) this.#log(`proxy for ${url.protocol}//${url.host}: ${maskProxyValue(redactText(selected.url))} from ${selected.source}`);
    }
    return selected ? { dispatcher, proxy: selected.url, proxySource: selected.source } : { dispatcher };
  }

  #agent(): Dispatcher {
    const { connectMs, readMs } = this.#timeouts();
    // http2: h2 is offered in the TLS handshake (ALPN) and used when the server picks it.
    const allowH2 = this.#settings.http2;
    return new Agent({
      connect: guardedConnector({ timeout: connectMs, ...this.tlsOptions(), allowH2 }),
      allowH2,
      headersTimeout: readMs,
      bodyTimeout: readMs,
      keepAliveTimeout: 10_000,
    });
  }

  #proxyAgent(uri: URL): Dispatcher {
    const { connectMs, readMs } = this.#timeouts();
    const tls = this.tlsOptions();
    const ProxyAgent = proxyAgentClass();
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
