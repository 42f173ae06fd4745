/**
 * What a download may replace: nothing, or a regular file. The final rename would
 * otherwise replace a device node, fifo or socket with a regular file (as root,
 * `-o /dev/null` would replace /dev/null), and a directory would fail late with a
 * misleading error. A symlink is judged by what it points at (the rename replaces the
 * link itself, never writing through it).
 */
import type { Stats } from 'node:fs';
import { lstat, stat } from 'node:fs/promises';
import { GatewayError } from '../errors/gateway-error.js';
import { UnsafePathError } from '../errors/classes.js';

function kindOf(st: { isDirectory(): boolean; isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean }): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a fifo (named pipe)';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Throws a filesystem-family error when `target` names something other than a regular file;
 * resolves to its lstat, or undefined when nothing is there.
 */
export async function assertRegularTarget(target: string, given: string = target): Promise<Stats | undefined> {
  if (/[/\\]$/.test(given)) {
    throw new GatewayError(`Cannot download to ${given}: it names a directory; give a file name.`, {
      code: 'CG_FILESYSTEM', details: { path: target }, hint: `Add a file name, e.g. ${given}file.conda.`,
    });
  }
  const link = await lstat(target).catch(() => undefined);
  if (!link) return undefined;
  const st = link.isSymbolicLink() ? await stat(target).catch(() => undefined) : link;
  if (!st || st.isFile()) return link;
  if (st.isDirectory()) {
    throw new GatewayError(`Cannot download to ${target}: it is a directory.`, {
      code: 'CG_FILESYSTEM', details: { path: target }, hint: 'Give a file name inside the directory as the target.',
    });
  }
  throw new UnsafePathError(`Refusing to download to ${target}: it is ${kindOf(st)}, not a regular file; it would be replaced.`, target, {
    hint: 'Choose a regular file as the target.',
  });
}
