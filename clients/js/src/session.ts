import type { Store } from './store';

interface Stored {
  id: string;
  startedAt: number;
  lastAt: number;
}

/**
 * The current session id, for an event happening now. A session ends after
 * `idleMs` without an event, or `maxMs` after it began (a tab left open on a
 * TV or a kiosk would otherwise be one session for weeks). It lives in
 * localStorage, so the tabs of one site share it.
 */
export function createSessions(
  store: Store,
  key: string,
  idleMs: number,
  maxMs: number,
  now: () => number,
  newId: () => string,
): () => string {
  return () => {
    const at = now();
    let session = store.get<Stored>(key);
    // Written as "not within" so that a corrupt record (NaN) or a clock that
    // went backwards starts a new session too.
    if (!session || !(at - session.lastAt < idleMs) || !(at - session.startedAt < maxMs) || at < session.startedAt) {
      session = { id: newId(), startedAt: at, lastAt: at };
    }
    session.lastAt = at;
    store.set(key, session);
    return session.id;
  };
}
