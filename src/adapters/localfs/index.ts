/**
 * file:// adapter (conda's LocalFSAdapter): 200 with Content-Type, Content-Length and
 * Last-Modified, conda's JSON 404 for a missing file, and, beyond conda, Range (206/416),
 * If-Range, a strong ETag and 304 for conditional requests. Works in offline mode.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { Headers, Response } from '../../util/undici.js';
import { CondaValueError } from '../../errors/classes.js';
import { maskUrl } from '../../redact/safe-url.js';
import {
  decideConditionalRange, httpDate, partialHeaders, unsatisfiableHeaders,
} from '../byte-range.js';
import { jsonResponse, responseFromNode } from '../response.js';
import type { Adapter, AdapterDeps } from '../../core/adapter.js';
import { decodedPath } from '../../core/url-path.js';
import { contentTypeFor } from './content-type.js';

const LOCAL_HOSTS = new Set(['', 'localhost', '127.0.0.1', '[::1]']);
const READ_CHUNK = 256 * 1024;

/** The local path a file:// URL names; other hosts are refused (no UNC paths on POSIX). */
export function localPathOf(url: URL): string {
  if (!LOCAL_HOSTS.has(url.host.toLowerCase())) {
    throw new CondaValueError(`'${maskUrl(url)}' names a file on another host (${url.host}).`, {
      url, hint: 'Use file:///path or file://localhost/path for local files; mount remote shares first.',
    });
  }
  const path = decodedPath(url);
  if (process.platform === 'win32' && /^\/[A-Za-z]:/.test(path)) return path.slice(1);
  return path;
}

/** conda's repr() of the OSError in its 404 body. */
function pythonRepr(err: NodeJS.ErrnoException): string {
  const known: Record<string, [string, string]> = {
    ENOENT: ['FileNotFoundError', 'No such file or directory'],
    ENOTDIR: ['NotADirectoryError', 'Not a directory'],
    EACCES: ['PermissionError', 'Permission denied'],
    EPERM: ['PermissionError', 'Operation not permitted'],
    ELOOP: ['OSError', 'Too many levels of symbolic links'],
    ENAMETOOLONG: ['OSError', 'File name too long'],
  };
  const errno = Math.abs(err.errno ?? 0);
  const [cls, text] = known[err.code ?? ''] ?? ['OSError', err.message];
  return `${cls}(${errno}, '${text}')`;
}

function failure(req: { method: string }, status: number, statusText: string, path: string, err: NodeJS.ErrnoException): Response {
  const body = { error: status === 403 ? 'permission denied' : 'file does not exist', path, exception: pythonRepr(err) };
  if (req.method === 'HEAD') return new Response(null, { status, statusText, headers: new Headers({ 'content-type': 'application/json' }) });
  return jsonResponse(status, body, statusText);
}

/** Strong: inode, size and mtime in nanoseconds change whenever the bytes may have. */
function etagOf(big: { ino: bigint; size: bigint; mtimeNs: bigint }): string {
  return `"${big.ino.toString(16)}-${big.size.toString(16)}-${big.mtimeNs.toString(16)}"`;
}

function etagListMatches(list: string, etag: string): boolean {
  const weak = (tag: string) => tag.trim().replace(/^W\//i, '');
  return list.split(',').some((t) => t.trim() === '*' || weak(t) === weak(etag));
}

/** RFC 9110 §13.2.2: If-None-Match wins over If-Modified-Since. */
function notModified(headers: Headers, etag: string, mtimeMs: number): boolean {
  const inm = headers.get('if-none-match');
  if (inm) return etagListMatches(inm, etag);
  const ims = headers.get('if-modified-since');
  if (!ims) return false;
  const since = Date.parse(ims);
  return Number.isFinite(since) && Math.floor(mtimeMs / 1000) * 1000 <= since;
}

export function createLocalFsAdapter(_deps?: AdapterDeps): Adapter {
  return {
    schemes: ['file:'],
    async send(req) {
      req.signal?.throwIfAborted();
      const path = localPathOf(req.url);
      let handle: FileHandle;
      try {
        handle = await open(path, 'r');
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        if (e.code === 'EISDIR') throw directoryError(req.url, path);
        if (e.code === 'EACCES' || e.code === 'EPERM') return failure(req, 403, 'Forbidden', path, e);
        return failure(req, 404, 'Not Found', path, e);
      }
      let handed = false;
      try {
        const big = await handle.stat({ bigint: true });
        if (big.isDirectory()) throw directoryError(req.url, path);
        const size = Number(big.size);
        const mtimeMs = Number(big.mtimeMs);
        const lastModified = httpDate(new Date(mtimeMs));
        const etag = etagOf(big);
        const headers = new Headers({
          'content-type': contentTypeFor(path),
          'last-modified': lastModified,
          etag,
          'accept-ranges': 'bytes',
        });
        if (notModified(req.headers, etag, mtimeMs)) return responseFromNode(null, { status: 304, statusText: 'Not Modified', headers });
        const range = big.isFile() ? decideConditionalRange(req.headers, size, { etag, lastModified }) : { kind: 'full' as const };
        if (range.kind === 'unsatisfiable') {
          for (const [k, v] of Object.entries(unsatisfiableHeaders(size))) headers.set(k, v);
          return responseFromNode(null, { status: 416, statusText: 'Range Not Satisfiable', headers });
        }
        let status = 200;
        let start = 0;
        let end = size - 1;
        if (range.kind === 'partial') {
          ({ start, end } = range);
          status = 206;
          for (const [k, v] of Object.entries(partialHeaders(start, end, size))) headers.set(k, v);
        } else if (big.isFile()) {
          headers.set('content-length', String(size));
        }
        const statusText = status === 206 ? 'Partial Content' : 'OK';
        if (req.method === 'HEAD' || (size === 0 && big.isFile())) {
          return responseFromNode(null, { status, statusText, headers });
        }
        // Special files (FIFOs, devices) have no meaningful size: stream to their end.
        const body = handle.createReadStream(big.isFile()
          ? { start, end, highWaterMark: READ_CHUNK, autoClose: true }
          : { highWaterMark: READ_CHUNK, autoClose: true });
        handed = true;
        return responseFromNode(body, { status, statusText, headers });
      } finally {
        if (!handed) await handle.close().catch(() => undefined);
      }
    },
    async close() {
      // Nothing pooled: every response owns its file handle and closes it at the end.
    },
  };
}

function directoryError(url: URL, path: string): CondaValueError {
  return new CondaValueError(`'${maskUrl(url)}' is a directory, not a file (${path}).`, {
    url, hint: 'Name a file inside the directory, e.g. .../noarch/repodata.json.',
    details: { path },
  });
}
