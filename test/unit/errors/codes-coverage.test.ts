/**
 * The codes table tells the truth: every code in ERROR_CODES is thrown by some path in src,
 * every code src throws is in the table, and local failures read as local failures.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERROR_CODES } from '../../../src/errors/codes.js';
import { fromSystemError } from '../../../src/errors/from-system.js';
import { toGatewayError } from '../../../src/session/map-error.js';

const SRC = fileURLToPath(new URL('../../../src', import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? files(full) : name.endsWith('.ts') ? [full] : [];
  });
}

const sources = files(SRC).map((file) => ({ rel: relative(SRC, file), text: readFileSync(file, 'utf8') }));
/** Code → error classes (in src/errors) that set it. */
function classesSetting(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const { rel, text } of sources.filter((s) => s.rel.startsWith('errors/'))) {
    for (const m of text.matchAll(/export class (\w+) extends GatewayError \{([\s\S]*?)\n\}/g)) {
      for (const c of m[2]!.matchAll(/'(CG_[A-Z_]+)'/g)) out.set(c[1]!, [...(out.get(c[1]!) ?? []), m[1]!]);
    }
    void rel;
  }
  return out;
}

test('every code src names is in the ERROR_CODES table', () => {
  const unknown = sources.filter((s) => s.rel !== 'errors/codes.ts')
    .flatMap(({ rel, text }) => [...text.matchAll(/'(CG_[A-Z_]+)'/g)].map((m) => `${rel}: ${m[1]}`))
    .filter((hit) => !Object.hasOwn(ERROR_CODES, hit.split(': ')[1]!));
  assert.deepEqual(unknown, []);
});

test('every code in the ERROR_CODES table is thrown by some path outside the error definitions', () => {
  const byClass = classesSetting();
  const outside = sources.filter((s) => !s.rel.startsWith('errors/codes.ts') && !s.rel.startsWith('errors/classes.ts'));
  const never = Object.keys(ERROR_CODES).filter((code) => {
    if (outside.some((s) => s.text.includes(`'${code}'`))) return false;
    const classes = byClass.get(code) ?? [];
    return !outside.some((s) => classes.some((name) => s.text.includes(`new ${name}(`)));
  });
  assert.deepEqual(never, [], 'codes no path throws');
});

test('no table code is unreachable in the system-error classifier (codes it keys on are system codes, not ours)', () => {
  const text = readFileSync(join(SRC, 'errors/from-system.ts'), 'utf8');
  const sets = [...text.matchAll(/new Set\(\[([\s\S]*?)\]\)/g)].map((m) => m[1]!).join('\n');
  assert.ok(sets.includes("'ECONNRESET'") || sets.includes("'ETIMEDOUT'"), 'found the system-code sets');
  assert.doesNotMatch(sets, /'CG_[A-Z_]+'/, 'a CG_ code inside a system-code set can never match: systemCodeOf skips our own codes');
});

function sysError(code: string, message = `${code}: failure`): Error {
  return Object.assign(new Error(message), { code });
}

for (const code of ['EISDIR', 'EXDEV', 'ENOTDIR', 'EIO', 'EMFILE', 'ENFILE']) {
  test(`${code} is a filesystem error with a filesystem hint, never "check your network"`, () => {
    assert.equal(fromSystemError(sysError(code)), 'CG_FILESYSTEM');
    const err = toGatewayError(sysError(code), { url: 'https://u:secret@example.org/x.conda', path: '/tmp/pkgs/x.conda' });
    assert.equal(err.code, 'CG_FILESYSTEM');
    assert.equal(err.family, 'filesystem');
    assert.equal(err.name, 'FilesystemError');
    assert.doesNotMatch(`${err.message} ${err.hint}`, /network|host/i);
    assert.doesNotMatch(`${err.message} ${err.hint}`, /secret/);
    assert.match(err.message, new RegExp(code));
    assert.equal(err.details.systemCode, code);
    if (code === 'EMFILE' || code === 'ENFILE') assert.match(`${err.message} ${err.hint}`, /open-file|file handles/);
    if (code === 'EMFILE') assert.match(err.hint ?? '', /ulimit -n/);
    else assert.match(err.message, /\/tmp\/pkgs\/x\.conda/);
  });
}

test('EMFILE from connect() (no path) names the open-file limit too', () => {
  const err = toGatewayError(sysError('EMFILE', 'connect EMFILE 127.0.0.1:80 - Local'), { url: 'http://127.0.0.1/x' });
  assert.equal(err.code, 'CG_FILESYSTEM');
  assert.match(err.message, /Too many open files \(EMFILE\) while fetching http:\/\/127\.0\.0\.1\/x/);
  assert.match(err.hint ?? '', /ulimit -n/);
});

test('network codes still read as network failures', () => {
  for (const code of ['ECONNRESET', 'ECONNREFUSED', 'ENOTFOUND']) {
    assert.equal(toGatewayError(sysError(code), { url: 'http://127.0.0.1/x' }).code, 'CG_CONNECTION');
  }
});
