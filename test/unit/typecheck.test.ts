/** The whole project typechecks under strict settings, and the public declarations contain no `any`. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function declarations(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? declarations(full) : name.endsWith('.d.ts') ? [full] : [];
  });
}

test('tsc --strict passes and exported declarations under src/ have no any', () => {
  const out = mkdtempSync(join(tmpdir(), 'cg-types-'));
  try {
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json', '--declaration', '--emitDeclarationOnly', '--sourceMap', 'false', '--outDir', out], {
      cwd: ROOT, encoding: 'utf8',
    });
    assert.equal(r.status, 0, `tsc failed:\n${r.stdout}${r.stderr}`);
    const offenders = declarations(join(out, 'src'))
      .filter((file) => /(?<![\w$.])any(?![\w$])/.test(readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '')))
      .map((file) => file.slice(out.length + 1));
    assert.deepEqual(offenders, []);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
