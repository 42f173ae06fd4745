/**
 * Archive entry names and link targets, checked before anything touches the disk. Pure
 * functions: they say why a name is refused, and never resolve anything on the filesystem.
 */
import { posix } from 'node:path';

export type NameCheck = { ok: true; path: string } | { ok: false; reason: string };

/**
 * The relative path an entry name stands for (`./a//b/` → `a/b`), or why it is refused:
 * absolute, a drive letter, `..`, NUL or backslash. '' is the archive root (e.g. `./`).
 */
export function checkEntryName(name: string): NameCheck {
  if (name.includes('\0')) return { ok: false, reason: 'NUL in the name' };
  if (name.includes('\\')) return { ok: false, reason: 'backslash in the name' };
  if (name.startsWith('/')) return { ok: false, reason: 'absolute path' };
  if (/^[a-zA-Z]:/.test(name)) return { ok: false, reason: 'drive-letter path' };
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) return { ok: false, reason: "'..' in the path" };
  return { ok: true, path: parts.join('/') };
}

/**
 * A symlink's target must stay inside the package folder when read from where the link
 * sits (the rule of Python's tarfile 'data' filter): no absolute target, no climbing out.
 */
export function checkSymlinkTarget(entryPath: string, target: string): NameCheck {
  if (target === '') return { ok: false, reason: 'empty symlink target' };
  if (target.includes('\0')) return { ok: false, reason: 'NUL in the link target' };
  if (target.includes('\\')) return { ok: false, reason: 'backslash in the link target' };
  if (target.startsWith('/') || /^[a-zA-Z]:/.test(target)) return { ok: false, reason: `symlink to an absolute path (${target})` };
  const resolved = posix.normalize(posix.join(posix.dirname(entryPath), target));
  if (resolved === '..' || resolved.startsWith('../')) return { ok: false, reason: `symlink pointing outside the package (${target})` };
  return { ok: true, path: resolved === '.' ? '' : resolved };
}

/** A hardlink names another entry of the same archive; the same rules as an entry name. */
export function checkHardlinkTarget(target: string): NameCheck {
  const checked = checkEntryName(target);
  if (!checked.ok) return { ok: false, reason: `hardlink target: ${checked.reason}` };
  if (checked.path === '') return { ok: false, reason: 'hardlink to the package root' };
  return checked;
}

/** Permission bits kept on disk: rwx for user, group and other; never setuid, setgid or sticky. */
export function safeMode(mode: number | undefined, fallback: number): number {
  return (mode ?? fallback) & 0o777;
}
