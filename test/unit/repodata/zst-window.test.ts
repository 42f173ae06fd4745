import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isGatewayError } from '../../../src/index.js';
import { createZstdDecoder, decodeZstd, ZstdDecodeError, zstdBackend } from '../../../src/repodata/zst.js';
import { MAX_WINDOW_BYTES, ZstdFrameGuard } from '../../../src/repodata/zst-frames.js';
import { zstd } from './fixtures.js';

/** The fuzzer's 12 bytes: a frame header declaring a ~1.76 GB window, then garbage. */
const BOMB = Uint8Array.from([40, 181, 47, 253, 21, 165, 68, 235, 148, 125, 8, 133]);

function zstdWith(args: string[], input: Buffer): Buffer {
  const out = spawnSync('zstd', ['-q', '-c', ...args], { input, maxBuffer: 1 << 28 });
  if (out.error || out.status !== 0) throw new Error(`zstd ${args.join(' ')} failed: ${out.error?.message ?? out.stderr.toString()}`);
  return out.stdout;
}

async function streamDecode(input: Uint8Array, chunk: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let i = 0; i < input.length; i += chunk) parts.push(Buffer.from(input.subarray(i, i + chunk)));
  const out: Buffer[] = [];
  await pipeline(Readable.from(parts), await createZstdDecoder(), async function* (source) {
    for await (const c of source) out.push(c as Buffer);
  });
  return Buffer.concat(out);
}

function guardProblems(data: Uint8Array, chunk: number): string | undefined {
  const guard = new ZstdFrameGuard();
  for (let i = 0; i < data.length; i += chunk) {
    const problem = guard.push(data.subarray(i, i + chunk));
    if (problem) return problem.message;
  }
  return undefined;
}

test('a 12-byte frame declaring a 1.8 GB window is refused at once with CG_REPODATA_INVALID, one-shot or streaming', async () => {
  // Load the decoder module first: the time asserted is the refusal's, not a first dlopen's.
  await zstdBackend();
  for (const decode of [() => decodeZstd(BOMB), () => streamDecode(BOMB, 5)]) {
    const started = performance.now();
    const err = await decode().then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof ZstdDecodeError, String(err));
    assert.ok(isGatewayError(err));
    assert.equal(err.code, 'CG_REPODATA_INVALID');
    assert.match(err.message, /window, over the 128 MiB limit/);
    assert.ok(Number(err.details.windowBytes) > 1.7e9);
    assert.ok(performance.now() - started < 200, 'refused before any allocation');
  }
});

test('a frame made with zstd --long=28 (a 256 MiB window) is refused, as zstd -d refuses it without --long', async () => {
  const packed = zstdWith(['--long=28'], Buffer.from('x'.repeat(1000)));
  await assert.rejects(decodeZstd(packed), (e: unknown) => e instanceof ZstdDecodeError && /256 MiB window/.test(e.message));
});

test('a window of exactly 128 MiB passes the guard; one byte more does not', () => {
  const header = (windowDescriptor: number) => Uint8Array.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, windowDescriptor]);
  assert.equal(new ZstdFrameGuard().push(header((27 - 10) << 3)), undefined);
  assert.ok(new ZstdFrameGuard().push(header(((27 - 10) << 3) | 1)));
  // A single-segment frame's window is its declared content size (8-byte field).
  const single = (size: number) => {
    const b = Buffer.alloc(13);
    b.set([0x28, 0xb5, 0x2f, 0xfd, 0xe0]);
    b.writeBigUInt64LE(BigInt(size), 5);
    return b;
  };
  assert.equal(new ZstdFrameGuard().push(single(MAX_WINDOW_BYTES)), undefined);
  assert.match(new ZstdFrameGuard().push(single(MAX_WINDOW_BYTES + 1))?.message ?? '', /over the 128 MiB limit/);
});

test('the guard follows real streams to their end: levels, checksums, single-segment, RLE blocks, several frames, skippable frames', async () => {
  const text = Buffer.from(JSON.stringify(Array.from({ length: 20_000 }, (_, i) => ({ n: i, s: 'a'.repeat(i % 50) }))));
  const runs = Buffer.alloc(600_000, 0x61);
  const skippable = Buffer.from([0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3]);
  const cases: Array<[string, Buffer, Buffer]> = [
    ['level 3', zstd(text), text],
    ['level 19 without checksum', zstdWith(['-19', '--no-check'], text), text],
    ['RLE blocks', zstd(runs), runs],
    ['two frames and a skippable frame', Buffer.concat([zstd(text), skippable, zstd(runs)]), Buffer.concat([text, runs])],
  ];
  const tiny = Buffer.from('{}');
  const singleSegment = spawnSync('sh', ['-c', 'f=$(mktemp); printf "{}" > "$f"; zstd -q -c "$f"; rm -f "$f"']).stdout;
  assert.equal(singleSegment[4]! & 0x20, 0x20, 'a file of known size makes a single-segment frame');
  cases.push(['single segment', singleSegment, tiny]);
  for (const [name, packed, plain] of cases) {
    for (const chunk of [1, 7, 4096, packed.length]) assert.equal(guardProblems(packed, chunk), undefined, `${name} in ${chunk}-byte chunks`);
    assert.ok((await streamDecode(packed, 777)).equals(plain), name);
    assert.ok(Buffer.from(await decodeZstd(packed)).equals(plain), name);
  }
});

test('a huge window in a second frame is refused too, before it is allocated', async () => {
  const good = zstd(Buffer.from('{"a":1}'));
  await assert.rejects(streamDecode(Buffer.concat([good, BOMB]), 3), (e: unknown) => e instanceof ZstdDecodeError && /window/.test(e.message));
  await assert.rejects(decodeZstd(Buffer.concat([good, BOMB])), ZstdDecodeError);
});
