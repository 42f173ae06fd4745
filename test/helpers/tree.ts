/** A folder as a comparable map: type, permission bits, content hash or link target of every entry. */
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';

export interface TreeEntry {
  type: 'dir' | 'file' | 'symlink' | 'other';
  mode: number;
  sha256?: string;
  target?: string;
}

export async function snapshotTree(root: string, skip: (rel: string) => boolean = () => false): Promise<Record<string, TreeEntry>> {
  const out: Record<string, TreeEntry> = {};
  const walk = async (rel: string): Promise<void> => {
    for (const name of (await readdir(join(root, rel))).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      if (skip(r)) continue;
      const st = await lstat(join(root, r));
      const mode = st.mode & 0o7777;
      if (st.isSymbolicLink()) out[r] = { type: 'symlink', mode: 0, target: await readlink(join(root, r)) };
      else if (st.isDirectory()) {
        out[r] = { type: 'dir', mode };
        await walk(r);
      } else if (st.isFile()) out[r] = { type: 'file', mode, sha256: createHash('sha256').update(await readFile(join(root, r))).digest('hex') };
      else out[r] = { type: 'other', mode };
    }
  };
  await walk('');
  return out;
}
