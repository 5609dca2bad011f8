import type { Store } from './store';

/** One event as the API takes it, fields under their wire names. */
export type WireEvent = { event_id: string } & Record<string, unknown>;

export interface Queue {
  push(event: WireEvent): void;
  /** Up to `limit` of the oldest events, skipping those whose ids are in `skip`. */
  peek(limit: number, skip?: Set<string>): WireEvent[];
  remove(events: WireEvent[]): void;
  size(): number;
  /** Events this page dropped to stay within the bounds. */
  dropped(): number;
}

/**
 * The durable queue: every event waits here, in localStorage, until the API
 * accepted it, so it survives reloads, crashes and offline periods. Bounded by
 * count and by size (in UTF-16 code units, the unit of the storage quota), the
 * oldest dropped first. Tabs of one site share the queue: each change re-reads
 * and writes it in one synchronous step, and events are removed by id, so a
 * tab never overwrites what another added. Two tabs may send the same event;
 * the API and the table deduplicate on event_id.
 */
export function createQueue(store: Store, key: string, maxEvents: number, maxChars: number): Queue {
  let dropped = 0;
  const load = () => store.get<WireEvent[]>(key) || [];
  return {
    push(event) {
      const events = [...load(), event];
      let chars = JSON.stringify(events).length;
      let drop = 0;
      while (events.length - drop > maxEvents || (chars > maxChars && drop < events.length - 1)) {
        chars -= JSON.stringify(events[drop++]).length + 1;
      }
      dropped += drop;
      store.set(key, events.slice(drop));
    },
    peek: (limit, skip) =>
      load()
        .filter((event) => !skip?.has(event.event_id))
        .slice(0, limit),
    remove(events) {
      const ids = new Set(events.map((event) => event.event_id));
      store.set(
        key,
        load().filter((event) => !ids.has(event.event_id)),
      );
    },
    size: () => load().length,
    dropped: () => dropped,
  };
}
