/**
 * The WebAssembly validator (json-shape-wasm.ts, from wasm/json-shape.c) against the JavaScript
 * one (json-shape.ts) and JSON.parse: on random repodata-like documents and random mutations of
 * them, fed in random chunk sizes, both give the same verdict with the same message (offset
 * included), the same record count and keys; on small documents that verdict is JSON.parse's
 * plus conda's shape (within the documented gaps). And the committed binary is its source's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { JsonShapeError, RepodataShapeValidator } from '../../../src/repodata/json-shape.js';
import { WasmShapeValidator, createShapeValidator, type ShapeValidator } from '../../../src/repodata/json-shape-wasm.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const STRINGS = ['a', 'é', 'x"y', 'back\\slash', 'sha256-0123456789abcdef0123456789abcdef', '', 'python >=3.10,<3.11.0a0', 'packages'];
const KEYS = ['info', 'packages', 'packages.conda', 'removed', 'repodata_version', 'other', 'constructor', 'toString', 'é', 'k'];

function scalar(r: () => number): string {
  const k = Math.floor(r() * 3);
  if (k === 0) return JSON.stringify(STRINGS[Math.floor(r() * STRINGS.length)]);
  if (k === 1) return ['0', '-1', '3.25', '1e5', '-0.5E-3', '1600000000000'][Math.floor(r() * 6)]!;
  return ['true', 'false', 'null'][Math.floor(r() * 3)]!;
}

function value(r: () => number, depth: number): string {
  const k = Math.floor(r() * (depth > 3 ? 3 : 5));
  if (k < 3) return scalar(r);
  if (k === 3) return `[${Array.from({ length: Math.floor(r() * 4) }, () => value(r, depth + 1)).join(',')}]`;
  return `{${Array.from({ length: Math.floor(r() * 4) }, (_, i) => `"k${i}":${value(r, depth + 1)}`).join(',')}}`;
}

function record(r: () => number): string {
  return `{"name":"p${Math.floor(r() * 100)}","depends":[${Array.from({ length: Math.floor(r() * 4) }, () => JSON.stringify(STRINGS[Math.floor(r() * STRINGS.length)])).join(',')}],"size":${Math.floor(r() * 1e6)},"x":${value(r, 3)}}`;
}

/** A repodata-like document: the known sections, sometimes with the wrong kind of value, and other keys. */
function documentText(r: () => number): string {
  const parts: string[] = [];
  for (let n = Math.floor(r() * 5); n >= 0; n--) {
    const key = KEYS[Math.floor(r() * KEYS.length)]!;
    const records = Array.from({ length: Math.floor(r() * 4) }, (_, i) => `"f${i}.conda":${r() < 0.9 ? record(r) : scalar(r)}`).join(',');
    const v = key.startsWith('packages') && r() < 0.8 ? `{${records}}` : key === 'removed' && r() < 0.8 ? `["a.conda"]` : value(r, 1);
    parts.push(`${JSON.stringify(key)}${r() < 0.2 ? ' : ' : ':'}${v}`);
  }
  return `{${parts.join(r() < 0.2 ? ' ,\n' : ',')}}`;
}

const ALPHABET = ['"', '\\', ',', ':', '{', '}', '[', ']', ' ', '0', '-', '.', 'e', 't', 'n', 'x', '\\u', '\\"', 'é'];

function mutate(r: () => number, text: string): string {
  let t = text;
  for (let m = 1 + Math.floor(r() * 3); m > 0; m--) {
    const at = Math.floor(r() * (t.length + 1));
    const op = Math.floor(r() * 3);
    const ins = ALPHABET[Math.floor(r() * ALPHABET.length)]!;
    t = op === 0 ? t.slice(0, at) + ins + t.slice(at) : op === 1 ? t.slice(0, at) + t.slice(at + 1 + Math.floor(r() * 3)) : t.slice(0, at) + ins + t.slice(at + 1);
  }
  return t;
}

type Verdict = { ok: true; records: number; keys: string[] } | { ok: false; message: string };

function run(make: () => ShapeValidator, bytes: Buffer, sizes: number[]): Verdict {
  const v = make();
  try {
    let at = 0;
    for (let k = 0; at < bytes.length; k++) {
      const size = sizes[k % sizes.length]!;
      v.push(bytes.subarray(at, at + size));
      at += size;
    }
    return { ok: true, ...v.end() };
  } catch (err) {
    assert.ok(err instanceof JsonShapeError, `not a JsonShapeError: ${String(err)}`);
    return { ok: false, message: err.message };
  }
}

/** JSON.parse plus conda's shape, for small documents. */
function reference(text: string): boolean {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return false;
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return false;
  const isObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);
  // Sections are checked in document order, where a repeated key is checked each time: with
  // JSON.parse the last one wins, so the generator's documents with a repeated section are skipped.
  const d = doc as Record<string, unknown>;
  if ('info' in d && !(isObject(d.info) || typeof d.info === 'number' || typeof d.info === 'boolean' || d.info === null)) return false;
  if ('removed' in d && !Array.isArray(d.removed)) return false;
  for (const key of ['packages', 'packages.conda']) {
    if (!(key in d)) continue;
    if (!isObject(d[key])) return false;
    if (!Object.values(d[key] as object).every(isObject)) return false;
  }
  return true;
}

test('the WebAssembly and JavaScript validators agree on random and mutated documents, chunked at random', () => {
  const r = rng(7);
  let compared = 0;
  let withReference = 0;
  for (let i = 0; i < 4000; i++) {
    const base = documentText(r);
    const text = i % 4 === 0 ? base : mutate(r, base);
    const bytes = Buffer.from(text);
    const sizes = [1 + Math.floor(r() * 40), 1 + Math.floor(r() * 7), bytes.length + 1];
    const js = run(() => new RepodataShapeValidator(), bytes, [bytes.length + 1]);
    for (const chunking of [[bytes.length + 1], sizes, [1]]) {
      assert.deepEqual(run(() => new WasmShapeValidator(), bytes, chunking), js, `${JSON.stringify(text)} in chunks of ${chunking.join(',')}`);
    }
    compared++;
    // The reference, outside the documented gaps (control characters, \u digits, escaped top-level keys, repeated keys).
    const keys = js.ok ? js.keys : [];
    const gap = /\\u/.test(text) || (!js.ok && js.message.startsWith('an escaped top-level key')) || new Set(keys).size !== keys.length;
    if (gap) continue;
    let repeated = false;
    try {
      const doc = JSON.parse(text) as Record<string, unknown>;
      repeated = typeof doc === 'object' && doc !== null && Object.keys(doc).length !== (text.match(/"(info|packages|packages\.conda|removed)"\s*:/g)?.length ?? 0) + Object.keys(doc).filter((k) => !['info', 'packages', 'packages.conda', 'removed'].includes(k)).length;
    } catch { /* not JSON */ }
    if (repeated) continue;
    assert.equal(js.ok, reference(text), `${JSON.stringify(text)}: ${js.ok ? 'accepted' : js.message}`);
    withReference++;
  }
  assert.ok(compared === 4000 && withReference > 1500, `${compared} compared, ${withReference} against JSON.parse`);
});

test('big chunks are pushed in pieces: same verdict, message and count as the JavaScript validator', () => {
  const r = rng(11);
  const records = Array.from({ length: 50_000 }, (_, i) => `"f${i}.conda":${record(r)}`).join(',');
  const text = `{"info":{"subdir":"linux-64"},"packages":{${records}},"removed":[]}`;
  const bytes = Buffer.from(text);
  assert.ok(bytes.length > 2 << 20);
  const js = run(() => new RepodataShapeValidator(), bytes, [bytes.length]);
  assert.equal(js.ok && js.records, 50_000);
  assert.deepEqual(run(() => new WasmShapeValidator(), bytes, [bytes.length]), js);
  const cut = text.indexOf('},"f', 5 << 19) + 1; // between two records, past the first piece
  const broken = Buffer.from(text.slice(0, cut) + ']' + text.slice(cut));
  const jsBroken = run(() => new RepodataShapeValidator(), broken, [broken.length]);
  assert.equal(jsBroken.ok, false);
  assert.deepEqual(run(() => new WasmShapeValidator(), broken, [broken.length]), jsBroken);
});

test('a key named like an Object.prototype member is an ordinary key for both validators', () => {
  for (const make of [() => new RepodataShapeValidator(), () => new WasmShapeValidator()]) {
    assert.deepEqual(run(make, Buffer.from('{"constructor":"x","__proto__":1,"toString":[]}'), [3]), { ok: true, records: 0, keys: ['constructor', '__proto__', 'toString'] });
  }
});

test('createShapeValidator gives the WebAssembly validator, and the JavaScript one past its nesting stack', () => {
  assert.ok(createShapeValidator() instanceof WasmShapeValidator);
  assert.ok(createShapeValidator(5000) instanceof RepodataShapeValidator);
  const v = new WasmShapeValidator();
  v.push(Buffer.from('{}'));
  v.end();
  assert.throws(() => v.push(Buffer.from('{}')), /already finished/);
});

test('the committed WebAssembly binary is built from wasm/json-shape.c', (t) => {
  const script = fileURLToPath(new URL('../../../scripts/build-wasm.mjs', import.meta.url));
  const r = spawnSync(process.execPath, [script, '--check'], { encoding: 'utf8' });
  if (r.status === 2) {
    t.skip(`cannot rebuild here: ${r.stderr.trim()}`);
    return;
  }
  assert.equal(r.status, 0, r.stdout + r.stderr);
});
