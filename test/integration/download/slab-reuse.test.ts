/**
 * Socket slabs reused by downloads (util/slab-reads.ts) must never be reused while anything
 * can still read them. Premature reuse corrupts silently when no checksum is expected, so
 * these tests check every byte on disk and in memory: many reused keep-alive sockets, bodies
 * that arrive in bursts, dribbles and chunked frames, downloads mixed on the same sockets with
 * readers that keep chunks (a slow web-stream reader, an onChunk that keeps views), slow
 * writes, and no expected hash anywhere.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import type { FileHandle } from 'node:fs/promises';
import { download } from '../../../src/index.js';
import { createSession } from '../../../src/session/index.js';
import { nodeBodyOf } from '../../../src/core/response-info.js';
import { slabPool, slabsFreedForTest, slabsReusedForTest, SlabReturns } from '../../../src/util/slab-reads.js';
import { PartialWriter } from '../../../src/download/partial-writer.js';
import { createHasher } from '../../../src/download/hasher.js';
import { pipeline } from 'node:stream/promises';
import { startFileServer } from '../../helpers/servers/http.js';
import { bytes, tempDir } from '../../helpers/fs.js';
import { testSettings } from '../../helpers/settings.js';

// Every freed slab goes to the pool and is the next one a socket reads into (LIFO): a slab
// freed too early is overwritten as soon as possible, instead of being left to the GC.
slabPool.max = 1000;

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x % n;
  };
}

type Style = 'burst' | 'dribble' | 'chunked';

/** Send `body` whole, in small timed pieces with pauses, or chunked (frames between the bytes). */
function send(res: ServerResponse, body: Buffer, style: Style, rnd: (n: number) => number): void {
  if (style === 'chunked') res.writeHead(200, {});
  else res.writeHead(200, { 'content-length': String(body.length) });
  if (style === 'burst') return void res.end(body);
  let at = 0;
  const next = (): void => {
    if (at >= body.length) return void res.end();
    const n = 1 + rnd(style === 'chunked' ? 40_000 : 300_000);
    res.write(body.subarray(at, at + n));
    at += n;
    setTimeout(next, rnd(8) === 0 ? 15 : rnd(2));
  };
  next();
}

async function setup(t: import('node:test').TestContext, count: number, seed: number) {
  const server = await startFileServer(t);
  const rnd = random(seed);
  const styles: Style[] = ['burst', 'dribble', 'chunked'];
  const bodies = Array.from({ length: count }, (_, i) => bytes(20_000 + rnd(3_000_000), seed * 1000 + i));
  bodies.forEach((body, i) => server.route(`/f${i}`, (_req, res) => send(res, body, styles[i % 3]!, random(seed + i))));
  const session = createSession({ settings: testSettings() });
  t.after(() => session.close());
  return { server, bodies, session, rnd, dir: await tempDir(t) };
}

/** Read a body through its web stream slowly, keeping every chunk (views, not copies) until the end. */
async function slowRead(res: Response | import('undici').Response, rnd: (n: number) => number): Promise<Buffer> {
  const reader = res.body!.getReader();
  const kept: Uint8Array[] = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    kept.push(value);
    if (rnd(3) === 0) await delay(rnd(10));
  }
  // Like text(): the views are kept a while after the body ended (the socket serves others meanwhile).
  await delay(10 + rnd(40));
  return Buffer.concat(kept);
}

// First in this file (its own process): the pool of free slabs starts empty, so a slab freed too
// early is the very next one a socket reads into.
test('the slab a download starts in is never reused: it may hold the end of an earlier body someone still reads', async (t) => {
  const small = bytes(100_000, 41);
  const big = bytes(8 << 20, 42);
  // Each answer is one write of head and body, so a download's first body bytes share a read
  // (and a slab) with its head, right behind the small body's bytes.
  const server = { url: await rawServer(t, new Map([['small', small], ['big', big]])) };
  const session = createSession({ settings: testSettings() });
  t.after(() => session.close());
  const dir = await tempDir(t);
  // One socket: the small body, read as views and kept; then downloads on the same socket,
  // which start in the slab holding the small body's bytes and then need slabs from the pool.
  const res = await session.fetch(`${server.url}/small`);
  const kept: Buffer[] = [];
  for await (const chunk of (await nodeBodyOf(res))!) kept.push(chunk as Buffer);
  const reusedBefore = slabsReusedForTest();
  for (const name of ['a', 'b', 'c']) {
    await download(`${server.url}/big`, join(dir, name), { session });
    assert.ok((await readFile(join(dir, name))).equals(big), `download ${name}`);
  }
  assert.ok(slabsReusedForTest() > reusedBefore, 'the downloads reused slabs');
  assert.ok(Buffer.concat(kept).equals(small), 'the earlier body kept its bytes');
});

test('downloads mixed with readers that keep chunks, over reused sockets: every byte right, slabs reused', async (t) => {
  const { server, bodies, session, dir } = await setup(t, 60, 7);
  const reusedBefore = slabsReusedForTest();
  // 5 lanes, one request at a time each: the sockets are reused by every kind of reader.
  await Promise.all(Array.from({ length: 5 }, async (_, lane) => {
    const rnd = random(100 + lane);
    for (let k = lane; k < bodies.length; k += 5) {
      const body = bodies[k]!;
      const url = `${server.url}/f${k}`;
      const kind = rnd(4);
      if (kind === 0) {
        const res = await session.fetch(url);
        assert.ok((await slowRead(res, rnd)).equals(body), `slow reader of f${k}`);
      } else if (kind === 1) {
        // onChunk sees views of the slabs: this download must not give them back.
        const seen: Uint8Array[] = [];
        await download(url, join(dir, `f${k}`), { session, onChunk: (chunk) => seen.push(chunk) });
        await delay(rnd(20));
        assert.ok(Buffer.concat(seen).equals(body), `onChunk views of f${k}`);
        assert.ok((await readFile(join(dir, `f${k}`))).equals(body), `file f${k}`);
      } else {
        const result = await download(url, join(dir, `f${k}`), { session });
        assert.equal(result.unverified, true);
        assert.ok((await readFile(join(dir, `f${k}`))).equals(body), `file f${k}`);
      }
    }
  }));
  assert.ok(slabsReusedForTest() > reusedBefore, 'downloads gave slabs back for reuse');
});

/** A file handle whose writes each wait `waitMs()` first: the bytes must stay intact until they land. */
function slowWrites(handle: FileHandle, waitMs: () => number): FileHandle {
  return new Proxy(handle, {
    get(target, prop, receiver) {
      if (prop === 'writev') {
        return async (buffers: Uint8Array[], position: number) => {
          await delay(waitMs());
          return target.writev(buffers, position);
        };
      }
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

test('slow writes: a slab is reused only after the writes of everything read before it have landed', async (t) => {
  const { server, bodies, session, dir } = await setup(t, 40, 21);
  const reusedBefore = slabsReusedForTest();
  await Promise.all(Array.from({ length: 4 }, async (_, lane) => {
    const rnd = random(300 + lane);
    for (let k = lane; k < bodies.length; k += 4) {
      const body = bodies[k]!;
      const res = await session.fetch(`${server.url}/f${k}`);
      if (rnd(3) === 0) {
        assert.ok((await slowRead(res, rnd)).equals(body), `slow reader of f${k}`);
        continue;
      }
      const path = join(dir, `f${k}`);
      const handle = await open(path, 'w+');
      try {
        const stream = (await nodeBodyOf(res))!;
        const returns = SlabReturns.for(stream);
        assert.ok(returns, 'an http body of the plain adapter may give slabs back');
        const writer = new PartialWriter(slowWrites(handle, () => rnd(6)), createHasher(false, undefined), {
          start: 0, limit: undefined, returns, onWritten: () => undefined,
        });
        await pipeline(stream, writer);
      } finally {
        await handle.close();
      }
      assert.ok((await readFile(path)).equals(body), `file f${k}`);
    }
  }));
  assert.ok(slabsReusedForTest() > reusedBefore, 'the writers gave slabs back for reuse');
});

test('a batch of chunks is given back only after its write landed, while another socket takes freed slabs', async (t) => {
  const server = await startFileServer(t);
  const slow = bytes(12 << 20, 51);
  const fast = bytes(24 << 20, 52);
  for (const [path, body] of [['/slow', slow], ['/fast', fast]] as const) {
    server.route(path, (_req, res) => {
      res.writeHead(200, { 'content-length': String(body.length) });
      res.end(body);
    });
  }
  const session = createSession({ settings: testSettings() });
  t.after(() => session.close());
  const dir = await tempDir(t);
  const reusedBefore = slabsReusedForTest();
  // Each write of the slow body waits 25 ms, so its batches span slabs while the fast download,
  // on its own socket, keeps taking slabs from the pool.
  const writeSlowly = async (): Promise<void> => {
    const res = await session.fetch(`${server.url}/slow`);
    const handle = await open(join(dir, 'slow'), 'w+');
    try {
      const stream = (await nodeBodyOf(res))!;
      const writer = new PartialWriter(slowWrites(handle, () => 25), createHasher(false, undefined), {
        start: 0, limit: undefined, returns: SlabReturns.for(stream), onWritten: () => undefined,
      });
      await pipeline(stream, writer);
    } finally {
      await handle.close();
    }
  };
  const downloadFast = async (): Promise<void> => {
    for (const name of ['f1', 'f2']) {
      await download(`${server.url}/fast`, join(dir, name), { session });
      assert.ok((await readFile(join(dir, name))).equals(fast), `download ${name}`);
    }
  };
  await Promise.all([writeSlowly(), downloadFast()]);
  assert.ok((await readFile(join(dir, 'slow'))).equals(slow), 'the slowly written body');
  assert.ok(slabsReusedForTest() > reusedBefore);
});

/** A raw HTTP/1.1 server answering each request with head and body in one write (bodies by path: /<name>). */
async function rawServer(t: import('node:test').TestContext, bodies: Map<string, Buffer>, extraHead = ''): Promise<string> {
  const open: Socket[] = [];
  const raw = createServer((socket) => {
    open.push(socket);
    let pending = '';
    socket.on('data', (d) => {
      pending += d.toString('latin1');
      for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
        const path = /^GET \/(\S+) /.exec(pending)?.[1] ?? '';
        pending = pending.slice(end + 4);
        const body = bodies.get(path) ?? Buffer.alloc(0);
        socket.write(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\n${extraHead}content-length: ${body.length}\r\n\r\n`), body]));
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
  t.after(() => {
    for (const socket of open) socket.destroy();
    raw.close();
  });
  return `http://127.0.0.1:${(raw.address() as AddressInfo).port}`;
}

test('slabs at the seams between downloads are reused; a body someone else reads between them is not', async (t) => {
  // Bodies under 1 MiB: a slab holds the ends of some and the heads and starts of others, so
  // only the per-socket watermark can free slabs here.
  const bodies = new Map<string, Buffer>();
  for (let i = 0; i < 30; i++) bodies.set(`d${i}`, bytes(150_000 + i * 7_001, 600 + i));
  // Small enough for the gap check to read it, and holding what looks like a response head.
  const kept = Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n'), bytes(20_000, 699)]);
  bodies.set('kept', kept);
  const url = await rawServer(t, bodies);
  const session = createSession({ settings: testSettings() });
  t.after(() => session.close());
  const dir = await tempDir(t);
  const freedBefore = slabsFreedForTest();
  const views: Buffer[] = [];
  for (let i = 0; i < 30; i++) {
    if (i === 12) {
      // On the same socket, between two downloads: read as views (flowing, so never joined into copies) and kept to the end.
      const body = (await nodeBodyOf(await session.fetch(`${url}/kept`)))!;
      body.on('data', (chunk: Buffer) => views.push(chunk));
      await new Promise((resolve, reject) => body.once('end', resolve).once('error', reject));
    }
    await download(`${url}/d${i}`, join(dir, `d${i}`), { session });
    assert.ok((await readFile(join(dir, `d${i}`))).equals(bodies.get(`d${i}`)!), `download d${i}`);
  }
  assert.ok(slabsFreedForTest() > freedBefore, 'slabs between downloads were given back');
  assert.ok(Buffer.concat(views).equals(kept), 'the body read in between kept its bytes');
});

test('a download whose head carries a second status-line token frees no seam slab, and every byte is right', async (t) => {
  const bodies = new Map<string, Buffer>();
  for (let i = 0; i < 12; i++) bodies.set(`d${i}`, bytes(120_000 + i * 5_003, 700 + i));
  // A proxy-style header naming the protocol: the gap check cannot tell it from a second response.
  const url = await rawServer(t, bodies, 'via: HTTP/1.1 proxy\r\n');
  const session = createSession({ settings: testSettings() });
  t.after(() => session.close());
  const dir = await tempDir(t);
  const freedBefore = slabsFreedForTest();
  for (let i = 0; i < 12; i++) {
    await download(`${url}/d${i}`, join(dir, `d${i}`), { session });
    assert.ok((await readFile(join(dir, `d${i}`))).equals(bodies.get(`d${i}`)!), `download d${i}`);
  }
  assert.equal(slabsFreedForTest(), freedBefore, 'no slab was given back');
});
