/**
 * Writes the demo channel's indexes under demo/channel: each subdir's repodata.json listing a few
 * packages of mixed sizes with their checksums. The package files themselves are not committed or
 * shipped: `conda-gateway demo` generates them (src/cli/demo/channel.ts, same deterministic bytes).
 * Run with `npx tsx scripts/make-demo-channel.ts`; the output is committed.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { demoPackageBytes } from '../src/cli/demo/channel.js';
import { join } from 'node:path';

interface DemoPackage { subdir: string; name: string; version: string; build: string; size: number; depends: string[] }

const PACKAGES: DemoPackage[] = [
  { subdir: 'noarch', name: 'demo-data', version: '1.0.0', build: 'pyhd8ed1ab_0', size: 2_200_000, depends: ['python >=3.9'] },
  { subdir: 'noarch', name: 'demo-utils', version: '0.3.1', build: 'pyhd8ed1ab_0', size: 48_000, depends: ['python >=3.9', 'demo-data'] },
  { subdir: 'noarch', name: 'tzdata-demo', version: '2026a', build: 'h0c530f3_0', size: 120_000, depends: [] },
  { subdir: 'linux-64', name: 'libdemo', version: '2.4.0', build: 'h4bc722e_1', size: 640_000, depends: [] },
  { subdir: 'linux-64', name: 'python', version: '3.12.7', build: 'h2628c8c_0_cpython', size: 1_100_000, depends: ['libdemo >=2.4', 'tzdata-demo'] },
  { subdir: 'linux-64', name: 'demo-cli', version: '1.2.0', build: 'h4bc722e_0', size: 9_000, depends: ['python >=3.12', 'demo-utils'] },
];

const root = new URL('../demo/channel/', import.meta.url).pathname;
const subdirs = ['noarch', 'linux-64', 'osx-arm64', 'win-64'];
for (const subdir of subdirs) {
  const dir = join(root, subdir);
  mkdirSync(dir, { recursive: true });
  const packages: Record<string, unknown> = {};
  for (const pkg of PACKAGES.filter((p) => p.subdir === subdir)) {
    const fn = `${pkg.name}-${pkg.version}-${pkg.build}.conda`;
    const body = demoPackageBytes(fn, pkg.size);
    packages[fn] = {
      name: pkg.name, version: pkg.version, build: pkg.build, build_number: Number(/_(\d+)$/.exec(pkg.build)?.[1] ?? 0),
      depends: pkg.depends, subdir, size: pkg.size,
      md5: createHash('md5').update(body).digest('hex'), sha256: createHash('sha256').update(body).digest('hex'),
      timestamp: 1_764_000_000_000,
    };
  }
  const repodata = { info: { subdir }, packages: {}, 'packages.conda': packages, removed: [], repodata_version: 1 };
  writeFileSync(join(dir, 'repodata.json'), `${JSON.stringify(repodata, null, 1)}\n`);
}
console.log(`demo channel written to ${root}`);
