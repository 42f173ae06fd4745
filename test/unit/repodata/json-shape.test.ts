/**
 * The streaming repodata validators — the JavaScript one (json-shape.ts) and the WebAssembly one
 * (json-shape-wasm.ts), each test run against both — against JSON.parse: on generated valid and
 * broken documents they must accept exactly what JSON.parse accepts (within the documented
 * gaps), whatever the chunk boundaries; and conda's shape rules on top. The two implementations
 * against each other: json-shape-diff.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JsonShapeError, RepodataShapeValidator } from '../../../src/repodata/json-shape.js';
import { WasmShapeValidator, type ShapeValidator } from '../../../src/repodata/json-shape-wasm.js';

const IMPLEMENTATIONS: Array<[string, (maxDepth?: number) => ShapeValidator]> = [
  ['js', (maxDepth) => new RepodataShapeValidator(maxDepth)],
  ['wasm', (maxDepth) => new WasmShapeValidator(maxDepth)],
];

for (const [impl, make] of IMPLEMENTATIONS) {
const validateRepodataShape = (bytes: Uint8Array): { records: number; keys: string[] } => {
  const v = make();
  v.push(bytes);
  return v.end();
};

function inChunks(text: string | Buffer, size: number): { records: number; keys: string[] } {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  const v = make();
  for (let i = 0; i < bytes.length; i += size) v.push(bytes.subarray(i, i + size));
  return v.end();
}

/**
 * The validator's verdict (true, or the refusal's message), fed whole and in chunks of 1, 2, 3,
 * 7 and 64 bytes: all must agree.
 */
function verdict(text: string): true | string {
  const verdicts = [0, 1, 2, 3, 7, 64].map((size) => {
    try {
      if (size === 0) validateRepodataShape(Buffer.from(text));
      else inChunks(text, size);
      return true;
    } catch (err) {
      assert.ok(err instanceof JsonShapeError, `not a JsonShapeError: ${String(err)}`);
      return err.message.replace(/ at byte \d+$/, '');
    }
  });
  assert.ok(verdicts.every((v) => v === verdicts[0]), `chunking changed the verdict for ${JSON.stringify(text)}: ${verdicts.join(' / ')}`);
  return verdicts[0]!;
}

function parses(text: string): boolean {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
}

/** A small random generator (seeded) of JSON-ish documents, then random damage. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function value(r: () => number, depth: number): string {
  const k = Math.floor(r() * (depth > 3 ? 4 : 6));
  switch (k) {
    case 0: return JSON.stringify(['a', 'é', 'x"y', 'back\\slash', 'tab\there', '\u0001', ''][Math.floor(r() * 7)]);
    case 1: return ['0', '-1', '3.25', '1e5', '-0.5E-3', '12345678901234567890'][Math.floor(r() * 6)]!;
    case 2: return ['true', 'false', 'null'][Math.floor(r() * 3)]!;
    case 3: return ' 1 ';
    case 4: return `[${Array.from({ length: Math.floor(r() * 3) }, () => value(r, depth + 1)).join(',')}]`;
    default: return `{${Array.from({ length: Math.floor(r() * 3) }, (_, i) => `"k${i}": ${value(r, depth + 1)}`).join(',')}}`;
  }
}

const DAMAGE = ['', ',', ':', '"', '\\', '{', '}', '[', ']', '-', '.', 'e', '01', 'tru', 'nul', ' ', 'x', '\\q', '\\u'];

test(`${impl}: the validator agrees with JSON.parse on generated documents and their damaged copies`, () => {
  const r = rng(42);
  let checked = 0;
  for (let i = 0; i < 3000; i++) {
    const base = `{"info": {"subdir": "noarch"}, "x": ${value(r, 0)}}`;
    const at = Math.floor(r() * base.length);
    const cut = Math.floor(r() * 3);
    const damaged = i % 3 === 0 ? base : base.slice(0, at) + DAMAGE[Math.floor(r() * DAMAGE.length)] + base.slice(at + cut);
    const expected = parses(damaged);
    // Documented gaps: a raw control character inside a string and the hex digits after \u are not checked.
    // eslint-disable-next-line no-control-regex
    const gap = /[\u0000-\u001f]/.test(damaged) || /\\u/.test(damaged);
    if (gap && !expected) continue;
    const got = verdict(damaged);
    // Stricter than JSON.parse on purpose: a top-level key with a backslash (conda never writes one).
    if (expected && got === 'an escaped top-level key') continue;
    assert.equal(got === true, expected, `${JSON.stringify(damaged)}: ${got}`);
    checked++;
  }
  assert.ok(checked > 2000, `only ${checked} documents were compared`);
});

test(`${impl}: records are counted under packages and packages.conda only, across chunk boundaries`, () => {
  const text = JSON.stringify({
    info: { subdir: 'linux-64' },
    packages: { 'a-1-0.tar.bz2': { name: 'a', depends: ['b'] }, 'b-1-0.tar.bz2': { name: 'b' } },
    'packages.conda': { 'c-1-0.conda': { name: 'c', nested: { 'x-1-0.conda': {} } } },
    removed: ['z-1-0.tar.bz2'],
    other: { 'y-1-0.conda': {} },
    repodata_version: 1,
  });
  for (const size of [1, 5, 1 << 20]) {
    assert.deepEqual(inChunks(text, size), { records: 3, keys: ['info', 'packages', 'packages.conda', 'removed', 'other', 'repodata_version'] });
  }
});

test(`${impl}: conda's shape: what each section must be`, () => {
  const bad: Array<[string, RegExp]> = [
    ['[1]', /not a JSON object/],
    ['"s"', /not a JSON object/],
    ['', /empty/],
    ['  ', /ends early/],
    ['{"packages": []}', /'packages' is not an object/],
    ['{"packages.conda": 1}', /'packages.conda' is not an object/],
    ['{"info": "x"}', /'info' is not an object/],
    ['{"removed": {}}', /'removed' is not an array/],
    ['{"packages": {"a-1-0.conda": 5}}', /a record in 'packages' is not an object/],
    ['{"packages": {"a-1-0.conda": [1]}}', /a record in 'packages' is not an object/],
    ['{"packages": {"a-1-0.conda": "x"}}', /a record in 'packages' is not an object/],
    ['{"pack\\u0061ges": []}', /escaped top-level key/],
    ['{"a": 1} {}', /after the end/],
    ['{"a": "\\x"}', /invalid escape/],
  ];
  for (const [text, message] of bad) {
    for (const size of [1, 3, 1 << 20]) {
      assert.throws(() => inChunks(text, size), (err) => err instanceof JsonShapeError && message.test(err.message), `${text} / ${size}`);
    }
  }
  assert.deepEqual(validateRepodataShape(Buffer.from('{"info": null, "removed": [], "packages": {}}')).records, 0);
});

test(`${impl}: nesting past the limit is refused without recursion`, () => {
  const deep = `{"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
  assert.throws(() => validateRepodataShape(Buffer.from(deep)), /nested deeper than 64 levels/);
  assert.doesNotThrow(() => validateRepodataShape(Buffer.from(`{"x":${'['.repeat(60)}${']'.repeat(60)}}`)));
});

test(`${impl}: a plain Uint8Array (as a worker receives it) is validated like a Buffer`, () => {
  const bytes = new Uint8Array(Buffer.from('{"packages": {"a-1-0.conda": {"name": "a\\"b"}}}'));
  assert.equal(validateRepodataShape(bytes).records, 1);
});
}
