/**
 * Extraction cross-checked against conda-package-handling: packages built by `cph create`
 * in both formats, extracted by us and by `cph extract`, compared byte for byte and mode
 * for mode (our repodata_record.json aside).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { extractPackage } from '../../../src/packages/extract/extract-package.js';
import { CPH_MISSING, cphCreate, cphExtract, hasTool, writePackageTree, type TreeFile } from '../../helpers/conda-packages.js';
import { bytes, md5, sha256, tempDir } from '../../helpers/fs.js';
import { snapshotTree } from '../../helpers/tree.js';
import { feedStreamed } from '../../helpers/stream-feed.js';

const FILES: TreeFile[] = [
  { path: 'bin/tool', data: '#!/bin/sh\necho tool\n', mode: 0o755 },
  { path: 'bin/readonly-exec', data: '#!/bin/sh\n', mode: 0o555 },
  { path: 'lib/libdemo.so.1.2', data: bytes(300_000, 7), mode: 0o755 },
  { path: 'lib/libdemo.so.1', symlink: 'libdemo.so.1.2' },
  { path: 'lib/libdemo.so', symlink: 'libdemo.so.1' },
  { path: 'lib/python3.12/site-packages/demo/__init__.py', data: 'VERSION = "1.0"\n' },
  { path: 'lib/python3.12/site-packages/demo/data/empty.txt', data: '' },
  { path: 'share/doc/demo/README', data: bytes(5_000, 3), mode: 0o444 },
  { path: 'share/doc/demo/README.copy', hardlink: 'share/doc/demo/README' },
  { path: 'share/démo/ünïcode name.txt', data: 'ü\n' },
  { path: 'etc/demo.conf', data: 'x=1\n', mode: 0o600 },
];

for (const ext of ['.conda', '.tar.bz2'] as const) for (const streamedPath of [false, true]) {
  test(`${ext}${streamedPath ? ' (streamed while downloading)' : ''}: what we extract equals what cph extracts, byte for byte and mode for mode`, async (t) => {
    if (!hasTool('cph', ['--version'])) return t.skip(CPH_MISSING);
    const dir = await tempDir(t);
    const stem = 'demo-1.0-h1234_0';
    await writePackageTree(join(dir, 'src'), { name: 'demo', version: '1.0', build: 'h1234_0', subdir: 'linux-64' }, FILES);
    const archive = cphCreate(join(dir, 'src'), join(dir, 'out'), `${stem}${ext}`);
    const pkgs = join(dir, 'pkgs');
    await mkdir(pkgs);
    await copyFile(archive, join(pkgs, `${stem}${ext}`));
    const body = await readFile(archive);
    const url = `https://conda.example/chan/linux-64/${stem}${ext}`;
    const pkg = { url, fileName: `${stem}${ext}`, sha256: sha256(body) };
    const streamed = streamedPath ? feedStreamed({ pkgsDir: pkgs, pkg, md5: true }, body) : undefined;
    const done = await extractPackage({ pkgsDir: pkgs, pkg, recordUrl: url, streamed });
    assert.equal(done.streamed, streamedPath, String(streamed?.failure));
    cphExtract(archive, join(dir, 'cph'));

    const ours = await snapshotTree(done.path, (rel) => rel === 'info/repodata_record.json');
    const theirs = await snapshotTree(join(dir, 'cph'));
    assert.deepEqual(ours, theirs);
    assert.equal(ours['bin/tool']?.mode, 0o755, 'executables stay executable');
    const record = JSON.parse(await readFile(join(done.path, 'info', 'repodata_record.json'), 'utf8'));
    assert.equal(record.sha256, sha256(body));
    assert.equal(record.md5, md5(body), 'md5 computed from the tarball when the spec has none');
    assert.equal(record.size, body.length);
    assert.deepEqual((await readdir(pkgs)).sort(), [stem, `${stem}${ext}`], 'no temp folder or lock file left behind');
  });
}
