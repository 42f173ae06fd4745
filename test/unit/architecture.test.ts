/**
 * Layering rules of DESIGN §3.3, checked on the source: imports only point downward (type imports
 * and `import('…')` types included); nothing below cli touches the process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));
/** errors, redact ← core ← config ← auth, plugins ← adapters ← session ← download ← packages, repodata ← cli. */
const LAYER: Record<string, number> = {
  errors: 0, redact: 0, util: 0, 'version.ts': 0,
  core: 1,
  config: 2,
  auth: 3, plugins: 3,
  adapters: 4,
  session: 5,
  download: 6,
  packages: 7, repodata: 7,
  cli: 8, 'index.ts': 9,
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? files(full) : name.endsWith('.ts') ? [full] : [];
  });
}

function layerOf(file: string): number {
  const top = relative(SRC, file).split('/')[0]!;
  const layer = LAYER[top];
  assert.notEqual(layer, undefined, `${relative(SRC, file)} is in an unknown top-level folder; add it to the layering table`);
  return layer!;
}

/** Every relative module a file names: `import … from`, `import type … from`, `export … from`, `import('…')`. */
export function relativeImports(text: string): string[] {
  const specs: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\b[^'";]*?\bfrom\s+'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/gm)) {
    specs.push((m[1] ?? m[2])!);
  }
  return specs;
}

test('the import scanner sees value, type and dynamic imports', () => {
  const text = [
    "import { a } from './a.js';",
    "import type { B } from '../b.js';",
    "export type { C } from './c.js';",
    'import {',
    '  type D,',
    "} from './d.js';",
    "type E = import('./e.js').E;",
    "const f = await import('./f.js');",
  ].join('\n');
  assert.deepEqual(relativeImports(text), ['./a.js', '../b.js', './c.js', './d.js', './e.js', './f.js']);
});

test('imports, type imports included, only point to the same or a lower layer', () => {
  const violations: string[] = [];
  for (const file of files(SRC)) {
    for (const spec of relativeImports(readFileSync(file, 'utf8'))) {
      const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
      if (!target.startsWith(SRC)) continue;
      if (layerOf(target) > layerOf(file)) violations.push(`${relative(SRC, file)} -> ${relative(SRC, target)}`);
    }
  }
  assert.deepEqual(violations, []);
});

test('session and adapters meet only through core: adapters never import session', () => {
  const offenders = files(join(SRC, 'adapters')).flatMap((file) => relativeImports(readFileSync(file, 'utf8'))
    .map((spec) => relative(SRC, resolve(dirname(file), spec)))
    .filter((target) => target.startsWith('session/'))
    .map((target) => `${relative(SRC, file)} -> ${target}`));
  assert.deepEqual(offenders, []);
});

test('nothing below src/cli reads process.env, process.argv or prints', () => {
  const offenders: string[] = [];
  for (const file of files(SRC)) {
    const rel = relative(SRC, file);
    if (rel.startsWith('cli/')) continue;
    const text = readFileSync(file, 'utf8').replace(/^\s*(\/\/|\/?\*).*$/gm, '').replace(/(^|\s)\/\/.*$/gm, '');
    if (/process\.env\b|process\.argv\b|console\.(log|error|warn|info)|process\.(stdout|stderr)\b/.test(text)) offenders.push(rel);
  }
  assert.deepEqual(offenders, []);
});
