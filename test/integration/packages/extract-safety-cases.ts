/**
 * Hostile package archives (cases shared by the native- and JS-decoder test files): each is refused with a typed error naming the package and the
 * entry, and the disk is checked afterwards: nothing outside the package folder, no
 * folder under the final name, no temp folder or lock file left. Each case runs twice: from
 * the tarball, and streamed while "downloading" (the streamed path must refuse it itself,
 * with the same code, before the fallback to the file refuses it again).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { lstat, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { extractPackage } from '../../../src/packages/extract/extract-package.js';
import { PackageArchiveError } from '../../../src/errors/classes.js';
import { bzip2, condaFromTars, hasTool, infoEntries, rawTar, type RawEntry } from '../../helpers/conda-packages.js';
import { tempDir } from '../../helpers/fs.js';
import { feedStreamed } from '../../helpers/stream-feed.js';

const STEM = 'evil-1.0-0';
const INDEX = { name: 'evil', version: '1.0', build: '0', subdir: 'noarch' };
const TOOLS_MISSING = 'the zstd and bzip2 tools (in .ci/apt-packages) are needed to build test archives';
const toolsOk = (): boolean => hasTool('zstd', ['--version']) && hasTool('bzip2', ['--help']);

interface Layout {
  base: string;
  pkgs: string;
  outside: string;
}

async function layout(t: Parameters<typeof tempDir>[0]): Promise<Layout> {
  const base = await tempDir(t);
  // Deep enough that ../.. from inside the package lands in `base`, where `outside` sits.
  const pkgs = join(base, 'a', 'pkgs');
  await mkdir(pkgs, { recursive: true });
  await mkdir(join(base, 'outside'));
  await writeFile(join(base, 'outside', 'keep.txt'), 'untouched');
  return { base, pkgs, outside: join(base, 'outside') };
}

async function place(l: Layout, ext: '.conda' | '.tar.bz2', pkgEntries: RawEntry[], opts: { omit?: 'info' | 'pkg'; duplicate?: boolean } = {}): Promise<string> {
  const info = await rawTar(infoEntries(INDEX, JSON.stringify({ paths: [], paths_version: 1 })));
  const fileName = `${STEM}${ext}`;
  const body = ext === '.conda'
    ? condaFromTars(STEM, info, await rawTar(pkgEntries), opts)
    : bzip2(await rawTar([...infoEntries(INDEX), ...pkgEntries]));
  await writeFile(join(l.pkgs, fileName), body);
  return fileName;
}

async function refused(l: Layout, fileName: string, code: 'CG_PACKAGE_UNSAFE' | 'CG_PACKAGE_CORRUPT', entry: RegExp | undefined,
  extra: { declaredSlackBytes?: number; nativeTools?: boolean; streamedPath?: boolean } = {}): Promise<void> {
  const url = `https://conda.example/chan/noarch/${fileName}`;
  const { streamedPath, ...options } = extra;
  const pkg = { url, fileName };
  const streamed = streamedPath ? feedStreamed({ pkgsDir: l.pkgs, pkg, md5: true, ...options }, await readFile(join(l.pkgs, fileName))) : undefined;
  const err = await extractPackage({ pkgsDir: l.pkgs, pkg, recordUrl: url, streamed, ...options }).then(
    () => assert.fail(`${fileName} was extracted`), (e: unknown) => e);
  if (streamed) {
    const first = streamed.failure;
    assert.ok(first instanceof PackageArchiveError, `the streamed path refused it itself, got ${String(first)}`);
    assert.equal(first.code, code, first.message);
    if (entry) assert.match(String(first.details.entry), entry, first.message);
  }
  assert.ok(err instanceof PackageArchiveError, `typed error, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  assert.equal(err.details.package, fileName);
  if (entry) assert.match(String(err.details.entry), entry, err.message);
  // The disk afterwards: only the tarball in pkgs, the outside untouched.
  assert.deepEqual(await readdir(l.pkgs), [fileName]);
  assert.deepEqual((await readdir(l.outside)).sort(), ['keep.txt']);
  assert.equal(await readFile(join(l.outside, 'keep.txt'), 'utf8'), 'untouched');
  assert.deepEqual((await readdir(l.base)).sort(), ['a', 'outside']);
  assert.deepEqual((await readdir(join(l.base, 'a'))).sort(), ['pkgs']);
}

const CASES: Array<{ what: string; entries: RawEntry[]; code: 'CG_PACKAGE_UNSAFE' | 'CG_PACKAGE_CORRUPT'; entry: RegExp }> = [
  { what: 'an absolute path', entries: [{ name: '/tmp/cg-evil-absolute', data: 'x' }], code: 'CG_PACKAGE_UNSAFE', entry: /^\/tmp\/cg-evil-absolute$/ },
  { what: "a '..' path", entries: [{ name: '../../outside/evil', data: 'x' }], code: 'CG_PACKAGE_UNSAFE', entry: /\.\.\/outside\/evil/ },
  {
    what: 'a symlink pointing outside, then a file written through it',
    entries: [{ name: 'lib/out', type: 'symlink', linkname: '../../../outside' }, { name: 'lib/out/evil', data: 'x' }],
    code: 'CG_PACKAGE_UNSAFE', entry: /^lib\/out$/,
  },
  {
    what: 'a file written through a symlink inside the package',
    entries: [{ name: 'real', type: 'directory' }, { name: 'alias', type: 'symlink', linkname: 'real' }, { name: 'alias/evil', data: 'x' }],
    code: 'CG_PACKAGE_UNSAFE', entry: /^alias\/evil$/,
  },
  { what: 'an absolute symlink', entries: [{ name: 'etc', type: 'symlink', linkname: '/etc' }], code: 'CG_PACKAGE_UNSAFE', entry: /^etc$/ },
  {
    what: 'a hardlink to a file outside',
    entries: [{ name: 'passwd', type: 'link', linkname: '../../outside/keep.txt' }], code: 'CG_PACKAGE_UNSAFE', entry: /^passwd$/,
  },
  {
    what: 'a hardlink to a file not in the archive',
    entries: [{ name: 'x', type: 'link', linkname: 'etc/passwd' }], code: 'CG_PACKAGE_UNSAFE', entry: /^x$/,
  },
  { what: 'a character device', entries: [{ name: 'dev/null', type: 'character-device' }], code: 'CG_PACKAGE_UNSAFE', entry: /^dev\/null$/ },
  { what: 'a block device', entries: [{ name: 'dev/sda', type: 'block-device' }], code: 'CG_PACKAGE_UNSAFE', entry: /^dev\/sda$/ },
  { what: 'a fifo', entries: [{ name: 'pipe', type: 'fifo' }], code: 'CG_PACKAGE_UNSAFE', entry: /^pipe$/ },
  { what: 'a backslash in a name', entries: [{ name: '..\\..\\outside\\evil', data: 'x' }], code: 'CG_PACKAGE_UNSAFE', entry: /outside/ },
  { what: 'a NUL in a name (pax path)', entries: [{ name: 'ok', data: 'x', pax: { path: 'evil\u0000.txt' } }], code: 'CG_PACKAGE_UNSAFE', entry: /evil\\u0000\.txt/ },
];

/** The refusal cases for one decoder: the zstd/bzip2 programs (default when installed) or the JS libraries. */
export function defineSafetyTests(nativeTools: boolean): void {
for (const streamedPath of [false, true]) for (const ext of ['.conda', '.tar.bz2'] as const) {
  const decoder = `${nativeTools ? 'native decoder' : 'JS decoder'}${streamedPath ? ', streamed' : ''}`;
  for (const c of CASES) {
    test(`${ext} (${decoder}) with ${c.what} is refused, nothing written outside, no folder left`, async (t) => {
      if (!toolsOk()) return t.skip(TOOLS_MISSING);
      const l = await layout(t);
      await refused(l, await place(l, ext, c.entries), c.code, c.entry, { nativeTools, streamedPath });
    });
  }

  test(`${ext} (${decoder}) with corrupt compressed data is refused as corrupt`, async (t) => {
    if (!toolsOk()) return t.skip(TOOLS_MISSING);
    const l = await layout(t);
    const fileName = await place(l, ext, [{ name: 'a', data: Buffer.alloc(300_000, 1) }]);
    const body = await readFile(join(l.pkgs, fileName));
    // Flip bytes in the middle of the compressed stream (inside the inner tarball for .conda).
    for (let i = Math.floor(body.length / 2); i < Math.floor(body.length / 2) + 64; i++) body[i] = body[i]! ^ 0x5a;
    await writeFile(join(l.pkgs, fileName), body);
    await refused(l, fileName, 'CG_PACKAGE_CORRUPT', undefined, { nativeTools, streamedPath });
  });

  test(`${ext} (${decoder}) that decompresses far beyond what info/paths.json declares is stopped early`, async (t) => {
    if (!toolsOk()) return t.skip(TOOLS_MISSING);
    const l = await layout(t);
    const zeros = Buffer.alloc(24 * 1024 * 1024);
    const paths = JSON.stringify({ paths: [{ _path: 'big', path_type: 'hardlink', size_in_bytes: 10 }], paths_version: 1 });
    const info = [...infoEntries(INDEX, paths)];
    const fileName = `${STEM}${ext}`;
    const body = ext === '.conda'
      ? condaFromTars(STEM, await rawTar(info), await rawTar([{ name: 'big', data: zeros }]))
      : bzip2(await rawTar([...info, { name: 'big', data: zeros }]));
    assert.ok(body.length < 200_000, 'a small archive');
    await writeFile(join(l.pkgs, fileName), body);
    await refused(l, fileName, 'CG_PACKAGE_CORRUPT', undefined, { declaredSlackBytes: 1024 * 1024, nativeTools, streamedPath });
  });
}
}

export function defineFormatTests(): void {
for (const streamedPath of [false, true]) {
const how = streamedPath ? ' (streamed)' : '';

test(`.conda without its pkg tarball, or its info tarball, is refused naming the missing member${how}`, async (t) => {
  if (!toolsOk()) return t.skip(TOOLS_MISSING);
  for (const omit of ['pkg', 'info'] as const) {
    const l = await layout(t);
    await refused(l, await place(l, '.conda', [{ name: 'a', data: 'x' }], { omit }), 'CG_PACKAGE_CORRUPT', new RegExp(`^${omit}-${STEM}\\.tar\\.zst$`), { streamedPath });
  }
});

test(`.conda whose zip holds the same name twice is refused${how}`, async (t) => {
  if (!toolsOk()) return t.skip(TOOLS_MISSING);
  const l = await layout(t);
  await refused(l, await place(l, '.conda', [{ name: 'a', data: 'x' }], { duplicate: true }), 'CG_PACKAGE_CORRUPT', new RegExp(`^pkg-${STEM}`), { streamedPath });
});

test(`modes are kept (exec bits) and setuid, setgid and sticky bits dropped${how}`, async (t) => {
  if (!toolsOk()) return t.skip(TOOLS_MISSING);
  for (const ext of ['.conda', '.tar.bz2'] as const) {
    const l = await layout(t);
    const fileName = await place(l, ext, [
      { name: 'bin/suid', data: '#!/bin/sh\n', mode: 0o4755 },
      { name: 'bin/sgid', data: '#!/bin/sh\n', mode: 0o2750 },
      { name: 'share/sticky', type: 'directory', mode: 0o1777 },
      { name: 'bin/plain', data: 'x', mode: 0o644 },
    ]);
    const url = `https://conda.example/chan/noarch/${fileName}`;
    const pkg = { url, fileName };
    const streamed = streamedPath ? feedStreamed({ pkgsDir: l.pkgs, pkg }, await readFile(join(l.pkgs, fileName))) : undefined;
    const done = await extractPackage({ pkgsDir: l.pkgs, pkg, recordUrl: url, streamed });
    assert.equal(done.streamed, streamedPath, String(streamed?.failure));
    const mode = async (p: string): Promise<number> => (await lstat(join(done.path, p))).mode & 0o7777;
    assert.equal(await mode('bin/suid'), 0o755);
    assert.equal(await mode('bin/sgid'), 0o750);
    assert.equal(await mode('share/sticky'), 0o777);
    assert.equal(await mode('bin/plain'), 0o644);
    assert.ok(existsSync(join(done.path, 'info', 'repodata_record.json')));
  }
});
}
}
