#!/usr/bin/env node
/**
 * What we publish, checked as a user gets it: `npm pack`, install the tarball into an empty
 * folder (without the optional peers), import it from ESM and from CommonJS, run
 * `conda-gateway --version` and the demo from there, and check that s3:// and ftp:// name the
 * package to install. Run by .ci/run before the tests; about half a minute.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const work = mkdtempSync(join(tmpdir(), 'cg-pack-'));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
let failures = 0;

function step(name, fn) {
  const started = Date.now();
  try {
    fn();
    console.log(`ok   ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } catch (err) {
    failures++;
    console.log(`FAIL ${name}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function run(command, args, options = {}) {
  const r = spawnSync(command, args, { cwd: work, encoding: 'utf8', timeout: 120_000, ...options });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}`, stdout: r.stdout ?? '' };
}

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

try {
  let tarball = '';
  step('npm pack', () => {
    const out = execFileSync(npm, ['pack', '--json', '--pack-destination', work], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    const [info] = JSON.parse(out.slice(out.indexOf('[')));
    tarball = join(work, info.filename);
    const files = info.files.map((f) => f.path);
    const maps = files.filter((f) => f.endsWith('.map'));
    expect(maps.length === 0, `source maps in the package: ${maps.slice(0, 3).join(', ')}`);
    const packages = files.filter((f) => f.endsWith('.conda') || f.endsWith('.tar.bz2'));
    expect(packages.length === 0, `package files shipped: ${packages.join(', ')}`);
    expect(info.unpackedSize < 2_000_000, `unpacked size ${info.unpackedSize} bytes`);
    console.log(`     ${info.filename}: ${files.length} files, ${(info.size / 1024).toFixed(0)} KiB packed, ${(info.unpackedSize / 1024).toFixed(0)} KiB unpacked`);
  });

  const app = join(work, 'app');
  step('install the tarball into an empty folder (optional peers left out)', () => {
    execFileSync('mkdir', ['-p', app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'cg-pack-check', private: true, version: '0.0.0' }));
    const r = run(npm, ['install', '--no-audit', '--no-fund', '--omit=dev', tarball], { cwd: app });
    expect(r.status === 0, r.out);
  });

  step('import from ESM (root and a subpath)', () => {
    const code = "import { download, getSession, isGatewayError, loadSettings } from 'conda-gateway';\n" +
      "import { createSession } from 'conda-gateway/session';\n" +
      "for (const f of [download, getSession, isGatewayError, loadSettings, createSession]) if (typeof f !== 'function') process.exit(3);\n" +
      "console.log('esm ok');";
    const r = run(process.execPath, ['--input-type=module', '-e', code], { cwd: app });
    expect(r.status === 0 && r.out.includes('esm ok'), r.out);
  });

  const subpaths = Object.keys(pkg.exports).filter((k) => k !== './package.json').map((k) => (k === '.' ? pkg.name : `${pkg.name}/${k.slice(2)}`));
  step(`require from CommonJS (${subpaths.length} entry points)`, () => {
    const code = `for (const id of ${JSON.stringify(subpaths)}) if (Object.keys(require(id)).length === 0) { console.log('empty: ' + id); process.exit(3); }\n` +
      "const cg = require('conda-gateway'); const s = require('conda-gateway/session');\n" +
      "if (typeof cg.download !== 'function' || typeof s.createSession !== 'function') process.exit(3);\n" +
      "console.log('cjs ok');";
    const r = run(process.execPath, ['--no-warnings', '-e', code], { cwd: app });
    expect(r.status === 0 && r.out.includes('cjs ok'), r.out);
  });

  const bin = join(app, 'node_modules', '.bin', 'conda-gateway');
  step('conda-gateway --version', () => {
    const r = run(bin, ['--version'], { cwd: app });
    expect(r.status === 0 && r.stdout.trim().endsWith(pkg.version), r.out);
  });

  step('conda-gateway demo', () => {
    const r = run(bin, ['demo'], { cwd: app, env: { ...process.env, CONDA_GATEWAY_NO_PROGRESS: '1' } });
    expect(r.status === 0 && /everything verified/.test(r.out), r.out);
  });

  for (const [url, dep] of [['s3://bucket/noarch/repodata.json', '@aws-sdk/client-s3'], ['ftp://127.0.0.1:9/noarch/repodata.json', 'basic-ftp']]) {
    step(`${url.split(':')[0]}:// without its optional peer names the install command`, () => {
      const r = run(bin, ['download', url, '-o', join(work, 'out.json'), '--json'], {
        cwd: app, env: { PATH: process.env.PATH, HOME: work, CONDA_GATEWAY_NO_PROGRESS: '1' },
      });
      expect(r.status === 2 && r.out.includes('CG_DEPENDENCY_MISSING') && r.out.includes(`npm install ${dep}`), `exit ${r.status}: ${r.out}`);
    });
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(failures ? `${failures} package check(s) failed` : 'package checks passed');
process.exit(failures ? 1 : 0);
