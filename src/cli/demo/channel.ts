/**
 * The demo channel on disk. Only its indexes are shipped (demo/channel: repodata.json, .zst and
 * shards, a few KB); the package files are generated when the demo runs, from each record's file
 * name and size with the same deterministic bytes scripts/make-demo-channel.ts used, and checked
 * against the record's sha256 before anything is served.
 */
import { createHash } from 'node:crypto';
import { cp, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { demoPackages } from './types.js';

/** The shipped indexes. */
export const DEMO_INDEX_DIR = fileURLToPath(new URL('../../../demo/channel', import.meta.url));

/** Deterministic bytes for a demo package (xorshift32 seeded from the file name's sha256). */
export function demoPackageBytes(fileName: string, size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = (createHash('sha256').update(fileName).digest().readUInt32LE(0) || 1) >>> 0;
  for (let i = 0; i < size; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** Copy the indexes into `dir` and write every package they list; returns `dir`. */
export async function materializeDemoChannel(dir: string, indexDir: string = DEMO_INDEX_DIR): Promise<string> {
  await cp(indexDir, dir, { recursive: true });
  for (const pkg of await demoPackages(dir)) {
    const body = demoPackageBytes(pkg.fn, pkg.size);
    const sha256 = createHash('sha256').update(body).digest('hex');
    if (sha256 !== pkg.sha256) throw new Error(`demo channel: generated ${pkg.fn} does not match its repodata sha256`);
    await mkdir(join(dir, pkg.subdir), { recursive: true });
    await writeFile(join(dir, pkg.subdir, pkg.fn), body);
  }
  return dir;
}
