/**
 * Writes the demo channel's other index formats next to each `demo/channel/<subdir>/repodata.json`
 * (written by make-demo-channel.ts): `repodata.json.zst`, and sharded repodata (CEP-16):
 * `repodata_shards.msgpack.zst` plus `shards/<sha256>.msgpack.zst`, one shard per package name.
 * Needs the `zstd` CLI. Run with `npx tsx scripts/make-demo-repodata.ts`; the output is committed.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encode } from '@msgpack/msgpack';

type RawRecord = Record<string, unknown> & { name: string };
interface RawRepodata { info?: Record<string, unknown>; packages?: Record<string, RawRecord>; 'packages.conda'?: Record<string, RawRecord> }

function zstd(data: Buffer): Buffer {
  return execFileSync('zstd', ['-q', '-c', '-19', '--no-check'], { input: data, maxBuffer: 1 << 28 });
}

/** Checksums as raw bytes, as conda-index writes them into shards. */
function packRecord(rec: RawRecord): Record<string, unknown> {
  const out: Record<string, unknown> = { ...rec };
  for (const key of ['sha256', 'md5']) if (typeof out[key] === 'string') out[key] = Buffer.from(out[key] as string, 'hex');
  return out;
}

const root = new URL('../demo/channel/', import.meta.url).pathname;
for (const subdir of readdirSync(root).filter((d) => statSync(join(root, d)).isDirectory()).sort()) {
  const dir = join(root, subdir);
  const json = readFileSync(join(dir, 'repodata.json'));
  writeFileSync(join(dir, 'repodata.json.zst'), zstd(json));

  const repodata = JSON.parse(json.toString('utf8')) as RawRepodata;
  const byName = new Map<string, { packages: Record<string, unknown>; 'packages.conda': Record<string, unknown> }>();
  for (const group of ['packages', 'packages.conda'] as const) {
    for (const [fn, rec] of Object.entries(repodata[group] ?? {})) {
      const shard = byName.get(rec.name) ?? { packages: {}, 'packages.conda': {} };
      shard[group][fn] = packRecord(rec);
      byName.set(rec.name, shard);
    }
  }
  rmSync(join(dir, 'shards'), { recursive: true, force: true });
  mkdirSync(join(dir, 'shards'));
  const shards: Record<string, Buffer> = {};
  for (const name of [...byName.keys()].sort()) {
    const file = zstd(Buffer.from(encode({ ...byName.get(name), removed: [] })));
    const hash = createHash('sha256').update(file).digest();
    shards[name] = hash;
    writeFileSync(join(dir, 'shards', `${hash.toString('hex')}.msgpack.zst`), file);
  }
  const index = { version: 1, info: { base_url: '', shards_base_url: './shards/', subdir, created_at: '2026-11-25T00:00:00Z' }, shards };
  writeFileSync(join(dir, 'repodata_shards.msgpack.zst'), zstd(Buffer.from(encode(index))));
  console.log(`${subdir}: repodata.json.zst, ${byName.size} shards`);
}
