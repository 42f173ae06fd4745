/** Generated conda-forge-shaped indexes for bench/repodata.ts (cached under bench/.data). */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, createWriteStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function hex(seed: string, algo: 'sha256' | 'md5'): string {
  return createHash(algo).update(seed).digest('hex');
}

/** A repodata.json shaped like conda-forge's: mostly .conda records, realistic keys and depends. */
export async function writeRepodata(path: string, count: number): Promise<void> {
  const out = createWriteStream(path);
  const write = async (s: string): Promise<void> => {
    if (!out.write(s)) await new Promise<void>((r) => out.once('drain', () => r()));
  };
  await write('{"info":{"subdir":"linux-64"},"packages":{');
  const deps = ['python >=3.10,<3.11.0a0', 'python_abi 3.10.* *_cp310', 'libgcc >=13', 'libstdcxx >=13', 'numpy >=1.23,<3',
    'libzlib >=1.3.1,<2.0a0', 'openssl >=3.4.0,<4.0a0', '__glibc >=2.17,<3.0.a0', 'libblas >=3.9.0,<4.0a0', 'liblapack >=3.9.0,<4.0a0',
    'libcblas >=3.9.0,<4.0a0', 'libgfortran5 >=13.3.0', 'libgfortran >=13', 'libsqlite >=3.47.0,<4.0a0', 'libffi >=3.4,<4.0a0',
    'xz >=5.2.6,<6.0a0', 'bzip2 >=1.0.8,<2.0a0', 'tk >=8.6.13,<8.7.0a0', 'ncurses >=6.5,<7.0a0', 'readline >=8.2,<9.0a0'];
  for (let i = 0; i < count; i++) {
    if (i === Math.floor(count * 0.3)) await write('},"packages.conda":{');
    else if (i > 0) await write(',');
    const name = `pkg-${(i % 25000).toString(36)}-${['core', 'lib', 'py', 'tools'][i % 4]}`;
    const version = `${i % 13}.${i % 7}.${i % 31}`;
    const build = `py310h${hex(`b${i}`, 'md5').slice(0, 7)}_${i % 3}`;
    const fn = `${name}-${version}-${build}${i < count * 0.3 ? '.tar.bz2' : '.conda'}`;
    const rec = {
      build, build_number: i % 3,
      constrains: [`${name}-extras ${version}.*`, `${name}-docs >=${version}`, 'pypy <0a0', `cuda-version >=12.${i % 7},<13`],
      depends: deps.slice(0, 12 + (i % 9)).concat([`pkg-${((i * 7) % 25000).toString(36)}-core >=${i % 9}`,
        `pkg-${((i * 13) % 25000).toString(36)}-lib >=${i % 5}.${i % 3},<${(i % 5) + 1}.0a0`]),
      ...(i % 3 === 0 ? { track_features: '', python_site_packages_path: 'lib/python3.10/site-packages' } : {}),
      ...(i % 2 === 0 ? { legacy_bz2_md5: hex(`${fn}.bz2`, 'md5'), legacy_bz2_size: 9_000 + ((i * 104729) % 40_000_000) } : {}),
      license: ['BSD-3-Clause', 'MIT', 'Apache-2.0', 'LGPL-2.1-or-later'][i % 4], license_family: ['BSD', 'MIT', 'Apache', 'LGPL'][i % 4],
      md5: hex(fn, 'md5'), name, sha256: hex(fn, 'sha256'), size: 10_000 + ((i * 7919) % 50_000_000), subdir: 'linux-64',
      timestamp: 1_600_000_000_000 + i * 1000, version,
    };
    await write(`${JSON.stringify(fn)}:${JSON.stringify(rec)}`);
  }
  await write('},"removed":[],"repodata_version":1}');
  await new Promise<void>((r) => out.end(() => r()));
}

export async function ensureIndex(dataDir: string, name: string, count: number): Promise<{ json: string; zst: string }> {
  mkdirSync(dataDir, { recursive: true });
  const json = join(dataDir, `${name}-${count}.json`);
  const zst = join(dataDir, `${name}-${count}.json.zst`);
  if (!existsSync(json)) {
    console.log(`generating ${count} records into ${json} …`);
    await writeRepodata(json, count);
  }
  if (!existsSync(zst) || statSync(zst).mtimeMs < statSync(json).mtimeMs) {
    const r = spawnSync('zstd', ['-q', '-f', '-T0', '-12', json, '-o', zst]);
    if (r.status !== 0) throw new Error(`zstd failed: ${r.stderr}`);
  }
  // The bench server serves `<name>.json.zst`: this size's copy.
  copyFileSync(zst, join(dataDir, `${name}.json.zst`));
  return { json, zst };
}


/**
 * A sharded channel for the closure benchmark: 500 package names in a dependency tree 6 levels
 * deep under `root` (level sizes 1, 4, 20, 75, 150, 250), 4 records per name, in linux-64, and
 * an empty noarch. Written under `<dataDir>/sharded/<subdir>/`.
 */
export async function ensureShardTree(dataDir: string): Promise<{ dir: string; names: number; levels: number }> {
  const dir = join(dataDir, 'sharded');
  const sizes = [1, 4, 20, 75, 150, 250];
  if (!existsSync(join(dir, 'linux-64', 'repodata_shards.msgpack.zst'))) {
    const { shardedSubdir } = await import('../test/unit/repodata/fixtures.js');
    const { writeFileSync } = await import('node:fs');
    const name = (level: number, j: number): string => (level === 0 ? 'root' : `n${level}-${j}`);
    const records = sizes.flatMap((size, level) => Array.from({ length: size }, (_, j) => {
      const next = sizes[level + 1];
      const depends = next === undefined ? ['python >=3.10'] : [0, 1, 2].map((k) => `${name(level + 1, (j * 3 + k) % next)} >=1`);
      return [1, 2, 3, 4].map((v) => ({ name: name(level, j), version: `${v}.0`, subdir: 'linux-64', depends }));
    }).flat());
    for (const [subdir, recs] of [['linux-64', records], ['noarch', []]] as const) {
      for (const [path, body] of shardedSubdir(subdir, [...recs])) {
        mkdirSync(join(dir, subdir, 'shards'), { recursive: true });
        writeFileSync(join(dir, subdir, path), body);
      }
    }
  }
  return { dir, names: sizes.reduce((a, b) => a + b, 0), levels: sizes.length };
}
