/**
 * Property test of fetchRepodata() against a hostile server: fast-check draws, per request
 * (to repodata.json and repodata.json.zst alike), a status (200, 304, 404, 416, 500, 503,
 * 204), validators, a Content-Length that may lie, and a body (the index, its .zst, garbage,
 * a truncation, a cut). Whatever happens: the result is the published index or a typed
 * error, the cache never holds anything else, and a rerun against a sane server succeeds.
 */
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isGatewayError } from '../../../src/index.js';
import { fetchRepodata } from '../../../src/repodata/fetch-repodata.js';
import { cachePaths, subdirUrl } from '../../../src/repodata/cache-key.js';
import { serveFile, startFileServer } from '../../helpers/servers/http.js';
import { tempDir } from '../../helpers/fs.js';
import { testSettings } from '../../helpers/settings.js';

interface Behaviour {
  status: number;
  body: 'json' | 'zst' | 'garbage' | 'truncated' | 'cut' | 'empty';
  length: 'exact' | 'more' | 'less' | 'none';
  etag: 'same' | 'new' | 'none';
  cacheControl: 'none' | 'max-age=600' | 'no-cache' | 'garbage';
}

const behaviour: fc.Arbitrary<Behaviour> = fc.record({
  status: fc.constantFrom(200, 200, 304, 404, 416, 500, 503, 204),
  body: fc.constantFrom('json', 'zst', 'garbage', 'truncated', 'cut', 'empty'),
  length: fc.constantFrom('exact', 'exact', 'more', 'less', 'none'),
  etag: fc.constantFrom('same', 'new', 'none'),
  cacheControl: fc.constantFrom('none', 'max-age=600', 'no-cache', 'garbage'),
});

export interface RepodataChaosCounts {
  cases: number;
  requests: number;
  returnedPublished: number;
  returnedEmpty: number;
  wrong: number;
  typedErrors: Record<string, number>;
  untyped: string[];
  cacheCorrupt: number;
  rerunOk: number;
  rerunFailed: number;
}

export function repodataChaosLine(c: RepodataChaosCounts): string {
  const errors = Object.entries(c.typedErrors).map(([k, v]) => `${k}=${v}`).join(' ') || 'none';
  return `repodata chaos: ${c.cases} scripted hostile servers (${c.requests} requests), ${c.returnedPublished} returned the published index, ` +
    `${c.returnedEmpty} an empty index (404), ${c.wrong} anything else, ${c.untyped.length} untyped errors; typed errors: ${errors}; ` +
    `${c.cacheCorrupt} cache files holding anything but the index; rerun against a sane server: ${c.rerunOk} ok, ${c.rerunFailed} failed`;
}

const INDEX = JSON.stringify({
  info: { subdir: 'noarch' }, packages: {},
  'packages.conda': Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`p${i}-1.0-0.conda`, { name: `p${i}`, version: '1.0', build: '0' }])),
  repodata_version: 1,
});

function zstd(text: string): Buffer {
  try {
    return execFileSync('zstd', ['-q', '-c'], { input: text });
  } catch (err) {
    throw new Error(`the repodata chaos suite needs the zstd CLI (Debian package zstd): ${String(err)}`);
  }
}

function answer(res: ServerResponse, b: Behaviour, n: number, zst: Buffer): void {
  let payload: Buffer;
  switch (b.body) {
    case 'json': payload = Buffer.from(INDEX); break;
    case 'zst': payload = zst; break;
    case 'garbage': payload = Buffer.from(`{"packages": [1, 2, ${n}`); break;
    case 'truncated': payload = Buffer.from(INDEX.slice(0, 500)); break;
    case 'cut': payload = Buffer.from(INDEX); break;
    case 'empty': payload = Buffer.alloc(0); break;
  }
  const headers: Record<string, string> = {};
  if (b.etag === 'same') headers.etag = '"idx1"';
  if (b.etag === 'new') headers.etag = `"idx-${n}"`;
  if (b.cacheControl !== 'none') headers['cache-control'] = b.cacheControl === 'garbage' ? 'max-age=x;;' : b.cacheControl;
  if (b.length === 'exact') headers['content-length'] = String(payload.length);
  if (b.length === 'more') headers['content-length'] = String(payload.length + 50);
  if (b.length === 'less' && payload.length > 0) headers['content-length'] = String(payload.length - 1);
  if (b.length === 'more' || b.length === 'less' || b.body === 'cut') {
    const socket = res.socket!;
    res.detachSocket(socket);
    socket.write([`HTTP/1.1 ${b.status} X`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), 'connection: close', '', ''].join('\r\n'));
    if (b.body === 'cut') socket.write(payload.subarray(0, payload.length >> 1), () => socket.destroy());
    else socket.end(payload);
    return;
  }
  res.writeHead(b.status, headers);
  res.end(b.status === 204 || b.status === 304 ? undefined : payload);
}

export async function runRepodataChaos(opts: { cases: number; seed: number }): Promise<RepodataChaosCounts> {
  const server = await startFileServer(undefined);
  const root = await tempDir(undefined, 'cg-repodata-chaos-');
  const zst = zstd(INDEX);
  server.setFile('/chan/noarch/repodata.json', INDEX, { etag: '"idx1"' });
  server.setFile('/chan/noarch/repodata.json.zst', zst, { etag: '"idx1z"' });
  let script: Behaviour[] = [];
  let served = 0;
  for (const path of ['/chan/noarch/repodata.json', '/chan/noarch/repodata.json.zst']) {
    server.route(path, (req: IncomingMessage, res: ServerResponse) => {
      served++;
      const next = script.shift();
      if (next) answer(res, next, served, zst);
      else serveFile(req, res, server.files.get(path));
    });
  }
  const settings = testSettings({ localRepodataTtl: 0, remoteReadTimeoutSecs: 2 });
  const channel = `${server.url}/chan`;
  const canonical = JSON.stringify(JSON.parse(INDEX));
  const c: RepodataChaosCounts = {
    cases: 0, requests: 0, returnedPublished: 0, returnedEmpty: 0, wrong: 0, typedErrors: {}, untyped: [], cacheCorrupt: 0, rerunOk: 0, rerunFailed: 0,
  };
  let caseNo = 0;
  try {
    await fc.assert(fc.asyncProperty(fc.array(behaviour, { minLength: 1, maxLength: 5 }), fc.boolean(), async (behaviours, warm) => {
      caseNo++;
      c.cases++;
      const cacheDir = `${root}/${caseNo}`;
      script = [];
      if (warm) await fetchRepodata(channel, 'noarch', { cacheDir, settings });
      script = [...behaviours];
      try {
        const result = await fetchRepodata(channel, 'noarch', { cacheDir, settings });
        const text = JSON.stringify(result.repodata);
        if (text === canonical) c.returnedPublished++;
        else if (text === '{}') c.returnedEmpty++;
        else c.wrong++;
      } catch (err) {
        if (isGatewayError(err)) c.typedErrors[err.code] = (c.typedErrors[err.code] ?? 0) + 1;
        else if (c.untyped.length < 5) c.untyped.push(`${fc.stringify(behaviours)} → ${String(err)}`);
      }
      script = [];
      const data = await readFile(cachePaths(cacheDir, subdirUrl(channel, 'noarch')).data, 'utf8').catch(() => undefined);
      if (data !== undefined && data !== '{}') {
        let same = false;
        try {
          same = JSON.stringify(JSON.parse(data)) === canonical;
        } catch { /* garbage */ }
        if (!same) c.cacheCorrupt++;
      }
      try {
        const again = await fetchRepodata(channel, 'noarch', { cacheDir, settings });
        if (JSON.stringify(again.repodata) === canonical) c.rerunOk++;
        else c.rerunFailed++;
      } catch (err) {
        c.rerunFailed++;
        if (c.untyped.length < 5) c.untyped.push(`rerun failed after ${fc.stringify(behaviours)}: ${String(err).split('\n')[0]}`);
      }
      await rm(cacheDir, { recursive: true, force: true });
      return true;
    }), { numRuns: opts.cases, seed: opts.seed });
  } finally {
    c.requests = served;
    await server.close();
    await rm(root, { recursive: true, force: true });
  }
  return c;
}
