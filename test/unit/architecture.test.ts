/** Layering rules of DESIGN §3.3, checked on the source: imports only point downward; nothing below cli touches the process. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));
const LAYER: Record<string, number> = {
  errors: 0, redact: 0, util: 0, 'version.ts': 0, core: 0,
  config: 1,
  auth: 2, plugins: 2,
  session: 3, adapters: 3,
  download: 4,
  packages: 5, repodata: 5,
  cli: 6, 'index.ts': 7,
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

test('value imports only point to the same or a lower layer', () => {
  const violations: string[] = [];
  for (const file of files(SRC)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^\s*(import|export)\s+(?!type\b)[^'"]*?from\s+'(\.[^']+)'|import\('(\.[^']+)'\)/gm)) {
      const spec = m[2] ?? m[3];
      if (!spec) continue;
      const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
      if (!target.startsWith(SRC)) continue;
      if (layerOf(target) > layerOf(file)) violations.push(`${relative(SRC, file)} -> ${relative(SRC, target)}`);
    }
  }
  assert.deepEqual(violations, []);
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
