/** The one "use the caller's session, or make one for this call and close it" shape. */
import type { Settings } from '../core/settings.js';
import type { DebugLog } from '../core/types.js';
import { defaultSettings } from '../config/load-settings.js';
import type { Session } from './create-session.js';
import { lazySession } from './lazy-session.js';

export interface SessionUse {
  /** The caller's session: used as is and left open; its settings win. */
  session?: Session;
  /** @default defaultSettings() */
  settings?: Settings;
  log?: DebugLog;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * Run `fn` with the caller's session, or with a session made for this call and closed once
 * `fn` settles. The session made here is built on its first request only (a repodata call
 * answered from a fresh cache never loads the session stack), and has no retry listener of
 * its own: callers report transport retries per request (FetchInit.onRetry), the same with a
 * session of their own or a shared one.
 */
export async function withSession<T>(use: SessionUse, fn: (session: Session, settings: Settings) => Promise<T>): Promise<T> {
  if (use.session) return fn(use.session, use.session.settings);
  const settings = use.settings ?? defaultSettings();
  const session = lazySession({ settings, log: use.log, sleep: use.sleep });
  try {
    return await fn(session, settings);
  } finally {
    await session.close();
  }
}
