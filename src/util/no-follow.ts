/**
 * Opening files we write in shared folders (a package cache other users can write to)
 * without ever writing through a symlink or hard link someone else planted there: the
 * open refuses symlinks (O_NOFOLLOW), never blocks on a fifo (O_NONBLOCK), and what was
 * opened must be a regular file with one link. A planted name can be removed and the
 * open tried again: unlinking a symlink or a hard link never touches what it points at.
 */
import type { Stats } from 'node:fs';
import { constants, type FileHandle, lstat, open, unlink } from 'node:fs/promises';
import { UnsafePathError } from '../errors/classes.js';

// Windows has no O_NOFOLLOW/O_NONBLOCK; there, creating symlinks needs privileges anyway.
const NO_FOLLOW = (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

export interface OpenNoFollowOptions {
  /** Remove a planted symlink, hard link or special file at the path and open afresh. @default false */
  replacePlanted?: boolean;
  mode?: number;
}

function unsafe(path: string, what: string): UnsafePathError {
  return new UnsafePathError(`Refusing to write ${path}: it is ${what}, which conda-gateway did not create.`, path, {
    hint: `Remove ${path} (it may have been planted to redirect a write), then run again.`,
  });
}

/** What is wrong with an opened file, or undefined when it is a plain regular file. */
function plantedKind(st: Stats): string | undefined {
  if (!st.isFile()) return 'not a regular file (a device, fifo, socket or directory)';
  if (st.nlink > 1) return 'a hard link to another file';
  return undefined;
}

/** open(path, flags) that refuses (or, with replacePlanted, removes) symlinks, hard links and special files. */
export async function openNoFollow(path: string, flags: number, options: OpenNoFollowOptions = {}): Promise<FileHandle> {
  return (await openNoFollowStat(path, flags, options)).handle;
}

/** openNoFollow(), also giving the opened file's stat (taken right after the open, as its check). */
export async function openNoFollowStat(path: string, flags: number, options: OpenNoFollowOptions = {}): Promise<{ handle: FileHandle; stat: Stats }> {
  for (let attempt = 0; ; attempt++) {
    let handle: FileHandle;
    try {
      handle = await open(path, flags | NO_FOLLOW, options.mode ?? 0o644);
    } catch (err) {
      const code = (err as { code?: string }).code;
      // ELOOP: a symlink (Linux, macOS); EMLINK: the same on FreeBSD; ENXIO: a fifo without a reader.
      if (code !== 'ELOOP' && code !== 'EMLINK' && code !== 'ENXIO' && code !== 'EISDIR') throw err;
      const st = await lstat(path).catch(() => undefined);
      const what = st?.isSymbolicLink() ? 'a symbolic link' : st?.isDirectory() ? 'a directory' : 'not a regular file';
      if (!options.replacePlanted || attempt > 0 || st?.isDirectory()) throw unsafe(path, what);
      await unlink(path);
      continue;
    }
    const st = await handle.stat().catch(() => undefined);
    const planted = st ? plantedKind(st) : 'unreadable';
    if (!planted) return { handle, stat: st! };
    await handle.close().catch(() => undefined);
    const isDir = await lstat(path).then((st) => st.isDirectory(), () => false);
    if (!options.replacePlanted || attempt > 0 || isDir) throw unsafe(path, planted);
    await unlink(path);
  }
}

/** Append text to a file in a shared folder without following a planted symlink. */
export async function appendNoFollow(path: string, text: string): Promise<void> {
  const handle = await openNoFollow(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, { replacePlanted: true });
  try {
    await handle.appendFile(text);
  } finally {
    await handle.close();
  }
}

/** Read a small file in a shared folder; a symlink, special file or missing file reads as undefined. */
export async function readNoFollow(path: string, maxBytes: number): Promise<string | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | NO_FOLLOW);
  } catch {
    return undefined;
  }
  try {
    const st = await handle.stat();
    if (!st.isFile() || st.size > maxBytes) return undefined;
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}
