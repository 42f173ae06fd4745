/**
 * Messages between the main thread (extract-pool.ts) and an extraction worker
 * (extract-worker.ts), and how errors cross the thread boundary with their type and code:
 * a refused entry stays a PackageArchiveError naming the package and the entry.
 */
import { PackageArchiveError } from '../../errors/classes.js';
import type { DirModes } from './tar-writer.js';
import { StreamUnsupportedError } from './zip-stream.js';

/** What every job needs to know: the package, the folder to fill (it exists, empty), the decoder choice. */
export interface JobSpec {
  fileName: string;
  root: string;
  /** Archive size for the ratio cap (0 when not known yet: the cap grows with the bytes received). */
  archiveBytes: number;
  nativeTools?: boolean;
  declaredSlackBytes?: number;
}

export type ToWorker =
  /** Extract the verified tarball at `tarball`. */
  | { type: 'file'; id: number; spec: JobSpec; tarball: string }
  /** Extract from archive bytes sent in `chunk` messages, in file order. */
  | { type: 'stream'; id: number; spec: JobSpec }
  /** `received`: archive bytes the download has shown so far (the ratio cap follows it). */
  | { type: 'chunk'; id: number; buffer: ArrayBuffer; length: number; received: number }
  /** No more chunks; `rest`: the remaining bytes are read from the verified tarball from `from` on. */
  | { type: 'end'; id: number; size: number; rest?: { tarball: string; from: number } }
  /** Stop the job (its reply still comes: nothing is written after it). */
  | { type: 'cancel'; id: number; reason: string };

/** A job's outcome: what was written, or why not. */
export interface Written {
  files: number;
  bytes: number;
  dirModes: DirModes;
}

export type WireError =
  | { kind: 'archive'; message: string; code: 'CG_PACKAGE_UNSAFE' | 'CG_PACKAGE_CORRUPT'; details: Record<string, unknown> }
  | { kind: 'unsupported'; message: string }
  | { kind: 'system'; message: string; code?: string; errno?: number; syscall?: string; path?: string };

export type ToParent =
  /** Stream bytes taken by the decoders (the sender's queue shrinks by this much). */
  | { type: 'ack'; id: number; bytes: number }
  | { type: 'done'; id: number; written: Written }
  | { type: 'error'; id: number; error: WireError };

export function toWire(err: unknown): WireError {
  if (err instanceof PackageArchiveError) {
    return { kind: 'archive', message: err.message, code: err.code as 'CG_PACKAGE_UNSAFE' | 'CG_PACKAGE_CORRUPT', details: { ...err.details } };
  }
  if (err instanceof StreamUnsupportedError) return { kind: 'unsupported', message: err.message };
  const e = err as NodeJS.ErrnoException | undefined;
  return { kind: 'system', message: e?.message ?? String(err), code: e?.code, errno: e?.errno, syscall: e?.syscall, path: e?.path };
}

export function fromWire(wire: WireError): Error {
  if (wire.kind === 'archive') {
    const { package: pkg, entry, ...details } = wire.details as { package: string; entry?: string };
    return new PackageArchiveError(wire.message, { code: wire.code, package: pkg, ...(entry !== undefined ? { entry } : {}), details });
  }
  if (wire.kind === 'unsupported') return new StreamUnsupportedError(wire.message);
  const err: NodeJS.ErrnoException = new Error(wire.message);
  if (wire.code !== undefined) err.code = wire.code;
  if (wire.errno !== undefined) err.errno = wire.errno;
  if (wire.syscall !== undefined) err.syscall = wire.syscall;
  if (wire.path !== undefined) err.path = wire.path;
  return err;
}
