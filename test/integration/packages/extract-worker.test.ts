/**
 * Extraction runs in worker threads: a worker that crashes in the middle of a package, or
 * fails to load, is a typed CG_WORKER_FAILED error naming the package (never a hang), on the
 * file path and on the streamed path; the disk afterwards holds the tarball only (no temp
 * folder, no folder under the final name, no lock file); the next extraction gets a fresh
 * worker. An abort stops an extraction in a worker promptly, leaving nothing either.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { extractPackage } from '../../../src/packages/extract/extract-package.js';
import { setExtractWorkerForTesting } from '../../../src/packages/extract/extract-pool.js';
import { bzip2, condaFromTars, hasTool, infoEntries, rawTar, type RawEntry } from '../../helpers/conda-packages.js';
import { bytes, tempDir } from '../../helpers/fs.js';
import { feedStreamed } from '../../helpers/stream-feed.js';

const STEM = 'many-1.0-0';
const INDEX = { name: 'many', version: '1.0', build: '0', subdir: 'noarch' };
const TOOLS_MISSING = 'the zstd and bzip2 tools (in .ci/apt-packages) are needed to build test archives';
const toolsOk = (): boolean => hasTool('zstd', ['--version']) && hasTool('bzip2', ['--help']);

/** A package of 400 files (several MiB): long enough to be cut in the middle. */
async function placePackage(pkgs: string, ext: '.conda' | '.tar.bz2'): Promise<string> {
  const files: RawEntry[] = Array.from({ length: 400 }, (_, i) => ({ name: `lib/m${i % 20}/f${i}.py`, data: bytes(16_384, i + 1) }));
  const info = infoEntries(INDEX, JSON.stringify({ paths: [], paths_version: 1 }));
  const fileName = `${STEM}${ext}`;
  const body = ext === '.conda'
    ? condaFromTars(STEM, await rawTar(info), await rawTar(files))
    : bzip2(await rawTar([...info, ...files]));
  await writeFile(join(pkgs, fileName), body);
  return fileName;
}

const code = (err: unknown): unknown => (err as { code?: unknown }).code;

for (const [what, fixture] of [['crashes mid-package', 'crashes-mid-package.ts'], ['fails to load', 'throws-on-load.ts']] as const) {
  for (const ext of ['.conda', '.tar.bz2'] as const) {
    for (const path of ['file', 'streamed'] as const) {
      test(`an extraction worker that ${what} (${ext}, ${path} path) fails typed, leaves only the tarball, and the next worker is fresh`, async (t) => {
        if (!toolsOk()) return t.skip(TOOLS_MISSING);
        const pkgs = await tempDir(t);
        const fileName = await placePackage(pkgs, ext);
        const url = `https://conda.example/chan/noarch/${fileName}`;
        const pkg = { url, fileName };
        setExtractWorkerForTesting(new URL(`../../fixtures/extract-worker/${fixture}`, import.meta.url));
        t.after(() => setExtractWorkerForTesting(undefined));
        const streamed = path === 'streamed' ? feedStreamed({ pkgsDir: pkgs, pkg, md5: true }, await readFile(join(pkgs, fileName))) : undefined;
        await assert.rejects(extractPackage({ pkgsDir: pkgs, pkg, recordUrl: url, streamed }), (err) => {
          assert.equal(code(err), 'CG_WORKER_FAILED', String(err));
          assert.match((err as Error).message, new RegExp(`Extracting ${fileName.replace(/\./g, '\\.')} failed: the extraction worker thread`));
          return true;
        });
        if (streamed) assert.equal(code(streamed.failure), 'CG_WORKER_FAILED', String(streamed.failure));
        assert.deepEqual(await readdir(pkgs), [fileName]);
        // The real worker again: a fresh thread extracts the same tarball.
        setExtractWorkerForTesting(undefined);
        const done = await extractPackage({ pkgsDir: pkgs, pkg, recordUrl: url });
        assert.equal(done.files, 402);
        assert.deepEqual((await readdir(pkgs)).sort(), [fileName, STEM].sort());
      });
    }
  }
}

for (const path of ['file', 'streamed'] as const) {
  test(`an abort stops an extraction running in a worker promptly and leaves only the tarball (${path} path)`, async (t) => {
    if (!toolsOk()) return t.skip(TOOLS_MISSING);
    const pkgs = await tempDir(t);
    const fileName = await placePackage(pkgs, '.tar.bz2');
    const url = `https://conda.example/chan/noarch/${fileName}`;
    const pkg = { url, fileName };
    const controller = new AbortController();
    const streamed = path === 'streamed'
      ? feedStreamed({ pkgsDir: pkgs, pkg, md5: true, signal: controller.signal }, await readFile(join(pkgs, fileName))) : undefined;
    const running = extractPackage({ pkgsDir: pkgs, pkg, recordUrl: url, streamed, signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    const started = performance.now();
    await assert.rejects(running, (err) => (err as Error).name === 'AbortError');
    assert.ok(performance.now() - started < 5000, 'stopped promptly');
    assert.deepEqual(await readdir(pkgs), [fileName]);
  });
}
