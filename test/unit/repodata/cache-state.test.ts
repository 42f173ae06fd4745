import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  emptyState, hasFormat, parseState, serializeState, setHasFormat, shouldCheckFormat,
} from '../../../src/repodata/index.js';

const CONDA_STATE = `{
  "url": "http://127.0.0.1:41273/linux-64",
  "etag": "\\"abc123\\"",
  "mod": "Mon, 23 Nov 2026 19:39:38 GMT",
  "cache_control": "public, max-age=30",
  "mtime_ns": 1795462784620562423,
  "size": 71,
  "refresh_ns": 1795462784620875482
}`;

test('a state file written by conda is read with exact nanosecond integers', () => {
  const { state, warnings } = parseState(CONDA_STATE);
  assert.deepEqual(warnings, []);
  assert.equal(state.url, 'http://127.0.0.1:41273/linux-64');
  assert.equal(state.etag, '"abc123"');
  assert.equal(state.mtime_ns, 1795462784620562423n);
  assert.equal(state.refresh_ns, 1795462784620875482n);
  assert.equal(state.size, 71);
});

test('serializing gives conda\'s layout back byte for byte', () => {
  assert.equal(serializeState(parseState(CONDA_STATE).state), CONDA_STATE);
});

test('has_* flags are written as conda writes them and read back', () => {
  const state = emptyState('https://x/linux-64');
  setHasFormat(state, 'zst', false, Date.UTC(2026, 0, 8, 11, 45, 44, 123));
  const text = serializeState(state);
  assert.match(text, /"has_zst": \{\n {4}"last_checked": "2026-01-08T11:45:44.123000Z",\n {4}"value": false\n {2}\}/);
  const back = parseState(text).state;
  assert.deepEqual(back.has_zst, { value: false, last_checked: '2026-01-08T11:45:44.123000Z' });
  assert.equal(JSON.parse(text).mtime_ns, 0);
});

test('wrong types are repaired as conda does: strings become "", numbers 0, a bad has_* object is dropped', () => {
  const { state, warnings } = parseState(JSON.stringify({
    url: 42, etag: null, mod: true, cache_control: { a: 1 }, mtime_ns: 'yesterday', size: -3, refresh_ns: 1.5,
    has_zst: { value: true, last_checked: 'Tuesday' }, has_shards: 'yes',
  }));
  assert.equal(state.url, '');
  assert.equal(state.etag, '');
  assert.equal(state.mod, '');
  assert.equal(state.cache_control, '');
  assert.equal(state.mtime_ns, 0n);
  assert.equal(state.size, 0);
  assert.equal(state.refresh_ns, 0n);
  assert.equal(state.has_zst, undefined);
  assert.equal(state.has_shards, undefined);
  assert.ok(warnings.length >= 7);
});

test('legacy underscore keys are read under their new names', () => {
  const { state } = parseState('{"_url": "https://x/noarch", "_etag": "W/\\"1\\"", "_mod": "m", "_cache_control": "max-age=5"}');
  assert.equal(state.url, 'https://x/noarch');
  assert.equal(state.etag, 'W/"1"');
  assert.equal(state.cache_control, 'max-age=5');
  assert.doesNotMatch(serializeState(state), /"_url"/);
});

test('a state file holding its JSON twice is rejected so the caller starts afresh', () => {
  assert.throws(() => parseState(CONDA_STATE + CONDA_STATE), SyntaxError);
  assert.throws(() => parseState('[]'), SyntaxError);
});

test('unknown keys survive a rewrite', () => {
  const { state } = parseState('{"url": "u", "blake2_256": "ab", "jlap": {"iv": "00"}}');
  const back = JSON.parse(serializeState(state)) as Record<string, unknown>;
  assert.equal(back.blake2_256, 'ab');
  assert.deepEqual(back.jlap, { iv: '00' });
});

test('a missing format is worth trying; a missing one is rechecked only after 7 days', () => {
  const state = emptyState();
  assert.deepEqual(hasFormat(state, 'zst'), { value: true });
  assert.equal(shouldCheckFormat(state, 'zst'), true);
  const now = Date.UTC(2026, 10, 25);
  setHasFormat(state, 'zst', false, now - 6 * 86_400_000);
  assert.equal(shouldCheckFormat(state, 'zst', now), false);
  setHasFormat(state, 'zst', false, now - 8 * 86_400_000);
  assert.equal(shouldCheckFormat(state, 'zst', now), true);
  setHasFormat(state, 'zst', true, now);
  assert.equal(shouldCheckFormat(state, 'zst', now), true);
});

test("conda's json writes NaN bare: a state with \"mod\": NaN keeps everything else, mod reads as \"\" (RepodataState._strings)", () => {
  const text = CONDA_STATE.replace('"mod": "Mon, 23 Nov 2026 19:39:38 GMT"', '"mod": NaN')
    .replace('"size": 71', '"size": 71,\n  "x": [Infinity, -Infinity, "NaN in a string", "a \\"NaN\\""]');
  const { state, warnings } = parseState(text);
  assert.equal(state.mod, '');
  assert.equal(state.etag, '"abc123"');
  assert.equal(state.cache_control, 'public, max-age=30');
  assert.equal(state.mtime_ns, 1795462784620562423n);
  assert.equal(state.size, 71);
  assert.equal(state.refresh_ns, 1795462784620875482n);
  assert.deepEqual(state.extra?.x, [null, null, 'NaN in a string', 'a "NaN"'], 'NaN only replaced outside strings');
  assert.ok(warnings.some((w) => /mod/.test(w)));
});

test("conda's has_format: a last_checked that datetime.fromisoformat cannot read, or a missing value, means \"not known\" (dropped: try the format)", () => {
  for (const bad of ['Tuesday', '1', 'Tuesday 5', '2023-13-01T00:00:00Z', '2023-02-30', 'Jan 8 2023', '', '2023-01-08T25:00:00Z']) {
    const { state } = parseState(JSON.stringify({ has_zst: { value: false, last_checked: bad } }));
    assert.equal(state.has_zst, undefined, bad);
    assert.equal(shouldCheckFormat(state, 'zst'), true, `${bad}: tried again`);
  }
  assert.equal(parseState(JSON.stringify({ has_zst: { last_checked: '2023-01-08T11:45:44Z' } })).state.has_zst, undefined, 'value missing (KeyError)');
  for (const good of ['2023-01-08T11:45:44.123456Z', '2023-01-08T11:45:44Z', '2023-01-08T11:45:44+00:00', '2023-01-08', '2023-01-08 11:45']) {
    const { state } = parseState(JSON.stringify({ has_zst: { value: 0, last_checked: good } }));
    assert.deepEqual(state.has_zst, { value: false, last_checked: good }, good);
  }
  const recent = new Date(Date.now() - 3600_000).toISOString().replace(/Z$/, '+02:00');
  assert.equal(shouldCheckFormat(parseState(JSON.stringify({ has_zst: { value: [], last_checked: recent } })).state, 'zst'), false,
    'a zone offset is honoured, and [] is false as Python\'s bool([])');
});
