/** Token batches (which repositories share one token request) and the token cache's batch entries: pure logic. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_BATCH_CHARS, MAX_BATCH_SCOPES, TokenBatches } from '../../../src/adapters/oci/token-batches.js';
import { TokenCache, expiryOf } from '../../../src/adapters/oci/tokens.js';

const O = 'https://ghcr.io';
const scope = (i: number, pad = 0) => `repository:channel-mirrors/conda-forge/linux-64/pkg${'x'.repeat(pad)}${i}:pull`;

test('batches: expected scopes cut in order into batches of at most MAX_BATCH_SCOPES and MAX_BATCH_CHARS', () => {
  const b = new TokenBatches();
  b.expect(O, Array.from({ length: 40 }, (_, i) => scope(i)));
  const group = (i: number) => b.scopesOf(b.groupOf(O, b.keyOf(O, scope(i), 'anonymous')));
  assert.deepEqual(group(0), Array.from({ length: MAX_BATCH_SCOPES }, (_, i) => scope(i)));
  assert.deepEqual(group(5), group(0), 'every member of a batch names the same batch');
  assert.deepEqual(group(16)[0], scope(16));
  assert.equal(group(39).length, 40 - 2 * MAX_BATCH_SCOPES);
  // Long names: the query bound cuts first.
  const long = new TokenBatches();
  long.expect(O, Array.from({ length: 16 }, (_, i) => scope(i, 150)));
  const first = long.scopesOf(long.groupOf(O, long.keyOf(O, scope(0, 150), 'anonymous')));
  const chars = first.reduce((n, s) => n + `&scope=${encodeURIComponent(s)}`.length, 0);
  assert.ok(first.length < 16 && chars <= MAX_BATCH_CHARS, `${first.length} scopes, ${chars} chars`);
});

test('batches: a scope not expected, one asked for alone, another origin or a disabled one stand alone; credentials are part of the key', () => {
  const b = new TokenBatches();
  b.expect(O, [scope(1), scope(2), scope(3), scope(2)]);
  const alice = b.keyOf(O, scope(1), 'alice-id');
  assert.deepEqual(b.scopesOf(b.groupOf(O, alice)), [scope(1), scope(2), scope(3)]);
  assert.notEqual(alice, b.keyOf(O, scope(1), 'anonymous'));
  assert.ok(b.groupOf(O, alice).every((k) => k.includes('alice-id')), 'a batch never mixes credentials');
  const other = b.keyOf(O, scope(9), 'anonymous');
  assert.deepEqual(b.groupOf(O, other), [other]);
  b.single(b.keyOf(O, scope(2), 'anonymous'));
  assert.deepEqual(b.scopesOf(b.groupOf(O, b.keyOf(O, scope(1), 'anonymous'))), [scope(1), scope(3)]);
  assert.deepEqual(b.scopesOf(b.groupOf(O, b.keyOf(O, scope(2), 'anonymous'))), [scope(2)]);
  const elsewhere = b.keyOf('https://other.example', scope(1), 'anonymous');
  assert.deepEqual(b.groupOf('https://other.example', elsewhere), [elsewhere]);
  assert.equal(b.disable(O), true);
  assert.equal(b.disable(O), false);
  assert.equal(b.groupOf(O, alice).length, 1);
});

test('token cache: one fetch for a group, cached under each key; covered keys are not asked again; a refused batch token is replaced once for all', async () => {
  let now = 1_000_000;
  const cache = new TokenCache(() => now);
  const asked: string[][] = [];
  let n = 0;
  const fetch = async (keys: readonly string[]) => {
    asked.push([...keys]);
    await new Promise((r) => setTimeout(r, 5));
    return { token: `tok${++n}`, expiresAt: expiryOf(now, 300) };
  };
  assert.equal(await cache.obtain('c', fetch), 'tok1');
  const got = await Promise.all(['a', 'b', 'c', 'd'].map((k) => cache.obtain(k, fetch, ['a', 'b', 'c', 'd'])));
  assert.deepEqual(got, ['tok2', 'tok2', 'tok1', 'tok2']);
  assert.deepEqual(asked, [['c'], ['a', 'b', 'd']], 'c was covered; a, b and d shared one fetch');
  const entry = cache.entryOf('tok2')!;
  assert.deepEqual(entry.keys, ['a', 'b', 'd']);
  assert.equal(entry.proven, false);
  cache.prove('tok2');
  assert.equal(cache.entryOf('tok2')!.proven, true);
  // Refused as a whole: three concurrent callers, one replacement.
  const replaced = await Promise.all(['a', 'b', 'd'].map((k) => cache.replace(entry, k, fetch)));
  assert.deepEqual(replaced, ['tok3', 'tok3', 'tok3']);
  assert.deepEqual(asked.at(-1), ['a', 'b', 'd']);
  assert.equal(cache.entryOf('tok3')!.refresh, true);
  assert.equal(cache.get('c'), 'tok1', 'a key holding another token keeps it');
  now += 300_000;
  assert.equal(cache.entryOf('tok3'), undefined, 'nothing is known about an expired token');
  assert.deepEqual(cache.secrets(), ['tok1', 'tok2', 'tok3']);
});
