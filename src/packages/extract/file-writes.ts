/**
 * The cheap way to write many small files: one writev per file (or per MiB), and no chmod
 * when the umask leaves the requested mode as it is (the profile showed a write per decoder
 * chunk and a chmod per file among the largest main-thread costs of extraction).
 */
import { readFileSync, writevSync } from 'node:fs';
import { dropWritten } from '../../util/written.js';

/** Bytes gathered before one writev: most package files go to disk in one call. */
export const WRITE_BATCH_BYTES = 1 << 20;

let umaskBits: number | undefined | null = null;

/**
 * The process umask, read from /proc (Linux) without changing it: process.umask() with no
 * argument sets it twice, racing with files other threads create. undefined: not known.
 */
function umask(): number | undefined {
  if (umaskBits === null) {
    try {
      const m = /^Umask:\s*([0-7]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
      umaskBits = m ? parseInt(m[1]!, 8) : undefined;
    } catch {
      umaskBits = undefined;
    }
  }
  return umaskBits;
}

/** Whether a file created with `mode` needs a chmod to get exactly `mode` (the umask took bits away, or is unknown). */
export function needsChmod(mode: number): boolean {
  const bits = umask();
  return bits === undefined || (mode & bits) !== 0;
}

/** Write every buffer at the file's position, however the kernel splits the writev. */
export function writeAllSync(fd: number, buffers: Buffer[]): void {
  let pending = buffers;
  while (pending.length) pending = dropWritten(pending, writevSync(fd, pending));
}
