/**
 * One cached index on disk (conda's RepodataCache): `<key>.json` (or `.msgpack.zst`) plus
 * `<key>.info.json`. Data is written to `<key>.cg-<8 hex>.tmp` and renamed into place, then the
 * state is rewritten in place, both under conda's byte-21 lock on the state file. A state whose
 * mtime_ns/size disagree with the data file is not trusted.
 */
import { randomBytes } from 'node:crypto';
import { open, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { GatewayError, isGatewayError } from '../errors/gateway-error.js';
import { basename, dirname, join } from 'node:path';
import { checkLockCheck, lockFile, type LockedFile } from '../core/file-lock.js';
import type { CachePaths } from './cache-key.js';
import { emptyState, nowNs, parseState, serializeState, withRecordCount, type RepodataState } from './cache-state.js';

export interface CacheOptions {
  noLock?: boolean;
  signal?: AbortSignal;
  lockTimeoutMs?: number;
  log?: (message: string) => void;
}

/** How long conda's temp file must have been left untouched before we take it for orphaned. */
export const CONDA_TEMP_GRACE_MS = 10_000;

export type CachedData =
  | { trusted: true; bytes: Buffer }
  /** `exists`: a data file is there but does not match the state (or is unreadable). */
  | { trusted: false; exists: boolean };

export class RepodataCache {
  constructor(readonly paths: CachePaths, readonly options: CacheOptions = {}) {}

  /** The state, or an empty one when the file is missing or not one JSON object (conda's load_state). */
  async loadState(url: string): Promise<RepodataState> {
    let text: string;
    try {
      text = await readFile(this.paths.state, 'utf8');
    } catch {
      return emptyState(url);
    }
    try {
      const { state, warnings } = parseState(text);
      for (const w of warnings) this.options.log?.(`${this.paths.state}: ${w}`);
      return state;
    } catch {
      if (text.length > 0) this.options.log?.(`JSONDecodeError loading ${this.paths.state}; starting afresh`);
      return emptyState(url);
    }
  }

  /** Whether the data file exists and matches the state, from its stat alone (nothing is read). */
  async probe(state: RepodataState): Promise<{ trusted: boolean; exists: boolean }> {
    const st = await stat(this.paths.data, { bigint: true }).catch(() => undefined);
    if (!st) return { trusted: false, exists: false };
    return { trusted: matches(st, state), exists: true };
  }

  /** The data bytes when the file matches the state's mtime_ns and size (read through one fd). */
  async readData(state: RepodataState): Promise<CachedData> {
    let handle;
    try {
      handle = await open(this.paths.data, 'r');
    } catch {
      return { trusted: false, exists: false };
    }
    try {
      const st = await handle.stat({ bigint: true });
      if (!matches(st, state)) return { trusted: false, exists: true };
      const bytes = await handle.readFile();
      if (bytes.length !== state.size) return { trusted: false, exists: true };
      return { trusted: true, bytes };
    } catch {
      return { trusted: false, exists: true };
    } finally {
      await handle.close().catch(() => undefined);
    }
  }

  /**
   * Whether the data file matches the state and looks like one whole JSON object (its first
   * and last non-blank bytes are `{` and `}`): enough to serve a hit without reading it all,
   * since what we write was validated on the way in. A truncated or overwritten file fails.
   */
  async looksWhole(state: RepodataState): Promise<boolean> {
    let handle;
    try {
      handle = await open(this.paths.data, 'r');
    } catch {
      return false;
    }
    try {
      const st = await handle.stat({ bigint: true });
      if (!matches(st, state)) return false;
      const size = Number(st.size);
      const edge = Buffer.alloc(Math.min(size, 4096));
      await handle.read(edge, 0, edge.length, 0);
      const first = edge.toString('latin1').trimStart()[0];
      await handle.read(edge, 0, edge.length, size - edge.length);
      const last = edge.toString('latin1').trimEnd().at(-1);
      return first === '{' && last === '}';
    } catch {
      return false;
    } finally {
      await handle.close().catch(() => undefined);
    }
  }

  /** The data file whatever its stat (offline use of a cache whose state does not match). */
  async readUntrusted(): Promise<Buffer | undefined> {
    return readFile(this.paths.data).catch(() => undefined);
  }

  /** As text: the bytes are dropped as soon as they are decoded, before the parse needs memory. */
  readTemp(tempPath: string): Promise<string> {
    return readFile(tempPath, 'utf8');
  }

  async discardTemp(tempPath: string): Promise<void> {
    await unlink(tempPath).catch(() => undefined);
  }

  async dataExists(): Promise<boolean> {
    return stat(this.paths.data).then((s) => s.isFile(), () => false);
  }

  /**
   * A fresh temp name next to the data file: `<key>.cg-<8 hex>.tmp`, written only under
   * fetchLock(), so a later holder of the lock knows no live writer owns one. (conda's own
   * are `<key>.<4 hex>.tmp`, written without our lock.)
   */
  tempPath(): string {
    return `${this.paths.base}.cg-${randomBytes(4).toString('hex')}.tmp`;
  }

  /** Serialises fetches of this index across processes (held over the network transfer). */
  fetchLock(): Promise<LockedFile> {
    return lockNoSymlink(`${this.paths.base}.fetch.lock`, this.lockOptions());
  }

  /**
   * `quick()` without the lock; when it has no answer, `locked()` under the fetch lock, after
   * the stale temps are removed. `locked` must look at the cache again: another thread or
   * process may just have refreshed it.
   */
  underFetchLock<T>(quick: () => Promise<T | undefined>, locked: () => Promise<T>): Promise<T> {
    return checkLockCheck(quick, () => this.fetchLock(), async () => {
      await this.removeStaleTemps();
      return locked();
    });
  }

  /**
   * Delete temp files of this index that a killed writer left behind. Call only while holding
   * fetchLock(): ours (`<key>.cg-<8 hex>.tmp`) are then certainly orphaned and go at once.
   * conda writes its `<key>.<4 hex>.tmp` without our lock (and renames it at once), so one of
   * those goes only when untouched for `condaGraceMs`. With no_lock nothing is deleted.
   * Returns the names removed.
   */
  async removeStaleTemps(condaGraceMs = CONDA_TEMP_GRACE_MS): Promise<string[]> {
    if (this.options.noLock) return [];
    const dir = dirname(this.paths.base);
    const key = escapeRegExp(basename(this.paths.base));
    const ours = new RegExp(`^${key}\\.cg-[0-9a-f]{8}\\.tmp$`);
    const condas = new RegExp(`^${key}\\.[0-9a-f]{4}\\.tmp$`);
    const names = await readdir(dir).catch(() => [] as string[]);
    const removed: string[] = [];
    for (const name of names) {
      const mine = ours.test(name);
      if (!mine && !condas.test(name)) continue;
      const path = join(dir, name);
      const st = await stat(path).catch(() => undefined);
      if (!st?.isFile() || (!mine && Date.now() - st.mtimeMs < condaGraceMs)) continue;
      try {
        await unlink(path);
        removed.push(name);
      } catch {
        // Gone already (another cleaner) or not ours to delete: either way nothing to do.
      }
    }
    if (removed.length > 0) this.options.log?.(`removed ${removed.length} stale temp file(s) of ${basename(this.paths.base)}: ${removed.join(', ')}`);
    return removed;
  }

  /** Write `text` to a temp file and commit it. */
  async save(text: string | Buffer, state: RepodataState): Promise<RepodataState> {
    const temp = this.tempPath();
    try {
      await writeFile(temp, text, { flag: 'wx' });
      return await this.commit(temp, state);
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  /** Rename a finished temp file onto the data file, then record its stat (and `records`, when known) in the state. */
  async commit(tempPath: string, state: RepodataState, records?: number): Promise<RepodataState> {
    return this.withStateLock(async (lock) => {
      const st = await stat(tempPath, { bigint: true });
      let next: RepodataState = { ...state, mtime_ns: st.mtimeNs, size: Number(st.size), refresh_ns: nowNs() };
      if (records !== undefined) next = withRecordCount(next, records);
      await rename(tempPath, this.paths.data);
      await writeStateTo(lock, next);
      return next;
    });
  }

  /** A 304 (or a confirmed empty answer): only refresh_ns changes. */
  async refresh(state: RepodataState): Promise<RepodataState> {
    return this.writeState({ ...state, refresh_ns: nowNs() });
  }

  async writeState(state: RepodataState): Promise<RepodataState> {
    return this.withStateLock(async (lock) => {
      await writeStateTo(lock, state);
      return state;
    });
  }

  private lockOptions() {
    return { noLock: this.options.noLock, signal: this.options.signal, timeoutMs: this.options.lockTimeoutMs };
  }

  private async withStateLock<T>(fn: (lock: LockedFile) => Promise<T>): Promise<T> {
    const lock = await lockNoSymlink(this.paths.state, this.lockOptions());
    try {
      return await fn(lock);
    } finally {
      await lock.release();
    }
  }
}

/** A planted symlink in the cache directory: we never open or write through one. */
function symlinkRefused(path: string): GatewayError {
  return new GatewayError(`Refusing to write through a symbolic link in the repodata cache: ${path}`, {
    code: 'CG_FILESYSTEM', details: { path },
    hint: `Remove ${path}: the cache's .info.json and lock files are regular files, and a link there could make us write elsewhere.`,
  });
}

/** lockFile() for the state and lock files, refusing (never replacing or following) a planted link. */
async function lockNoSymlink(path: string, options: Parameters<typeof lockFile>[1]): Promise<LockedFile> {
  try {
    return await lockFile(path, { ...options, replacePlanted: false });
  } catch (err) {
    if (isGatewayError(err) && err.code === 'CG_UNSAFE_PATH') throw symlinkRefused(path);
    throw err;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function matches(st: import('node:fs').BigIntStats, state: RepodataState): boolean {
  if (!st.isFile() || (state.size === 0 && state.mtime_ns === 0n)) return false;
  return st.mtimeNs === state.mtime_ns && st.size === BigInt(state.size);
}

/**
 * conda rewrites the state in place through the handle it locked; renaming a new file over it
 * would let a conda process waiting on the old inode write into a file nobody reads.
 */
async function writeStateTo(lock: LockedFile, state: RepodataState): Promise<void> {
  const buf = Buffer.from(serializeState(state));
  await lock.handle.truncate(0);
  await lock.handle.write(buf, 0, buf.length, 0);
}
