/**
 * A real HTTP proxy for tests (the `proxy` package, in-process on 127.0.0.1:0): forwards
 * plain http, tunnels https with CONNECT, optionally asks for Basic credentials (407),
 * and logs every request so tests can assert what went through it.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TestContext } from 'node:test';
import { createProxy } from 'proxy';

export interface ProxyRequest {
  method: string;
  /** Absolute URL for forwarded requests, `host:port` for CONNECT. */
  target: string;
  proxyAuthorization?: string;
  /** Whether the proxy accepted the credentials (true when none are required). */
  authorized: boolean;
}

export interface TestProxy {
  /** http://127.0.0.1:<port>, without credentials. */
  url: string;
  port: number;
  requests: ProxyRequest[];
  /** The URL with credentials in it (percent-encoded), when the proxy requires them. */
  urlWithCredentials(username?: string, password?: string): string;
  close(): Promise<void>;
}

export interface ProxyOptions {
  /** Require these Basic credentials (407 otherwise). */
  auth?: { username: string; password: string };
  /** Serve the proxy itself over TLS (an https:// proxy URL). */
  tls?: { key: string; cert: string };
}

export async function startProxy(t: TestContext | undefined, options: ProxyOptions = {}): Promise<TestProxy> {
  const requests: ProxyRequest[] = [];
  const sockets = new Set<Socket>();
  const base = options.tls ? (createTlsServer(options.tls) as unknown as Server) : createServer();
  const server = createProxy(base);
  const scheme = options.tls ? 'https' : 'http';
  const expected = options.auth
    ? `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64')}`
    : undefined;
  server.authenticate = (req: IncomingMessage) => {
    const given = req.headers['proxy-authorization'];
    const authorized = expected === undefined || given === expected;
    requests.push({ method: req.method ?? '', target: req.url ?? '', proxyAuthorization: given, authorized });
    return authorized;
  };
  server.on(options.tls ? 'secureConnection' : 'connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const proxy: TestProxy = {
    url: `${scheme}://127.0.0.1:${port}`,
    port,
    requests,
    urlWithCredentials(username = options.auth?.username ?? '', password = options.auth?.password ?? '') {
      return `${scheme}://${encodeURIComponent(username)}:${encodeURIComponent(password)}@127.0.0.1:${port}`;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  t?.after(() => proxy.close());
  return proxy;
}
