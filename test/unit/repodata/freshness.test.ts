import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decide, isStale, maxAgeSeconds, secondsLeft } from '../../../src/repodata/index.js';

const NOW = 1_795_462_784_000_000_000n;
const backdated = (seconds: number, cacheControl = 'public, max-age=30') => ({
  refresh_ns: NOW - BigInt(seconds) * 1_000_000_000n, cache_control: cacheControl,
});

test('max-age=30 and a fresh save give 30 seconds left (spec 8.3)', () => {
  assert.equal(secondsLeft(backdated(0), 1, NOW), 30);
  assert.equal(isStale(backdated(0), 1, NOW), false);
});

test('backdated 60 s with max-age=30 is stale by 30 seconds', () => {
  assert.equal(isStale(backdated(60), 1, NOW), true);
  assert.equal(secondsLeft(backdated(60), 1, NOW), -30);
});

test('backdated 31 s: ttl 0 is stale (-31), ttl 1 is stale (-1), ttl 60 is fresh (29)', () => {
  const state = backdated(31);
  assert.equal(isStale(state, 0, NOW), true);
  assert.equal(secondsLeft(state, 0, NOW), -31);
  assert.equal(isStale(state, 1, NOW), true);
  assert.equal(secondsLeft(state, 1, NOW), -1);
  assert.equal(isStale(state, 60, NOW), false);
  assert.equal(secondsLeft(state, 60, NOW), 29);
});

test('ttl 1 without max-age means always revalidate; a missing refresh_ns counts as 0', () => {
  assert.equal(maxAgeSeconds(1, 'no-cache'), 0);
  assert.equal(maxAgeSeconds(1, 'public, max-age=1200'), 1200);
  assert.equal(maxAgeSeconds(600, 'max-age=1'), 600);
  assert.equal(isStale({ refresh_ns: 0n, cache_control: 'max-age=99999' }, 1, NOW), true);
});

const online = { offline: false, useIndexCache: false, localRepodataTtl: 1 };

test('a fresh cache is used without a request, a stale one is fetched', () => {
  assert.deepEqual(decide({ state: backdated(5), hasData: true, settings: online, isFile: false, nowNs: NOW }),
    { action: 'use-cache', cacheResult: 'hit' });
  assert.deepEqual(decide({ state: backdated(60), hasData: true, settings: online, isFile: false, nowNs: NOW }), { action: 'fetch' });
  assert.deepEqual(decide({ state: backdated(5), hasData: false, settings: online, isFile: false, nowNs: NOW }), { action: 'fetch' });
});

test('file:// channels are always re-read, even when fresh', () => {
  assert.deepEqual(decide({ state: backdated(5), hasData: true, settings: online, isFile: true, nowNs: NOW }), { action: 'fetch' });
});

test('offline serves a stale cache and {} when nothing is cached; file:// still reads', () => {
  const offline = { ...online, offline: true };
  assert.deepEqual(decide({ state: backdated(600), hasData: true, settings: offline, isFile: false, nowNs: NOW }),
    { action: 'use-cache', cacheResult: 'stale' });
  assert.deepEqual(decide({ state: backdated(0), hasData: false, settings: offline, isFile: false, nowNs: NOW }), { action: 'empty' });
  assert.deepEqual(decide({ state: backdated(0), hasData: false, settings: offline, isFile: true, nowNs: NOW }), { action: 'fetch' });
});

test('use_index_cache uses whatever is cached, even for file://, and {} when nothing is', () => {
  const indexCache = { ...online, useIndexCache: true };
  assert.deepEqual(decide({ state: backdated(600), hasData: true, settings: indexCache, isFile: true, nowNs: NOW }),
    { action: 'use-cache', cacheResult: 'stale' });
  assert.deepEqual(decide({ state: backdated(0), hasData: false, settings: indexCache, isFile: false, nowNs: NOW }), { action: 'empty' });
});
