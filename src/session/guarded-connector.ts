/**
 * A connector for undici that keeps one known undici 7 bug from killing the process:
 * when a `Connection: close` response ends while its body is paused by backpressure,
 * the HTTP/1 parser asserts inside the socket's 'end' handler (nodejs/undici#5360,
 * fixed only in undici 8, which needs Node 22). So the socket's 'end' is held back while
 * the parser is paused and delivered once the body is read again (the parser reads from the
 * socket when it resumes): the response then completes normally. Should that assertion still
 * fire (an undici whose parser we cannot see), we catch it and cut the connection instead:
 * the body fails with a connection error, which download() resumes with Range and callers
 * see as a retryable CG_CONNECTION. Cutting loses every byte undici had buffered but not yet
 * handed over, so it is the fallback, not the way.
 *
 * Plain-http sockets read into 1 MiB slabs (util/slab-reads.ts), which a download may reuse.
 *
 * It also keeps a TLS alert from being lost: with TLS 1.3 a server that wants a client
 * certificate sends its alert after the handshake, and undici then reports the close that
 * follows ("other side closed"). The alert is what happened, so it is what we report.
 */
import type { Socket } from 'node:net';
import type { buildConnector as Connector } from 'undici';
import { buildConnector } from '../util/undici.js';
import { slabReads } from '../util/slab-reads.js';

export function guardedConnector(options: Connector.BuildOptions): Connector.connector {
  const secure = buildConnector(options);
  return (opts, callback) => {
    // undici spreads these options into net.connect() for http: (TLS sockets read in C++).
    // One slab state per socket: Node asks for the next read's buffer ahead of time.
    const connect = opts.protocol === 'http:'
      ? buildConnector({ ...options, onread: slabReads() } as Connector.BuildOptions)
      : secure;
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
    const parser = parserOf(this);
    if (parser?.paused) {
      // Half-open until then: with allowHalfOpen false, Node would end our side and close the
      // socket right after this 'end', and the close would reach the paused parser instead.
      this.allowHalfOpen = true;
      endWhenResumed(this, parser, () => {
        endNow(this, rest);
        if (!this.destroyed) this.end();
      });
      return true;
    }
    return endNow(this, rest);
  } as typeof socket.emit;

  const endNow = (sock: Socket, rest: unknown[]): boolean => {
    try {
      return emit.call(sock, 'end', ...rest);
    } catch (err) {
      if ((err as { code?: string }).code !== 'ERR_ASSERTION') throw err;
      const cut = Object.assign(new Error('the server closed the connection while the response body was paused'), {
        code: 'UND_ERR_SOCKET',
      });
      sock.destroy(cut);
      return true;
    }
  };
}

/** The part of undici's HTTP/1 parser we look at: paused while its consumer is behind. */
interface PausableParser {
  paused: boolean;
}

/** undici keeps its parser on the socket under a private symbol; undefined when it is not there. */
function parserOf(socket: Socket): PausableParser | undefined {
  const key = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'parser');
  const parser = key === undefined ? undefined : (socket as unknown as Record<symbol, unknown>)[key];
  return parser && typeof (parser as PausableParser).paused === 'boolean' ? parser as PausableParser : undefined;
}

/**
 * Call `end` once the parser is no longer paused. A paused parser resumes by reading the
 * socket (undici's Parser.resume: socket.read(), then readMore), so each read is the moment to
 * look again, after the read's data has been parsed. A socket destroyed meanwhile needs no end.
 */
function endWhenResumed(socket: Socket, parser: PausableParser, end: () => void): void {
  const read = socket.read;
  let pending = false;
  socket.read = function guardedRead(this: Socket, ...args: Parameters<Socket['read']>) {
    if (!pending) {
      pending = true;
      queueMicrotask(() => {
        pending = false;
        if (socket.destroyed) {
          socket.read = read;
        } else if (!parser.paused) {
          socket.read = read;
          end();
        }
      });
    }
    return read.apply(this, args);
  } as Socket['read'];
}
