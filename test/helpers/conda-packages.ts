/**
 * Real conda packages for tests: a package folder built on disk, turned into `.conda` and
 * `.tar.bz2` by Debian's `cph` (conda-package-handling); and hand-made hostile archives
 * (tar-stream for the tar, the `zstd`/`bzip2` tools for compression, a small stored-zip
 * writer for `.conda`), since no honest tool writes those.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { chmod, link, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import tarStream from 'tar-stream';

export function hasTool(name: string, args: string[] = ['--version']): boolean {
  const r = spawnSync(name, args, { stdio: 'ignore' });
  return r.error === undefined && r.status === 0;
}

export const CPH_MISSING = 'cph (Debian package conda-package-handling, in .ci/apt-packages) is not installed';

export interface TreeFile {
  path: string;
  data?: Buffer | string;
  mode?: number;
  /** A symlink with this target instead of a file. */
  symlink?: string;
  /** A hardlink to this earlier path instead of a file. */
  hardlink?: string;
}

export interface PackageIndex {
  name: string;
  version: string;
  build: string;
  [key: string]: unknown;
}

/** Write a package folder: info/index.json, info/paths.json (with sizes) and the files. */
export async function writePackageTree(root: string, index: PackageIndex, files: TreeFile[]): Promise<void> {
  await mkdir(join(root, 'info'), { recursive: true });
  await writeFile(join(root, 'info', 'index.json'), JSON.stringify({ build_number: 0, depends: [], ...index }, null, 2));
  const paths: Array<Record<string, unknown>> = [];
  for (const f of files) {
    const full = join(root, f.path);
    await mkdir(dirname(full), { recursive: true });
    if (f.symlink !== undefined) {
      await symlink(f.symlink, full);
      paths.push({ _path: f.path, path_type: 'softlink' });
    } else if (f.hardlink !== undefined) {
      await link(join(root, f.hardlink), full);
      paths.push({ _path: f.path, path_type: 'hardlink', size_in_bytes: (await readFile(full)).length });
    } else {
      const data = Buffer.from(f.data ?? '');
      await writeFile(full, data);
      await chmod(full, f.mode ?? 0o644);
      paths.push({ _path: f.path, path_type: 'hardlink', size_in_bytes: data.length });
    }
  }
  await writeFile(join(root, 'info', 'paths.json'), JSON.stringify({ paths, paths_version: 1 }, null, 2));
}

/** `cph create <root> <fileName> --out-folder <outDir>`; returns the archive path. */
export function cphCreate(root: string, outDir: string, fileName: string): string {
  mkdirSync(outDir, { recursive: true });
  const r = spawnSync('cph', ['create', root, fileName, '--out-folder', outDir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cph create failed: ${r.stderr}`);
  return join(outDir, fileName);
}

export function cphExtract(archive: string, dest: string): void {
  const r = spawnSync('cph', ['extract', archive, '--dest', dest], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cph extract failed: ${r.stderr}`);
}

export interface RawEntry {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo';
  data?: Buffer | string;
  mode?: number;
  linkname?: string;
  /** Extra pax records (e.g. a path with NUL in it). */
  pax?: Record<string, string>;
}

/** A tar of exactly these entries, in this order, nothing checked. */
export async function rawTar(entries: RawEntry[]): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  const ended = new Promise<void>((resolve) => pack.on('end', () => resolve()));
  for (const e of entries) {
    const data = e.data === undefined ? undefined : Buffer.from(e.data);
    await new Promise<void>((resolve, reject) => {
      pack.entry({
        name: e.name, type: e.type ?? 'file', mode: e.mode ?? (e.type === 'directory' ? 0o755 : 0o644),
        ...(e.linkname !== undefined ? { linkname: e.linkname } : {}), ...(e.pax ? { pax: e.pax } : {}),
        ...(e.type === 'character-device' || e.type === 'block-device' ? { devmajor: 1, devminor: 3 } : {}),
      }, (data ?? (e.type === undefined || e.type === 'file' ? Buffer.alloc(0) : '')) as Buffer, (err) => (err ? reject(err) : resolve()));
    });
  }
  pack.finalize();
  await ended;
  return Buffer.concat(chunks);
}

function tool(name: string, args: string[], input: Buffer): Buffer {
  const r = spawnSync(name, args, { input, maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`${name} failed: ${r.stderr.toString()}`);
  return r.stdout;
}

export const zstd = (data: Buffer): Buffer => tool('zstd', ['-q', '-c', '-3'], data);
export const bzip2 = (data: Buffer): Buffer => tool('bzip2', ['-c', '-9'], data);

/** A stored (uncompressed) zip of these members, in order; duplicates allowed on purpose. */
export function storedZip(members: Array<{ name: string; data: Buffer }>): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const m of members) {
    const name = Buffer.from(m.name);
    const crc = crc32(m.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(m.data.length, 18);
    local.writeUInt32LE(m.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    parts.push(local, name, m.data);
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(20, 4);
    c.writeUInt16LE(20, 6);
    c.writeUInt32LE(crc, 16);
    c.writeUInt32LE(m.data.length, 20);
    c.writeUInt32LE(m.data.length, 24);
    c.writeUInt16LE(name.length, 28);
    c.writeUInt32LE(offset, 42);
    central.push(c, name);
    offset += 30 + name.length + m.data.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(members.length, 8);
  end.writeUInt16LE(members.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, cd, end]);
}

/** A `.conda` from two raw tars (info and pkg), as conda-package-handling lays it out. */
export function condaFromTars(stem: string, info: Buffer, pkg: Buffer,
  opts: { omit?: 'info' | 'pkg'; duplicate?: boolean } = {}): Buffer {
  const members: Array<{ name: string; data: Buffer }> = [{ name: 'metadata.json', data: Buffer.from('{"conda_pkg_format_version": 2}') }];
  if (opts.omit !== 'pkg') members.push({ name: `pkg-${stem}.tar.zst`, data: zstd(pkg) });
  if (opts.omit !== 'info') members.push({ name: `info-${stem}.tar.zst`, data: zstd(info) });
  if (opts.duplicate) members.push({ name: `pkg-${stem}.tar.zst`, data: zstd(pkg) });
  return storedZip(members);
}

/** The info/ entries every test package needs. */
export function infoEntries(index: PackageIndex, pathsJson?: string): RawEntry[] {
  return [
    { name: 'info/index.json', data: JSON.stringify({ build_number: 0, depends: [], ...index }) },
    ...(pathsJson !== undefined ? [{ name: 'info/paths.json', data: pathsJson }] : []),
  ];
}
