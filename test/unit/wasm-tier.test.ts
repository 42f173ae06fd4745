/**
 * The CLI lets V8 optimise one WebAssembly function index only (bin/conda-gateway.js): it must be
 * the repodata validator's `push`, which a rebuild of wasm/json-shape.c may move.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { BASE64 } from '../../src/repodata/json-shape-wasm-binary.js';

/** Function index of each exported function, read from the module's export section. */
function exportedFunctions(bytes: Uint8Array): Map<string, number> {
  let at = 8; // magic and version
  const leb = (): number => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const b = bytes[at++]!;
      value += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return value;
    }
  };
  const found = new Map<string, number>();
  while (at < bytes.length) {
    const id = bytes[at++]!;
    const size = leb();
    const end = at + size;
    if (id === 7) {
      for (let n = leb(); n > 0; n--) {
        const length = leb();
        const name = Buffer.from(bytes.subarray(at, at + length)).toString('utf8');
        at += length;
        const kind = bytes[at++]!;
        const index = leb();
        if (kind === 0) found.set(name, index);
      }
    }
    at = end;
  }
  return found;
}

test('the one WebAssembly function the CLI lets V8 optimise is the validator\'s push', () => {
  const bin = readFileSync(new URL('../../bin/conda-gateway.js', import.meta.url), 'utf8');
  const index = Number(/const VALIDATOR_PUSH_FUNCTION = (\d+);/.exec(bin)?.[1]);
  assert.ok(bin.includes('--wasm-tier-up-filter=${VALIDATOR_PUSH_FUNCTION}'), 'the flag is set from the constant');
  const push = exportedFunctions(Buffer.from(BASE64, 'base64')).get('push');
  assert.equal(index, push, `bin/conda-gateway.js must name function ${push} (push), not ${index}`);
});
