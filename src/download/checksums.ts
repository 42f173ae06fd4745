/** Expected checksums and sizes: validated up front, compared case-insensitively. */
import { createHash, type Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { CondaValueError } from '../errors/classes.js';

export interface Expected {
  md5?: string;
  sha256?: string;
  size?: number;
  /**
   * True when md5 came next to a sha256: conda then checks sha256 only (download_partial_file),
   * so a differing md5 is logged as a warning, never a failure.
   */
  md5Advisory?: boolean;
  /** An md5 that was given next to a sha256 but is not 32 hex digits: ignored, as conda ignores it. */
  ignoredMd5?: string;
}

const HEX_LENGTH = { md5: 32, sha256: 64 } as const;

/** Lower-cased hex, or a CondaValueError naming the bad value. */
export function normalizeChecksum(kind: 'md5' | 'sha256', value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' || !new RegExp(`^[0-9a-fA-F]{${HEX_LENGTH[kind]}}$`).test(value.trim())) {
    throw new CondaValueError(
      `Invalid ${kind} checksum '${String(value)}': expected ${HEX_LENGTH[kind]} hexadecimal characters.`,
      { details: { check: kind, value: String(value) } });
  }
  return value.trim().toLowerCase();
}

export function normalizeSize(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw new CondaValueError(`Invalid size '${String(value)}': expected a whole number of bytes, 0 or more.`,
      { details: { check: 'size', value: String(value) } });
  }
  return n;
}

/** Checked expectations. sha256 wins over md5 (conda): with a sha256, a malformed md5 is ignored, not an error. */
export function normalizeExpected(input: { md5?: unknown; sha256?: unknown; size?: unknown }): Expected {
  const out: Expected = {};
  const sha256 = normalizeChecksum('sha256', input.sha256);
  let md5: string | undefined;
  try {
    md5 = normalizeChecksum('md5', input.md5);
  } catch (err) {
    if (!sha256) throw err;
    out.ignoredMd5 = String(input.md5).slice(0, 100);
  }
  const size = normalizeSize(input.size);
  if (md5) out.md5 = md5;
  if (md5 && sha256) out.md5Advisory = true;
  if (sha256) out.sha256 = sha256;
  if (size !== undefined) out.size = size;
  return out;
}

/** md5 + sha256 + byte count, fed as bytes are written. */
export class Hashes {
  readonly sha256: Hash = createHash('sha256');
  readonly md5: Hash | undefined;
  bytes = 0;

  constructor(withMd5: boolean) {
    this.md5 = withMd5 ? createHash('md5') : undefined;
  }

  update(chunk: Uint8Array): void {
    this.sha256.update(chunk);
    this.md5?.update(chunk);
    this.bytes += chunk.byteLength;
  }

  digest(): { sha256: string; md5?: string } {
    const sha256 = this.sha256.digest('hex');
    return this.md5 ? { sha256, md5: this.md5.digest('hex') } : { sha256 };
  }
}

const READ_CHUNK = 1 << 20;

/** Hash the first `length` bytes of an open file (the kept prefix of a resumed download). */
export async function hashPrefix(handle: FileHandle, length: number, withMd5: boolean): Promise<Hashes> {
  const hashes = new Hashes(withMd5);
  const buffer = Buffer.allocUnsafe(Math.min(READ_CHUNK, Math.max(length, 1)));
  let position = 0;
  while (position < length) {
    const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, length - position), position);
    if (bytesRead === 0) break;
    hashes.update(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
  return hashes;
}
