/** The state of one download in progress, shared by its steps. */
import type { Settings } from '../core/settings.js';
import type { GatewayError } from '../errors/gateway-error.js';
import type { SafeUrl } from '../redact/safe-url.js';
import type { Session } from '../session/create-session.js';
import type { Expected } from './checksums.js';
import type { DownloadOptions } from './types.js';

/** Internal: a failure that throws away the partial and restarts from byte 0 once. */
export class RestartFromZero extends Error {
  constructor(readonly reason: string, readonly error?: GatewayError) {
    super(reason);
  }
}

export interface Job {
  url: URL;
  safeUrl: SafeUrl;
  target: string;
  partialPath: string;
  expected: Expected;
  settings: Settings;
  session: Session;
  opts: DownloadOptions;
  started: number;
  attempts: number;
  lastProgress: number;
  /** Strong validator of the response that wrote the current partial bytes (for If-Range). */
  validator?: string;
}

export function hasChecksum(expected: Expected): boolean {
  return expected.sha256 !== undefined || expected.md5 !== undefined;
}

/** Report progress, never going backwards (a restart from byte 0 stays quiet until it passes the mark). */
export function emitProgress(job: Job, bytes: number, total: number | undefined): void {
  if (!job.opts.onProgress || bytes <= job.lastProgress) return;
  job.lastProgress = bytes;
  job.opts.onProgress(total === undefined ? { bytes } : { bytes, total });
}
