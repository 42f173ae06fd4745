import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Limiter, createSlots, settleAll } from '../../../src/util/limiter.js';

/** A task that runs until released, recording when it started. */
function gate(log: string[], name: string): { run: () => Promise<string>; release: () => void } {
  let release!: () => void;
  const done = new Promise<void>((r) => { release = r; });
  return { run: async () => { log.push(name); await done; return name; }, release };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

test('Limiter: at most limit at once, in order; per key at most perKey, a later key going ahead', async () => {
  const log: string[] = [];
  const limiter = new Limiter({ limit: 2, perKey: 1 });
  const a1 = gate(log, 'a1');
  const a2 = gate(log, 'a2');
  const b1 = gate(log, 'b1');
  const c1 = gate(log, 'c1');
  const all = [limiter.run(a1.run, 'a'), limiter.run(a2.run, 'a'), limiter.run(b1.run, 'b'), limiter.run(c1.run, 'c')];
  await tick();
  assert.deepEqual(log, ['a1', 'b1']);
  a1.release();
  await tick();
  assert.deepEqual(log, ['a1', 'b1', 'a2']);
  b1.release();
  await tick();
  assert.deepEqual(log, ['a1', 'b1', 'a2', 'c1']);
  a2.release();
  c1.release();
  assert.deepEqual(await Promise.all(all), ['a1', 'a2', 'b1', 'c1']);
});

test('Limiter: once aborted nothing more starts (AbortedError), running tasks finish', async () => {
  const log: string[] = [];
  const controller = new AbortController();
  const limiter = new Limiter({ limit: 1, signal: controller.signal });
  const first = gate(log, 'first');
  const running = limiter.run(first.run);
  const waiting = limiter.run(async () => 'never');
  controller.abort();
  await assert.rejects(waiting, (e: { code?: string }) => e.code === 'CG_ABORTED');
  first.release();
  assert.equal(await running, 'first');
  assert.deepEqual(log, ['first']);
});

test('Limiter: a task that throws synchronously frees its slot', async () => {
  const slot = createSlots(1);
  await assert.rejects(slot(() => { throw new Error('sync'); }), /sync/);
  assert.equal(await slot(async () => 'next'), 'next');
});

test('settleAll: results in order; the first error only after every task settled', async () => {
  assert.deepEqual(await settleAll([3, 1, 2], async (n) => n * 2), [6, 2, 4]);
  let finished = 0;
  let peak = 0;
  let active = 0;
  await assert.rejects(settleAll([1, 2, 3, 4, 5], async (n) => {
    active++;
    peak = Math.max(peak, active);
    await new Promise((r) => setTimeout(r, 5 * n));
    active--;
    finished++;
    if (n === 1) throw new Error('first');
  }, 2), /first/);
  assert.equal(finished, 5);
  assert.equal(peak, 2);
});
