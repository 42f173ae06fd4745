/** `conda-gateway fetch` with extraction: --json reports the extraction phase and counts it; --keep-credentials is explicit. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startFileServer } from '../../helpers/servers/http.js';
import { CPH_MISSING, cphCreate, hasTool, writePackageTree } from '../../helpers/conda-packages.js';
import { sha256, tempDir } from '../../helpers/fs.js';
import { spawnCli } from '../../helpers/cli.js';

test('fetch --json: extract-start and extracted lines per package, toExtract in the plan, extracted in the summary; text summary counts them', async (t) => {
  if (!hasTool('cph', ['--version'])) return t.skip(CPH_MISSING);
  const server = await startFileServer(t);
  const dir = await tempDir(t);
  await writePackageTree(join(dir, 'src'), { name: 'cli', version: '2.0', build: '0', subdir: 'noarch' }, [{ path: 'share/x', data: 'x' }]);
  const body = await readFile(cphCreate(join(dir, 'src'), join(dir, 'out'), 'cli-2.0-0.tar.bz2'));
  server.setFile('/t/tk-s3cr3t/cf/noarch/cli-2.0-0.tar.bz2', body);
  await writeFile(join(dir, 'env.txt'), `@EXPLICIT\n${server.url}/t/tk-s3cr3t/cf/noarch/cli-2.0-0.tar.bz2#sha256:${sha256(body)}\n`);

  const json = spawnCli(['fetch', 'env.txt', '--pkgs-dir', 'pkgs', '--json'], dir);
  assert.equal(await json.exit, 0, json.stderr());
  const plan = json.lines.find((l) => l.type === 'plan') as { toExtract: number };
  assert.equal(plan.toExtract, 1);
  const types = json.lines.map((l) => l.type);
  assert.ok(types.indexOf('done') < types.indexOf('extract-start'), 'download, then extraction');
  assert.ok(types.indexOf('extract-start') < types.indexOf('extracted'));
  const extracted = json.lines.find((l) => l.type === 'extracted') as { path: string; files: number };
  assert.equal(extracted.path, join(dir, 'pkgs', 'cli-2.0-0'));
  assert.ok(extracted.files >= 3);
  const summary = json.lines.at(-1)?.summary as { extracted: number; fetched: number };
  assert.deepEqual([summary.fetched, summary.extracted], [1, 1]);
  assert.ok(!JSON.stringify(json.lines).includes('s3cr3t'));

  const text = spawnCli(['fetch', 'env.txt', '--pkgs-dir', 'pkgs'], dir);
  assert.equal(await text.exit, 0);
  assert.match(text.stderr(), /0 fetched .*1 from cache, 0 extracted, 0 failed/);

  const kept = spawnCli(['fetch', 'env.txt', '--pkgs-dir', 'kept', '--keep-credentials', '--json'], dir);
  assert.equal(await kept.exit, 0, kept.stderr());
  assert.match(await readFile(join(dir, 'kept', 'urls.txt'), 'utf8'), /\/t\/tk-s3cr3t\//);
  assert.ok(!JSON.stringify(kept.lines).includes('s3cr3t'), 'events stay masked even then');

  const noExtract = spawnCli(['fetch', 'env.txt', '--pkgs-dir', 'plain', '--no-extract', '--json'], dir);
  assert.equal(await noExtract.exit, 0);
  assert.deepEqual((await readdir(join(dir, 'plain'))).sort(), ['cli-2.0-0.tar.bz2', 'urls', 'urls.txt']);
});
