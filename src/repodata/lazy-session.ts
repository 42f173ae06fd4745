/**
 * A session that is only built on its first request: a repodata call answered from a fresh
 * cache then never loads undici or the session stack (~60 ms of a short command's start-up).
 */
import type { Settings } from '../core/settings.js';
import type { Session, SessionOptions } from '../session/create-session.js';

export function lazySession(options: SessionOptions & { settings: Settings }): Session {
  let real: Promise<Session> | undefined;
  const session = (): Promise<Session> =>
    (real ??= import('../session/create-session.js').then(({ createSession }) => createSession(options)));
  return {
    settings: options.settings,
    fetch: async (url, init) => (await session()).fetch(url, init),
    async close() {
      if (real) await (await real).close();
    },
  };
}
