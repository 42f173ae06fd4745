/** The public shapes of download(): options, progress and result. */
import type { Settings } from '../core/settings.js';
import type { SafeUrl } from '../redact/safe-url.js';
import type { Session } from '../session/create-session.js';
import type { DebugLog, RetryEvent } from '../core/types.js';

export interface DownloadProgress {
  /** Bytes of the target present so far (resumed prefix included); never decreases. */
  bytes: number;
  /** Total size when known (expected size, Content-Length or Content-Range). */
  total?: number;
}

export interface DownloadOptions {
  md5?: string;
  sha256?: string;
  size?: number;
  onProgress?: (progress: DownloadProgress) => void;
  signal?: AbortSignal;
  /** @default defaultSettings() */
  settings?: Settings;
  /** A session to reuse (its settings win); otherwise one is made and closed. */
  session?: Session;
  onRetry?: (event: RetryEvent) => void;
  log?: DebugLog;
  /** Injectable wait between retries (tests use 0). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /**
   * Sees every received chunk at its file position, in order, before it is written: bytes not
   * yet verified (a restart shows position 0 again; a resume starts past the kept prefix).
   * Called synchronously on the data path: copy the chunk to keep it, and don't block.
   */
  onChunk?: (chunk: Uint8Array, position: number) => void;
  /**
   * Runs once the bytes this call wrote are verified and renamed onto the target, while the
   * target's lock is still held (not for a `reused` target): a step that must see this very
   * file before another process may replace it (the package cache accepts a folder extracted
   * while downloading here). If it throws, download() rejects with that error; the target stays.
   */
  whileLocked?: (result: DownloadResult) => Promise<void>;
  /** How long to wait for another writer of the same target. @default 30 minutes */
  lockTimeoutMs?: number;
}

export interface DownloadResult {
  path: string;
  url: SafeUrl;
  bytes: number;
  sha256: string;
  md5?: string;
  /** Bytes kept from an earlier partial download (0 when started fresh). */
  resumedFrom: number;
  /** Requests made (1 when nothing was retried; 0 when nothing was fetched). */
  attempts: number;
  /** True when the target already existed (or another writer finished it) and verified. */
  reused: boolean;
  /** True when no checksum was given, so only the transfer itself was checked. */
  unverified: boolean;
  elapsedMs: number;
}
