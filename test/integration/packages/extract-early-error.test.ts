/**
 * A decoder that fails before the consumer listens (it is still loading its tar parser) must
 * surface as the package's typed error, never as an uncaught exception that ends the process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { forEachTar } from '../../../src/packages/extract/archive.js';
import { ByteBudget } from '../../../src/packages/extract/budget.js';
import { TarWriter } from '../../../src/packages/extract/tar-writer.js';
import { tempDir } from '../../helpers/fs.js';

for (const nativeTools of [true, false]) {
  test(`a .tar.bz2 that is not bzip2 data fails as CG_PACKAGE_CORRUPT even when the consumer attaches late (${nativeTools ? 'bzip2 program' : 'JS decoder'})`, async (t) => {
    const dir = await tempDir(t);
    const path = join(dir, 'x-1.0-0.tar.bz2');
    await writeFile(path, Buffer.alloc(4096, 7));
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown): void => { uncaught.push(err); };
    process.on('uncaughtException', onUncaught);
    t.after(() => process.off('uncaughtException', onUncaught));
    const ctx = { packageName: 'x-1.0-0.tar.bz2', budget: new ByteBudget(4096), nativeTools };
    await assert.rejects(forEachTar(path, 'x-1.0-0.tar.bz2', ctx, async (tar) => {
      await delay(300); // the decoder has failed by now
      await new TarWriter(join(dir, 'out'), { packageName: 'x-1.0-0.tar.bz2', budget: ctx.budget }).extract(tar);
    }), (err: { code?: string }) => err.code === 'CG_PACKAGE_CORRUPT');
    await delay(50);
    assert.deepEqual(uncaught, []);
  });
}
