/**
 * Full disk: a download onto a filesystem too small for it ends with CG_DISK_FULL, leaves
 * nothing under the final name and a valid prefix in the partial; with space freed, the
 * rerun resumes from that prefix. Uses a real tmpfs where this machine lets us mount one
 * (root on Linux), else an ENOSPC injected into the file handle's writes.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { download, isGatewayError } from '../../src/index.js';
import { startFileServer } from '../helpers/servers/http.js';
import { bytes, listDir, sha256, tempDir } from '../helpers/fs.js';
import { testSettings } from '../helpers/settings.js';
import { runCli } from '../helpers/cli.js';

const SIZE = 3 * 1024 * 1024;
const SMALL_FS = '1m';
const BIG_FS = '16m';

interface SmallDisk {
  dir: string;
  kind: 'tmpfs' | 'injected ENOSPC';
  /** Give the filesystem room for the whole file. */
  grow(): Promise<void>;
}

function tryMount(dir: string, size: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A small tmpfs, or (where mounting is not allowed) a directory whose writes fail with ENOSPC past a byte budget. */
async function smallDisk(t: TestContext): Promise<SmallDisk> {
  const root = await tempDir(undefined);
  const dir = join(root, 'disk');
  await mkdir(dir);
  let mounted = false;
  // One hook, so the unmount surely runs before the directory is removed.
  t.after(async () => {
    if (mounted) execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
    await rm(root, { recursive: true, force: true });
  });
  if (process.platform === 'linux' && !process.env.CG_TEST_NO_TMPFS && tryMount(dir, SMALL_FS)) {
    mounted = true;
    return {
      dir, kind: 'tmpfs',
      async grow() {
        execFileSync('mount', ['-o', `remount,size=${BIG_FS}`, dir], { stdio: 'ignore' });
      },
    };
  }
  // Fallback: make positional writes past 1 MiB under `dir` fail as a full disk would.
  const probe = await open(join(dir, '.probe'), 'w');
  const proto = Object.getPrototypeOf(probe) as { writev: (...args: unknown[]) => Promise<unknown>; write: (...args: unknown[]) => Promise<unknown> };
  await probe.close();
  const budget = 1024 * 1024;
  const originalWritev = proto.writev;
  let full = true;
  proto.writev = async function (this: { fd: number }, buffers: unknown, position: unknown) {
    const path = await import('node:fs').then((fs) => fs.readlinkSync(`/proc/self/fd/${this.fd}`)).catch(() => '');
    const bufs = buffers as Buffer[];
    const total = bufs.reduce((n, b) => n + b.byteLength, 0);
    if (full && path.startsWith(dir) && typeof position === 'number' && position + total > budget) {
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
    }
    return originalWritev.call(this, buffers, position);
  };
  t.after(() => {
    proto.writev = originalWritev;
  });
  return {
    dir, kind: 'injected ENOSPC',
    async grow() {
      full = false;
    },
  };
}

test('a full disk ends with CG_DISK_FULL, keeps a valid prefix, and the rerun with space resumes it', async (t) => {
  const server = await startFileServer(t);
  const body = bytes(SIZE, 31);
  server.setFile('/big.conda', body);
  const disk = await smallDisk(t);
  const target = join(disk.dir, 'big.conda');
  const opts = { sha256: sha256(body), size: SIZE, settings: testSettings() };

  const err = await download(`${server.url}/big.conda`, target, opts).then(() => undefined, (e: unknown) => e);
  assert.ok(isGatewayError(err), `a typed error, got ${String(err)}`);
  assert.equal(err.code, 'CG_DISK_FULL');
  assert.equal(err.name, 'DiskFullError');
  assert.match(err.message, /No space left on device/);
  assert.match(err.hint ?? '', /Free space/);
  assert.deepEqual(await listDir(disk.dir), ['big.conda.partial'].concat(disk.kind === 'tmpfs' ? [] : ['.probe']).sort());
  const partial = await readFile(`${target}.partial`);
  assert.ok(partial.length > 0 && partial.length < SIZE);
  assert.ok(body.subarray(0, partial.length).equals(partial), 'the partial is a valid prefix');

  await disk.grow();
  const result = await download(`${server.url}/big.conda`, target, opts);
  assert.equal(result.resumedFrom, partial.length, 'the rerun resumed from the kept prefix');
  assert.deepEqual(await readFile(target), body);
  assert.equal(server.requests.at(-1)!.headers.range, `bytes=${partial.length}-`);

  const line = `disk-full (${disk.kind}): 1 run out of space → CG_DISK_FULL, 0 files under the final name, ` +
    `prefix of ${partial.length} bytes kept and valid; rerun resumed from byte ${result.resumedFrom} and verified`;
  t.diagnostic(line);
  console.log(line);
});

test('the CLI says DiskFullError with a hint and exit status 6, and the rerun resumes', async (t) => {
  const server = await startFileServer(t);
  const body = bytes(SIZE, 32);
  server.setFile('/big.conda', body);
  const disk = await smallDisk(t);
  if (disk.kind !== 'tmpfs') {
    // An injected fault lives in this process only; the CLI runs in a child.
    return t.skip('no tmpfs can be mounted here (needs root on Linux), and an injected ENOSPC cannot reach a child process');
  }
  const target = join(disk.dir, 'big.conda');
  const args = ['download', `${server.url}/big.conda`, '-o', target, '--sha256', sha256(body)];
  const full = await runCli(args);
  assert.equal(full.code, 6, full.stderr);
  assert.match(full.stderr, /DiskFullError: No space left on device/);
  assert.match(full.stderr, /hint: Free space/);
  assert.deepEqual(await listDir(disk.dir), ['big.conda.partial']);
  await disk.grow();
  const rerun = await runCli(args);
  assert.equal(rerun.code, 0, rerun.stderr);
  assert.match(rerun.stderr, /resumed from byte \d+/);
  assert.deepEqual(await readFile(target), body);
});

test('fetch into a full pkgs dir fails those packages with CG_DISK_FULL (exit 6) and the rerun with space completes the cache', async (t) => {
  const server = await startFileServer(t);
  const disk = await smallDisk(t);
  if (disk.kind !== 'tmpfs') {
    return t.skip('no tmpfs can be mounted here (needs root on Linux), and an injected ENOSPC cannot reach a child process');
  }
  const bodies = [bytes(700_000, 33), bytes(700_000, 34), bytes(700_000, 35)];
  bodies.forEach((b, i) => server.setFile(`/c/noarch/p${i}-1-0.conda`, b));
  const spec = join(disk.dir, '..', 'spec.txt');
  const { writeFile } = await import('node:fs/promises');
  await writeFile(spec, `@EXPLICIT\n${bodies.map((b, i) => `${server.url}/c/noarch/p${i}-1-0.conda#sha256:${sha256(b)}`).join('\n')}\n`);
  const args = ['fetch', '--no-extract', spec, '--pkgs-dir', disk.dir, '-j', '1'];
  const full = await runCli(args);
  assert.equal(full.code, 6, full.stderr);
  assert.match(full.stderr, /DiskFullError|No space left/);
  for (const name of await listDir(disk.dir)) {
    const i = Number(/^p(\d)-1-0\.conda$/.exec(name)?.[1] ?? -1);
    if (i >= 0) assert.deepEqual(await readFile(join(disk.dir, name)), bodies[i], `${name} is complete when present`);
  }
  await disk.grow();
  const rerun = await runCli(args);
  assert.equal(rerun.code, 0, rerun.stderr);
  for (const [i, b] of bodies.entries()) assert.deepEqual(await readFile(join(disk.dir, `p${i}-1-0.conda`)), b);
  assert.deepEqual((await listDir(disk.dir)).filter((n) => n.endsWith('.partial')), []);
});
