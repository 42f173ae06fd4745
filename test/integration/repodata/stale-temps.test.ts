import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fetchRepodata } from '../../../src/index.js';
import { cachePaths } from '../../../src/repodata/index.js';
import { startFaultServer } from '../../helpers/fault-server.js';
import { tempDir } from '../../helpers/fs.js';
import { testSettings } from '../../helpers/settings.js';
import { repodataOf } from '../../unit/repodata/fixtures.js';
import { startChannelServer } from './channel-server.js';

const LINUX = repodataOf('linux-64', [{ name: 'python', version: '3.12.7', subdir: 'linux-64' }]);

async function temps(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith('.tmp')).sort();
}

test('orphaned temp files of this index are removed by the next fetch that takes the lock: ours at once, conda\'s once untouched for 10 s', async (t) => {
  const server = await startChannelServer(t);
  server.setRepodata('linux-64', LINUX);
  const cacheDir = await tempDir(t);
  const paths = cachePaths(cacheDir, `${server.url}/linux-64`);
  const other = cachePaths(cacheDir, `${server.url}/osx-64`);
  const name = (p: string) => p.slice(cacheDir.length + 1);
  const old = new Date(Date.now() - 60_000);
  // Left by killed writers: ours (just now and long ago), conda's (long ago).
  for (const [file, mtime] of [[`${paths.base}.cg-0123abcd.tmp`, undefined], [`${paths.base}.cg-deadbeef.tmp`, old], [`${paths.base}.0a1f.tmp`, old]] as const) {
    await writeFile(file, '{"half": ');
    if (mtime) await utimes(file, mtime, mtime);
  }
  // Kept: a conda writer may be live, another index's, not a temp name of ours or conda's.
  await writeFile(`${paths.base}.c0de.tmp`, '{"being written');
  for (const file of [`${other.base}.cg-0123abcd.tmp`, `${paths.base}.zzzz.tmp`]) {
    await writeFile(file, 'x');
    await utimes(file, old, old);
  }
  const logs: string[] = [];
  const result = await fetchRepodata(server.url, 'linux-64', { cacheDir, settings: testSettings(), log: (m) => logs.push(m) });
  assert.equal(result.cacheResult, 'miss');
  assert.deepEqual(await temps(cacheDir), [`${name(paths.base)}.c0de.tmp`, `${name(paths.base)}.zzzz.tmp`, `${name(other.base)}.cg-0123abcd.tmp`].sort());
  assert.ok(logs.some((l) => /removed 3 stale temp file\(s\)/.test(l)), logs.join('\n'));
});

test('with no_lock (no lock to prove no writer is live) temp files are left alone', async (t) => {
  const server = await startChannelServer(t);
  server.setRepodata('linux-64', LINUX);
  const cacheDir = await tempDir(t);
  const paths = cachePaths(cacheDir, `${server.url}/linux-64`);
  const old = new Date(Date.now() - 60_000);
  await writeFile(`${paths.base}.0a1f.tmp`, 'x');
  await utimes(`${paths.base}.0a1f.tmp`, old, old);
  await writeFile(`${paths.base}.cg-0123abcd.tmp`, 'x');
  await fetchRepodata(server.url, 'linux-64', { cacheDir, settings: testSettings({ noLock: true }) });
  assert.equal((await temps(cacheDir)).length, 2);
});

test('a fetch killed with SIGKILL mid-transfer leaves a temp file that the very next fetch removes, ending with only the index and its state', async (t) => {
  const text = JSON.stringify(repodataOf('noarch', Array.from({ length: 3000 }, (_, i) => ({ name: `p${i}`, version: '1.0', subdir: 'noarch' }))));
  const server = await startFaultServer(t, { throttle: { chunk: 8 * 1024, delayMs: 20 } });
  server.addFile('/chan/noarch/repodata.json', Buffer.from(text));
  const cacheDir = await tempDir(t);
  const channel = `${server.url}/chan`;
  const child = fileURLToPath(new URL('./fetch-child.ts', import.meta.url));
  const tsx = new URL('../../../node_modules/tsx/dist/loader.mjs', import.meta.url).href;
  const proc = spawn(process.execPath, ['--import', tsx, child, channel, 'noarch', cacheDir], { stdio: 'ignore' });
  const exited = new Promise((resolve) => proc.on('exit', resolve));
  const deadline = Date.now() + 20_000;
  while ((await temps(cacheDir).catch(() => [])).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  proc.kill('SIGKILL');
  await exited;
  assert.equal((await temps(cacheDir)).length, 1, 'the kill left the temp file');
  server.setThrottle(undefined);
  const result = await fetchRepodata(channel, 'noarch', { cacheDir, settings: testSettings({ repodataUseZst: false }) });
  assert.equal(JSON.stringify(result.repodata), JSON.stringify(JSON.parse(text)));
  const paths = cachePaths(cacheDir, `${channel}/noarch`);
  const key = paths.base.slice(cacheDir.length + 1);
  assert.deepEqual((await readdir(cacheDir)).filter((n) => !n.endsWith('.lock')).sort(), [`${key}.info.json`, `${key}.json`]);
  assert.equal(await readFile(paths.data, 'utf8'), text);
});
