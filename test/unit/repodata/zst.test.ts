import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createZstdDecoder, decodeZstd, ZstdDecodeError } from '../../../src/repodata/index.js';
import { zstd } from './fixtures.js';

async function streamDecode(input: Buffer, chunk = 1000): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let i = 0; i < input.length; i += chunk) parts.push(input.subarray(i, i + chunk));
  const out: Buffer[] = [];
  await pipeline(Readable.from(parts), await createZstdDecoder(), async function* (source) {
    for await (const c of source) out.push(c as Buffer);
  });
  return Buffer.concat(out);
}

const text = JSON.stringify({ info: { subdir: 'linux-64' }, packages: Object.fromEntries(
  Array.from({ length: 3000 }, (_, i) => [`pkg-${i}-1.0-0.tar.bz2`, { name: `pkg-${i}`, version: '1.0', depends: ['python'] }]),
) });

test('a zstd stream fed in small chunks decodes to the original bytes', async () => {
  const packed = zstd(text, 19);
  assert.ok(packed.length < text.length / 5);
  assert.equal((await streamDecode(packed, 7)).toString(), text);
  assert.equal((await streamDecode(packed, 1 << 20)).toString(), text);
});

test('one-shot decoding gives the same bytes', async () => {
  assert.equal(Buffer.from(await decodeZstd(zstd(text))).toString(), text);
});

test('a truncated zstd stream is an error at its end, not a short file', async () => {
  const packed = zstd(text);
  await assert.rejects(streamDecode(packed.subarray(0, packed.length - 50)), ZstdDecodeError);
  await assert.rejects(decodeZstd(packed.subarray(0, 20)), ZstdDecodeError);
});

test('bytes that are not zstd (an HTML page) and an empty body are errors', async () => {
  await assert.rejects(streamDecode(Buffer.from('<html><body>Welcome to our CDN</body></html>')), ZstdDecodeError);
  await assert.rejects(streamDecode(Buffer.alloc(0)), ZstdDecodeError);
  await assert.rejects(decodeZstd(Buffer.alloc(0)), ZstdDecodeError);
});
