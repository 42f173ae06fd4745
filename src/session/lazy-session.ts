/**
 * A session that is only built on its first request: a repodata call answered from a fresh
 * cache then never loads undici or the session stack (~60 ms of a short command's start-up).
 */
import type { Settings } from '../core/settings.js';
import type { Session, SessionOptions } from './create-session.js';
import { adapterTable, supportedSchemes } from '../adapters/registry.js';

export function lazySession(options: SessionOptions & { settings: Settings }): Session {
  let real: Promise<Session> | undefined;
  const session = (): Promise<Session> =>
    (real ??= import('./create-session.js').then(({ createSession }) => createSession(options)));
  return {
    settings: options.settings,
    // The adapter table is known without building anything (the adapters themselves load on use).
    schemes: Object.freeze(supportedSchemes(adapterTable(options.adapters))),
    fetch: async (url, init) => (await session()).fetch(url, init),
    async close() {
      if (real) await (await real).close();
    },
  };
}
