/** Named server behaviours for fault tests, used with FileServer.script(path, [...]). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { serveFile, type Fault, type ServedFile } from './servers/http.js';

function rangeStart(req: IncomingMessage): number {
  const m = /^bytes=(\d+)-/.exec(req.headers.range ?? '');
  return m ? Number(m[1]) : 0;
}

/** Send headers for the full (ranged) answer, then `n` bytes, then cut the connection. */
export function dropAfterBytes(n: number): Fault {
  return (req, res, file) => {
    if (!file) return false;
    const start = rangeStart(req);
    const slice = file.body.subarray(start);
    const headers: Record<string, string> = { 'content-length': String(slice.length), 'accept-ranges': 'bytes' };
    if (file.etag) headers.etag = file.etag;
    if (file.lastModified) headers['last-modified'] = file.lastModified;
    if (start > 0) res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${file.body.length - 1}/${file.body.length}` });
    else res.writeHead(200, headers);
    // Cut a moment after the bytes left, so the client has read them before the reset.
    res.write(slice.subarray(0, n), () => setTimeout(() => res.socket?.destroy(), 100));
    return true;
  };
}

export function status(code: number, opts: { retryAfter?: string | number; body?: string; headers?: Record<string, string> } = {}): Fault {
  return (_req, res) => {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (opts.retryAfter !== undefined) headers['retry-after'] = String(opts.retryAfter);
    res.writeHead(code, headers);
    res.end(opts.body ?? '');
    return true;
  };
}

/** Answer 200 with the whole file even when a Range was asked for. */
export function ignoreRange(): Fault {
  return (req, res, file) => {
    const { range: _r, ...headers } = req.headers;
    serveFile({ ...req, headers } as IncomingMessage, res, file);
    return true;
  };
}

/** Answer a ranged request with a Content-Range that starts somewhere else. */
export function wrongContentRange(): Fault {
  return (_req, res, file) => {
    if (!file) return false;
    const body = file.body;
    res.writeHead(206, { 'content-range': `bytes 0-${body.length - 1}/${body.length}`, 'content-length': String(body.length) });
    res.end(body);
    return true;
  };
}

/** Serve the file with its bytes altered (same length). */
export function wrongBytes(): Fault {
  return (req, res, file) => {
    if (!file) return false;
    const body = Buffer.from(file.body);
    for (let i = 0; i < body.length; i += 97) body[i] = (body[i]! ^ 0xff) & 0xff;
    serveFile(req, res, file, { body });
    return true;
  };
}

/** Send headers and nothing more for `ms`, then cut. */
export function stall(ms: number): Fault {
  return (_req, res, file) => {
    res.writeHead(200, { 'content-length': String(file?.body.length ?? 10) });
    res.flushHeaders();
    setTimeout(() => res.socket?.destroy(), ms);
    return true;
  };
}

/** Announce the full length but send only `n` bytes, then end the connection cleanly. */
export function shortBody(n: number): Fault {
  return dropAfterBytes(n);
}

/** Announce a Content-Length shorter than the bytes sent. */
export function longBody(extra: number): Fault {
  return (_req, res, file) => {
    if (!file) return false;
    const socket = res.socket!;
    res.detachSocket(socket);
    socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${file.body.length}\r\nConnection: close\r\n\r\n`);
    socket.end(Buffer.concat([file.body, Buffer.alloc(extra, 1)]));
    return true;
  };
}

export function redirect(location: string, code = 302): Fault {
  return (_req, res) => {
    res.writeHead(code, { location });
    res.end();
    return true;
  };
}

/** Serve normally but with a weak ETag. */
export function weakEtag(): Fault {
  return (req, res, file) => {
    if (!file) return false;
    serveFile(req, res, { ...file, etag: `W/${file.etag ?? '"x"'}` } as ServedFile);
    return true;
  };
}

export type { Fault, ServerResponse };
