/**
 * A connector for undici that keeps one known undici 7 bug from killing the process:
 * when a `Connection: close` response ends while its body is paused by backpressure,
 * the HTTP/1 parser asserts inside the socket's 'end' handler (nodejs/undici#5360,
 * fixed only in undici 8, which needs Node 22). We catch that assertion and cut the
 * connection instead: the body fails with a connection error, which download() resumes
 * with Range and callers see as a retryable CG_CONNECTION.
 *
 * It also keeps a TLS alert from being lost: with TLS 1.3 a server that wants a client
 * certificate sends its alert after the handshake, and undici then reports the close that
 * follows ("other side closed"). The alert is what happened, so it is what we report.
 */
import type { Socket } from 'node:net';
import type { buildConnector as Connector } from 'undici';
import { buildConnector } from '../util/undici.js';

export function guardedConnector(options: Connector.BuildOptions): Connector.connector {
  const connect = buildConnector(options);
  return (opts, callback) => {
    connect(opts, (...args: Parameters<Connector.Callback>) => {
      const socket = args[1];
      if (socket) guardEnd(socket);
      (callback as (...a: typeof args) => void)(...args);
    });
  };
}

function guardEnd(socket: Socket): void {
  const emit = socket.emit as (this: Socket, event: string | symbol, ...args: unknown[]) => boolean;
  let tlsAlert: Error | undefined;
  socket.emit = function guardedEmit(this: Socket, event: string | symbol, ...rest: unknown[]): boolean {
    if (event === 'error') {
      const code = (rest[0] as { code?: unknown } | undefined)?.code;
      if (typeof code === 'string' && code.startsWith('ERR_SSL_')) tlsAlert ??= rest[0] as Error;
      else if (code === 'UND_ERR_SOCKET' && tlsAlert) return emit.call(this, event, tlsAlert);
    }
    if (event !== 'end') return emit.call(this, event, ...rest);
    try {
      return emit.call(this, event, ...rest);
    } catch (err) {
      if ((err as { code?: string }).code !== 'ERR_ASSERTION') throw err;
      const cut = Object.assign(new Error('the server closed the connection while the response body was paused'), {
        code: 'UND_ERR_SOCKET',
      });
      this.destroy(cut);
      return true;
    }
  } as typeof socket.emit;
}
