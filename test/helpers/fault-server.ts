/**
 * A fault-injecting HTTP server for reliability tests, on 127.0.0.1:0. Per request it
 * either serves the file normally or injects one fault, chosen by a seeded random
 * generator or taken from a per-path script: cut after a random byte count, stall past
 * the read timeout, 429/503 with Retry-After, wrong bytes, ignore Range, a new ETag
 * between attempts, a redirect, a too-long or too-short body. It counts what it did.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TestContext } from 'node:test';
import { etagOf, serveFile, startFileServer, type FileServer, type ServedFile, type StartOptions } from './servers/http.js';

export const FAULT_KINDS = [
  'cut', 'stall', 'status429', 'status503', 'wrongBytes', 'ignoreRange', 'newEtag', 'redirect', 'tooLong', 'tooShort',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
export type Decision = FaultKind | 'ok';

/** xorshift32: small, seedable, identical on every run. */
export function seededRandom(seed: number): () => number {
  let x = (seed >>> 0) || 0x9e3779b9;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

export interface FaultServerOptions extends StartOptions {
  /** Seed for the random choices (fault kind, cut position). @default 1 */
  seed?: number;
  /** Probability that a request gets a fault when no script entry applies. @default 0 */
  faultRate?: number;
  /** Kinds the random choice picks from. @default every kind */
  kinds?: readonly FaultKind[];
  /** How long a stalled response stays silent before the server cuts it. @default 1500 */
  stallMs?: number;
  /** Retry-After seconds sent with 429/503. @default 1 */
  retryAfterSecs?: number;
  /** Called before each request to a served path is answered, with how many came before it (to change the file mid-test). */
  beforeRequest?: (path: string, earlier: number) => void;
  /** Serve normal answers slowly, `chunk` bytes every `delayMs` (so a test can kill a client mid-transfer). */
  throttle?: { chunk: number; delayMs: number };
}

export interface FaultServer {
  readonly url: string;
  readonly http: FileServer;
  /** What each request got, in order. */
  readonly decisions: Array<{ path: string; decision: Decision; range?: string }>;
  /** Requests per decision. */
  counts(): Record<Decision, number>;
  /** Serve `body` at `path` (with ETag and Last-Modified). */
  addFile(path: string, body: Buffer): ServedFile;
  /** The next requests to `path` get these decisions, in order; then random or normal service. */
  script(path: string, decisions: readonly Decision[]): void;
  /** Change the fault rate (0 turns random faults off, e.g. for a rerun). */
  setFaultRate(rate: number): void;
  /** Change the pacing of normal answers (undefined: full speed). */
  setThrottle(pace: { chunk: number; delayMs: number } | undefined): void;
  /** Replace the bytes served at `path` (new ETag), as a republished file. */
  replaceFile(path: string, body: Buffer): void;
  requestsFor(path: string): number;
  close(): Promise<void>;
}

export async function startFaultServer(t: TestContext | undefined, options: FaultServerOptions = {}): Promise<FaultServer> {
  const http = await startFileServer(t, options);
  const random = seededRandom(options.seed ?? 1);
  const kinds = options.kinds ?? FAULT_KINDS;
  const stallMs = options.stallMs ?? 1500;
  const retryAfter = String(options.retryAfterSecs ?? 1);
  let faultRate = options.faultRate ?? 0;
  let throttle = options.throttle;
  const scripts = new Map<string, Decision[]>();
  const decisions: FaultServer['decisions'] = [];
  const timers = new Set<NodeJS.Timeout>();
  let etagGeneration = 0;
  let redirects = 0;

  const later = (ms: number, fn: () => void): void => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  };

  const decide = (path: string): Decision => {
    const scripted = scripts.get(path)?.shift();
    if (scripted) return scripted;
    if (faultRate <= 0 || random() >= faultRate) return 'ok';
    return kinds[Math.floor(random() * kinds.length)] ?? 'ok';
  };

  const handle = (path: string) => (req: IncomingMessage, res: ServerResponse): void => {
    options.beforeRequest?.(path, decisions.filter((d) => d.path === path).length);
    const file = http.files.get(path);
    const decision = decide(path);
    decisions.push({ path, decision, ...(req.headers.range ? { range: req.headers.range } : {}) });
    if (!file) return serveFile(req, res, undefined);
    switch (decision) {
      case 'ok': return throttle ? serveSlowly(req, res, file, throttle, later) : serveFile(req, res, file);
      case 'cut': return cut(req, res, file, Math.floor(random() * file.body.length), later);
      case 'stall': return stall(req, res, file, stallMs, later);
      case 'status429':
      case 'status503':
        res.writeHead(decision === 'status429' ? 429 : 503, { 'retry-after': retryAfter, 'content-type': 'text/plain' });
        res.end('slow down');
        return;
      case 'wrongBytes': {
        const body = Buffer.from(file.body);
        const at = Math.floor(random() * body.length);
        body[at] = (body[at]! ^ 0x5a) & 0xff;
        return serveFile(req, res, file, { body });
      }
      case 'ignoreRange': {
        const { range: _range, ...headers } = req.headers;
        return serveFile({ ...req, headers } as IncomingMessage, res, file);
      }
      case 'newEtag':
        // The same bytes republished: the old validator no longer holds, so If-Range must fail.
        etagGeneration++;
        file.etag = `"${etagOf(file.body).slice(1, -1)}-g${etagGeneration}"`;
        file.lastModified = new Date(1_700_000_000_000 + etagGeneration * 1000).toUTCString();
        return serveFile(req, res, file);
      case 'redirect': {
        redirects++;
        res.writeHead(redirects % 2 ? 302 : 307, { location: `${path}?hop=${redirects}` });
        res.end();
        return;
      }
      case 'tooLong': return tooLong(res, file, 1 + Math.floor(random() * 4096));
      case 'tooShort': return tooShort(res, file, Math.floor(random() * file.body.length));
    }
  };

  const server: FaultServer = {
    url: http.url,
    http,
    decisions,
    counts() {
      const out = Object.fromEntries(['ok', ...FAULT_KINDS].map((k) => [k, 0])) as Record<Decision, number>;
      for (const d of decisions) out[d.decision]++;
      return out;
    },
    addFile(path, body) {
      const entry = http.setFile(path, body);
      http.route(path, handle(path));
      return entry;
    },
    script(path, list) {
      scripts.set(path, [...(scripts.get(path) ?? []), ...list]);
    },
    setFaultRate(rate) {
      faultRate = rate;
    },
    setThrottle(pace) {
      throttle = pace;
    },
    replaceFile(path, body) {
      const entry = http.files.get(path);
      if (!entry) throw new Error(`no file at ${path}`);
      etagGeneration++;
      entry.body = body;
      entry.etag = `"${etagOf(body).slice(1, -1)}-g${etagGeneration}"`;
      entry.lastModified = new Date(1_700_000_000_000 + etagGeneration * 1000).toUTCString();
    },
    requestsFor(path) {
      return decisions.filter((d) => d.path === path).length;
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await http.close();
    },
  };
  t?.after(() => server.close());
  return server;
}

function rangeStart(req: IncomingMessage, length: number): number {
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  if (!m || Number(m[1]) >= length) return 0;
  return Number(m[1]);
}

function validators(file: ServedFile): Record<string, string> {
  const headers: Record<string, string> = { 'accept-ranges': 'bytes', 'content-type': 'application/octet-stream' };
  if (file.etag) headers.etag = file.etag;
  if (file.lastModified) headers['last-modified'] = file.lastModified;
  return headers;
}

/** Headers for the answer normal service would give (200 or 206), then `n` bytes, then a reset. */
function cut(req: IncomingMessage, res: ServerResponse, file: ServedFile, n: number, later: (ms: number, fn: () => void) => void): void {
  const ifRange = req.headers['if-range'];
  const honourRange = !ifRange || ifRange === file.etag || ifRange === file.lastModified;
  const start = honourRange ? rangeStart(req, file.body.length) : 0;
  const slice = file.body.subarray(start);
  const headers = { ...validators(file), 'content-length': String(slice.length) };
  if (start > 0) res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${file.body.length - 1}/${file.body.length}` });
  else res.writeHead(200, headers);
  res.write(slice.subarray(0, Math.min(n, slice.length - 1)), () => later(5, () => res.socket?.destroy()));
}

/** Headers, a few bytes, then silence longer than the client's read timeout, then a reset. */
function stall(req: IncomingMessage, res: ServerResponse, file: ServedFile, ms: number, later: (ms: number, fn: () => void) => void): void {
  const start = rangeStart(req, file.body.length);
  const ifRange = req.headers['if-range'];
  const ranged = start > 0 && (!ifRange || ifRange === file.etag || ifRange === file.lastModified);
  const slice = file.body.subarray(ranged ? start : 0);
  const headers = { ...validators(file), 'content-length': String(slice.length) };
  if (ranged) res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${file.body.length - 1}/${file.body.length}` });
  else res.writeHead(200, headers);
  res.write(slice.subarray(0, Math.min(1024, slice.length - 1)));
  later(ms, () => res.socket?.destroy());
}

/** Normal service (200, or 206 when Range and If-Range allow), paced in chunks. */
function serveSlowly(req: IncomingMessage, res: ServerResponse, file: ServedFile, pace: { chunk: number; delayMs: number },
  later: (ms: number, fn: () => void) => void): void {
  const ifRange = req.headers['if-range'];
  const honourRange = !ifRange || ifRange === file.etag || ifRange === file.lastModified;
  const asked = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  if (asked && honourRange && Number(asked[1]) >= file.body.length) {
    res.writeHead(416, { ...validators(file), 'content-range': `bytes */${file.body.length}` });
    res.end();
    return;
  }
  const start = honourRange ? rangeStart(req, file.body.length) : 0;
  const slice = file.body.subarray(start);
  const headers = { ...validators(file), 'content-length': String(slice.length) };
  if (start > 0) res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${file.body.length - 1}/${file.body.length}` });
  else res.writeHead(200, headers);
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  let at = 0;
  const next = (): void => {
    if (res.destroyed) return;
    const piece = slice.subarray(at, at + pace.chunk);
    at += piece.length;
    if (at >= slice.length) {
      res.end(piece);
      return;
    }
    res.write(piece);
    later(pace.delayMs, next);
  };
  next();
}

/** A body longer than the file, sent chunked (no Content-Length to catch it). */
function tooLong(res: ServerResponse, file: ServedFile, extra: number): void {
  res.writeHead(200, { ...validators(file), 'transfer-encoding': 'chunked' });
  res.write(file.body);
  res.end(Buffer.alloc(extra, 0x41));
}

/** A clean, complete-looking response that is shorter than the file (a truncated upload). */
function tooShort(res: ServerResponse, file: ServedFile, n: number): void {
  const body = file.body.subarray(0, n);
  res.writeHead(200, { ...validators(file), 'content-length': String(body.length) });
  res.end(body);
}
