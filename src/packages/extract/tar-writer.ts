/**
 * Write the entries of one or more tar streams into a fresh package folder, refusing
 * anything unsafe before it reaches the disk. The folder is ours alone (a new temp
 * folder), so the map of what we created is the truth: an entry is never written through
 * a symlink, a link never leaves the folder, and nothing but files, folders and links
 * is created. Modes are kept without setuid/setgid/sticky.
 *
 * File system calls are synchronous: the writer runs in an extraction worker thread
 * (extract-pool.ts), where a sync call costs less than a round trip through the thread pool,
 * and where nothing may still be in flight once the thread has stopped (a crashed worker's
 * temp folder is removed right after).
 */
import { closeSync, constants, fchmodSync, linkSync, lstatSync, mkdirSync, openSync, symlinkSync, unlinkSync } from 'node:fs';
import { chmod } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Header as Headers } from 'tar-stream';

/** An entry's data: a readable stream of its bytes. */
type EntryData = AsyncIterable<Buffer> & { resume(): unknown };
import { PackageArchiveError } from '../../errors/classes.js';
import type { ByteBudget } from './budget.js';
import { needsChmod, writeAllSync, WRITE_BATCH_BYTES } from './file-writes.js';
import { checkEntryName, checkHardlinkTarget, checkSymlinkTarget, safeMode } from './entry-path.js';

type Kind = 'dir' | 'file' | 'symlink';

type TarStream = typeof import('tar-stream');
let tarModule: Promise<TarStream> | undefined;
function loadTar(): Promise<TarStream> {
  tarModule ??= import('tar-stream').then((m) => ((m as { default?: TarStream }).default ?? m) as TarStream);
  return tarModule;
}

/** Files this small are kept in memory when asked for (info/paths.json, info/index.json). */
const CAPTURE_LIMIT = 64 * 1024 * 1024;
const WRITE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0);

export interface TarWriterOptions {
  /** Package file name, for error messages. */
  packageName: string;
  /** Called with the text of these entries once written (e.g. info/paths.json). */
  capture?: Record<string, (text: string) => void>;
  /** Counts file bytes; a write past the declared size stops the extraction. */
  budget?: ByteBudget;
  /** Stops the extraction at the next chunk (the tar stream is destroyed with the reason). */
  signal?: AbortSignal;
}

/** Folder modes to set once everything (repodata_record.json included) is written: [relative path, mode]. */
export type DirModes = Array<[string, number]>;

export class TarWriter {
  readonly root: string;
  readonly #opts: TarWriterOptions;
  readonly #kinds = new Map<string, Kind>([['', 'dir']]);
  readonly #dirModes = new Map<string, number>();
  files = 0;
  bytes = 0;

  constructor(root: string, opts: TarWriterOptions) {
    this.root = root;
    this.#opts = opts;
  }

  #unsafe(entry: string, reason: string): PackageArchiveError {
    return new PackageArchiveError(`Refused to extract ${this.#opts.packageName}: entry '${printable(entry)}': ${reason}.`,
      { code: 'CG_PACKAGE_UNSAFE', package: this.#opts.packageName, entry: printable(entry), details: { reason } });
  }

  #corrupt(entry: string, reason: string): PackageArchiveError {
    return new PackageArchiveError(`Cannot extract ${this.#opts.packageName}: entry '${printable(entry)}': ${reason}.`,
      { code: 'CG_PACKAGE_CORRUPT', package: this.#opts.packageName, entry: printable(entry), details: { reason } });
  }

  /** Write every entry of a tar stream; rejects on the first refused entry or broken data. */
  async extract(tarBytes: Readable): Promise<void> {
    const tar = await loadTar();
    const extractor = tar.extract();
    tarBytes.on('error', (err) => extractor.destroy(err));
    tarBytes.pipe(extractor);
    const signal = this.#opts.signal;
    const onAbort = (): void => void tarBytes.destroy(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      signal?.throwIfAborted();
      if (tarBytes.errored) throw tarBytes.errored;
      for await (const entry of extractor) {
        await this.#entry(entry.header, entry as unknown as EntryData);
      }
    } catch (err) {
      tarBytes.destroy();
      extractor.destroy();
      if (err instanceof PackageArchiveError || signal?.aborted) throw err;
      const e = err as NodeJS.ErrnoException;
      if (e?.code === 'ENOSPC' || e?.code === 'EACCES' || e?.code === 'EPERM' || e?.code === 'EDQUOT' || e?.code === 'EMFILE') throw err;
      throw new PackageArchiveError(`Cannot extract ${this.#opts.packageName}: ${e?.message ?? String(err)}`,
        { code: 'CG_PACKAGE_CORRUPT', package: this.#opts.packageName, cause: err });
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** The archive's folder modes, deepest first: set last (see applyDirModes). */
  dirModes(): DirModes {
    return [...this.#dirModes].sort((a, b) => b[0].length - a[0].length);
  }

  async #entry(header: Headers, data: EntryData): Promise<void> {
    const name = header.name;
    const checked = checkEntryName(name);
    if (!checked.ok) throw this.#unsafe(name, checked.reason);
    const path = checked.path;
    switch (header.type) {
      case 'file': case 'contiguous-file': case null: case undefined:
        if (path === '') throw this.#corrupt(name, 'a file at the package root');
        this.#prepare(name, path, 'file');
        await this.#writeFile(path, header, data);
        return;
      case 'directory':
        data.resume();
        if (path === '') return;
        this.#prepare(name, path, 'dir');
        if (this.#kinds.get(path) !== 'dir') {
          mkdirSync(join(this.root, path));
          this.#kinds.set(path, 'dir');
        }
        this.#dirModes.set(path, safeMode(header.mode, 0o755) | 0o700);
        return;
      case 'symlink': {
        data.resume();
        const target = header.linkname ?? '';
        const ok = checkSymlinkTarget(path, target);
        if (!ok.ok) throw this.#unsafe(name, ok.reason);
        this.#prepare(name, path, 'symlink');
        symlinkSync(target, join(this.root, path));
        this.#kinds.set(path, 'symlink');
        return;
      }
      case 'link': {
        data.resume();
        const ok = checkHardlinkTarget(header.linkname ?? '');
        if (!ok.ok) throw this.#unsafe(name, ok.reason);
        if (this.#kinds.get(ok.path) !== 'file') {
          throw this.#unsafe(name, `hardlink to '${printable(ok.path)}', which is not a file extracted before it`);
        }
        this.#prepare(name, path, 'file');
        linkSync(join(this.root, ok.path), join(this.root, path));
        this.#kinds.set(path, 'file');
        this.files++;
        return;
      }
      default:
        data.resume();
        throw this.#unsafe(name, `${header.type ?? 'unknown'} entries are not allowed in a package`);
    }
  }

  /** Parents must be folders we made; an earlier file or link of the same name is replaced (tar semantics). */
  #prepare(name: string, path: string, kind: Kind): void {
    const parts = path.split('/');
    let prefix = '';
    for (let i = 0; i < parts.length - 1; i++) {
      prefix = prefix ? `${prefix}/${parts[i]}` : parts[i]!;
      const seen = this.#kinds.get(prefix);
      if (seen === 'dir') continue;
      if (seen === 'symlink') throw this.#unsafe(name, `written through the symlink '${printable(prefix)}'`);
      if (seen === 'file') throw this.#corrupt(name, `'${printable(prefix)}' is a file, not a folder`);
      this.#mkdirChecked(name, prefix);
    }
    const existing = this.#kinds.get(path);
    if (existing === undefined) return;
    if (existing === 'dir') {
      if (kind === 'dir') return;
      throw this.#corrupt(name, 'replaces a folder');
    }
    unlinkSync(join(this.root, path));
    this.#kinds.delete(path);
  }

  #mkdirChecked(name: string, prefix: string): void {
    try {
      mkdirSync(join(this.root, prefix));
    } catch (err) {
      // Only on a case-insensitive disk can a name we never made exist: refuse unless it is a real folder.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const st = lstatSync(join(this.root, prefix));
      if (!st.isDirectory()) throw this.#unsafe(name, `'${printable(prefix)}' collides with a link or file of another case`);
    }
    this.#kinds.set(prefix, 'dir');
  }

  async #writeFile(path: string, header: Headers, data: EntryData): Promise<void> {
    const mode = safeMode(header.mode, 0o644);
    const target = join(this.root, path);
    let fd: number;
    try {
      fd = openSync(target, WRITE_FLAGS, mode);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || code === 'ELOOP') throw this.#unsafe(path, 'collides with another entry (case-insensitive disk?)');
      throw err;
    }
    this.#kinds.set(path, 'file');
    const capture = this.#opts.capture?.[path];
    const kept: Buffer[] = [];
    let size = 0;
    let batch: Buffer[] = [];
    let batchBytes = 0;
    try {
      for await (const chunk of data) {
        if (this.#opts.budget && !this.#opts.budget.write(chunk.length)) {
          throw this.#corrupt(path, `the package writes more than info/paths.json declares (${this.#opts.budget.declared} bytes)`);
        }
        batch.push(chunk);
        batchBytes += chunk.length;
        size += chunk.length;
        if (capture && size <= CAPTURE_LIMIT) kept.push(chunk);
        if (batchBytes >= WRITE_BATCH_BYTES) {
          writeAllSync(fd, batch);
          batch = [];
          batchBytes = 0;
        }
      }
      if (batch.length) writeAllSync(fd, batch);
      this.bytes += size;
      // open()'s mode is filtered by the umask; tar (and cph) set the archive's mode exactly.
      if (needsChmod(mode)) fchmodSync(fd, mode);
    } finally {
      closeSync(fd);
    }
    this.files++;
    if (capture) capture(Buffer.concat(kept).toString('utf8'));
  }
}

/** Folder modes last, as tar does: a read-only folder would stop its own entries. */
export async function applyDirModes(root: string, modes: DirModes): Promise<void> {
  for (const [path, mode] of modes) await chmod(join(root, path), mode);
}

/** Entry names in messages: control characters shown escaped, length bounded. */
function printable(name: string): string {
  const shown = JSON.stringify(name).slice(1, -1);
  return shown.length > 300 ? `${shown.slice(0, 300)}…` : shown;
}
