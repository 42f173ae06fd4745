/**
 * Property test of download() against a hostile server: fast-check draws, per request, a
 * status, Content-Range, Content-Length, ETag and body (a slice, the whole file, random
 * bytes, a truncated body, a cut connection). Whatever the server does, download() returns
 * the right bytes (when a checksum is given) or throws a typed error, leaves nothing under
 * the final name on error, and a rerun against a sane server always verifies (a partial
 * holding bytes a lying 206 sent cannot be judged before the end; the rerun drops it).
 */
import fc from 'fast-check';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { download, isGatewayError } from '../../../src/index.js';
import { serveFile, startFileServer } from '../../helpers/servers/http.js';
import { bytes, sha256, tempDir } from '../../helpers/fs.js';
import { testSettings } from '../../helpers/settings.js';

type BodyMode = 'asked' | 'full' | 'random' | 'truncated' | 'cut' | 'empty';
interface Behaviour {
  status: number;
  range: 'asked' | 'zero' | 'other' | 'garbage' | 'none' | 'star';
  length: 'exact' | 'none' | 'more' | 'less';
  body: BodyMode;
  etag: 'same' | 'new' | 'weak' | 'none';
}

const behaviour: fc.Arbitrary<Behaviour> = fc.record({
  status: fc.constantFrom(200, 200, 206, 206, 416, 500, 503, 404, 304, 204, 302),
  range: fc.constantFrom('asked', 'zero', 'other', 'garbage', 'none', 'star'),
  length: fc.constantFrom('exact', 'exact', 'none', 'more', 'less'),
  body: fc.constantFrom('asked', 'full', 'random', 'truncated', 'cut', 'empty'),
  etag: fc.constantFrom('same', 'same', 'new', 'weak', 'none'),
});

export interface ChaosCounts {
  cases: number;
  requests: number;
  verified: number;
  /** Returned without a checksum (reported unverified, content not judged). */
  unchecked: number;
  typedErrors: Record<string, number>;
  untyped: string[];
  wrongFile: number;
  fileAfterError: number;
  /** Partials holding bytes a lying server sent (not a prefix of the file) after an error. */
  suspectPartials: number;
  /** Errors followed by a rerun against a sane server that verified. */
  healedByRerun: number;
  rerunFailed: number;
}

export function chaosLine(c: ChaosCounts): string {
  const errors = Object.entries(c.typedErrors).map(([k, v]) => `${k}=${v}`).join(' ') || 'none';
  return `download chaos: ${c.cases} scripted hostile servers (${c.requests} requests), ${c.verified} verified downloads, ` +
    `${c.unchecked} returned without a checksum (reported unverified), ` +
    `${c.wrongFile} wrong files, ${c.fileAfterError} files under the final name after an error, ${c.untyped.length} untyped errors; ` +
    `typed errors: ${errors}; every error rerun against a sane server: ${c.healedByRerun} verified, ${c.rerunFailed} failed ` +
    `(${c.suspectPartials} partials held lying bytes and were discarded by the rerun)`;
}

function answer(req: IncomingMessage, res: ServerResponse, b: Behaviour, body: Buffer, seed: number): void {
  const asked = Number(/^bytes=(\d+)-/.exec(req.headers.range ?? '')?.[1] ?? 0);
  if (b.status === 302) {
    res.writeHead(302, { location: req.url ?? '/' });
    res.end();
    return;
  }
  let payload: Buffer;
  switch (b.body) {
    case 'asked': payload = body.subarray(Math.min(asked, body.length)); break;
    case 'full': payload = body; break;
    case 'random': payload = bytes(Math.max(1, body.length - asked), seed); break;
    case 'truncated': payload = body.subarray(Math.min(asked, body.length), Math.min(asked, body.length) + 777); break;
    case 'cut': payload = body.subarray(Math.min(asked, body.length)); break;
    case 'empty': payload = Buffer.alloc(0); break;
  }
  const headers: Record<string, string> = { 'accept-ranges': 'bytes' };
  if (b.etag === 'same') headers.etag = '"v1"';
  if (b.etag === 'new') headers.etag = `"v${seed}"`;
  if (b.etag === 'weak') headers.etag = 'W/"v1"';
  const start = b.range === 'zero' ? 0 : b.range === 'other' ? asked + 13 : asked;
  if (b.range === 'garbage') headers['content-range'] = 'bytes x-y/z';
  else if (b.range === 'star') headers['content-range'] = `bytes */${body.length}`;
  else if (b.range !== 'none') headers['content-range'] = `bytes ${start}-${start + Math.max(payload.length, 1) - 1}/${body.length}`;
  if (b.length === 'exact') headers['content-length'] = String(payload.length);
  if (b.length === 'more') headers['content-length'] = String(payload.length + 100);
  if (b.length === 'less' && payload.length > 0) headers['content-length'] = String(payload.length - 1);
  const socket = res.socket!;
  if (b.length === 'more' || b.length === 'less' || b.body === 'cut') {
    // Raw bytes, so the lie reaches the client as sent.
    res.detachSocket(socket);
    const head = [`HTTP/1.1 ${b.status} X`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), 'connection: close', '', ''].join('\r\n');
    socket.write(head);
    if (b.body === 'cut') socket.write(payload.subarray(0, Math.floor(payload.length / 2)), () => socket.destroy());
    else socket.end(payload);
    return;
  }
  res.writeHead(b.status, headers);
  res.end(b.status === 204 || b.status === 304 ? undefined : payload);
}

export async function runDownloadChaos(opts: { cases: number; seed: number }): Promise<ChaosCounts> {
  const server = await startFileServer(undefined);
  const dir = await tempDir(undefined, 'cg-chaos-');
  const body = bytes(50_000, opts.seed);
  server.setFile('/p.conda', body, { etag: '"v1"' });
  let script: Behaviour[] = [];
  let served = 0;
  server.route('/p.conda', (req, res) => {
    served++;
    const next = script.shift();
    if (next) answer(req, res, next, body, served);
    else serveFile(req, res, server.files.get('/p.conda'));
  });
  const settings = testSettings({ remoteReadTimeoutSecs: 2 });
  const c: ChaosCounts = { cases: 0, requests: 0, verified: 0, unchecked: 0, typedErrors: {}, untyped: [], wrongFile: 0, fileAfterError: 0, suspectPartials: 0, healedByRerun: 0, rerunFailed: 0 };
  let caseNo = 0;
  try {
    await fc.assert(fc.asyncProperty(fc.array(behaviour, { minLength: 1, maxLength: 6 }), fc.boolean(), fc.boolean(),
      fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
      async (behaviours, withSize, keepPartialFirst, withChecksum) => {
        caseNo++;
        c.cases++;
        script = [...behaviours];
        const sub = join(dir, String(caseNo));
        await mkdir(sub);
        const target = join(sub, 'p.conda');
        if (keepPartialFirst) await writeFile(`${target}.partial`, body.subarray(0, 12_345));
        try {
          const result = await download(`${server.url}/p.conda`, target, {
            sha256: withChecksum ? sha256(body) : undefined, size: withSize ? body.length : undefined, settings, sleep: async () => undefined,
          });
          // Without a checksum a hostile server can hand over other bytes undetected; the result must say so.
          if (!withChecksum) {
            c.unchecked++;
            if (!result.unverified) c.wrongFile++;
          } else if ((await readFile(target)).equals(body) && !result.unverified) c.verified++;
          else c.wrongFile++;
        } catch (err) {
          if (isGatewayError(err)) c.typedErrors[err.code] = (c.typedErrors[err.code] ?? 0) + 1;
          else if (c.untyped.length < 5) c.untyped.push(`${fc.stringify(behaviours)} → ${String(err)}`);
          else c.untyped.push('…');
          if (await readFile(target).then(() => true, () => false)) c.fileAfterError++;
        }
        const partial = await readFile(`${target}.partial`).catch(() => undefined);
        if (partial && (partial.length === 0 || !body.subarray(0, partial.length).equals(partial))) {
          // Bytes a lying 206 handed over cannot be judged before the end; the rerun must find and drop them.
          c.suspectPartials++;
        }
        script = [];
        if (!(await readFile(target).then(() => true, () => false))) {
          try {
            await download(`${server.url}/p.conda`, target, { sha256: sha256(body), settings, sleep: async () => undefined });
            if ((await readFile(target)).equals(body)) c.healedByRerun++;
            else c.wrongFile++;
          } catch (err) {
            c.rerunFailed++;
            if (c.untyped.length < 5) c.untyped.push(`rerun against a sane server failed: ${String(err)} after ${fc.stringify(behaviours)}`);
          }
        }
        script = [];
        await rm(sub, { recursive: true, force: true });
        return true;
      }), { numRuns: opts.cases, seed: opts.seed });
  } finally {
    c.requests = served;
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
  return c;
}
