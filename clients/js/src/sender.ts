import { parseRetryAfter, retryDelayMs } from './backoff';
import type { Queue, WireEvent } from './queue';

export const BATCH_PATH = '/api/v1/events/batch';
/** The API's batch limit. */
export const MAX_BATCH = 500;
/** Browsers refuse a beacon (and keepalive fetches) above 64 KiB; stay clear of it. */
export const BEACON_BYTES = 60_000;

export interface HttpResponse {
  status: number;
  headers: { get(name: string): string | null };
  json(): Promise<unknown>;
}

export interface SenderEnv {
  post(url: string, body: string, keepalive: boolean): Promise<HttpResponse>;
  /** navigator.sendBeacon; true when the browser took the data for delivery. */
  beacon?: (url: string, body: string) => boolean;
  now(): number;
  random(): number;
  setTimeout(callback: () => void, ms: number): unknown;
}

export interface Sender {
  /** Sends the queue in batches until it is empty or the API asked to wait. */
  flush(): Promise<void>;
  /** The page is going away: hand what is queued to the browser (see docs/tracker.md). */
  unload(): void;
  /** Forget the backoff (the browser is back online). */
  wake(): void;
  /** Events the API refused (422) and that were dropped. */
  rejected(): number;
}

/** Positions in the batch that a 422's FastAPI-style `detail` names (loc: body, events, INDEX, ...). */
export async function rejectedPositions(response: HttpResponse): Promise<Set<number>> {
  const positions = new Set<number>();
  try {
    for (const { loc } of ((await response.json()) as { detail: { loc: unknown[] }[] }).detail) {
      if (loc[0] == 'body' && loc[1] == 'events' && typeof loc[2] == 'number') positions.add(loc[2]);
    }
  } catch {
    // not the API's error shape: nothing is named
  }
  return positions;
}

const utf8Bytes = (text: string) => new Blob([text]).size;

export function createSender(queue: Queue, url: string, env: SenderEnv): Sender {
  let running: Promise<void> | undefined;
  let failures = 0;
  let retryAt = 0;
  let retryTimer: unknown;
  // Halved after a 413 or a 4xx that names no event, until the event the API
  // refuses travels alone and can be dropped without the others.
  let limit = MAX_BATCH;
  let rejected = 0;
  const inFlight = new Set<string>();

  const body = (events: WireEvent[]) => JSON.stringify({ events, sent_at: new Date(env.now()).toISOString() });
  const drop = (events: WireEvent[]) => {
    rejected += events.length;
    queue.remove(events);
  };

  async function send(): Promise<void> {
    for (;;) {
      if (env.now() < retryAt) return;
      const batch = queue.peek(limit, inFlight);
      if (!batch.length) return;
      let response: HttpResponse | undefined;
      for (const event of batch) inFlight.add(event.event_id);
      try {
        response = await env.post(url, body(batch), false);
      } catch {
        // offline, DNS, CORS: retried like a 5xx
      } finally {
        for (const event of batch) inFlight.delete(event.event_id);
      }
      const status = response ? response.status : 0;
      if (status >= 200 && status < 300) {
        queue.remove(batch);
        failures = 0;
        limit = MAX_BATCH;
        continue;
      }
      if (status == 422) {
        const positions = await rejectedPositions(response!);
        const named = batch.filter((_, position) => positions.has(position));
        // All or nothing: nothing of this batch was stored, the rest goes again.
        // (A detail naming only positions the batch lacks must not loop.)
        if (named.length) {
          drop(named);
          continue;
        }
      }
      if (status >= 400 && status < 500 && status != 408 && status != 429) {
        if (batch.length == 1) drop(batch);
        else limit = Math.ceil(batch.length / 2);
        continue;
      }
      const delay = retryDelayMs(
        failures++,
        env.random(),
        parseRetryAfter(response?.headers.get('retry-after'), env.now()),
      );
      retryAt = env.now() + delay;
      if (!retryTimer) {
        retryTimer = env.setTimeout(() => {
          retryTimer = undefined;
          flush();
        }, delay);
      }
      return;
    }
  }

  function flush(): Promise<void> {
    return (running ||= send().finally(() => (running = undefined)));
  }

  return {
    flush,
    unload() {
      // While backing off the API is down or the browser offline: a beacon
      // would be lost without a trace, so the events wait for the next page.
      if (env.now() < retryAt) return;
      let chunk: WireEvent[] = [];
      let bytes = 0;
      const hand = () => {
        const text = body(chunk);
        if (env.beacon ? env.beacon(url, text) : (env.post(url, text, true).catch(() => {}), true)) {
          // A beacon has no response: the browser delivers it or nobody knows.
          // Keeping the events would send each page's last batch again on the next.
          queue.remove(chunk);
        }
        chunk = [];
        bytes = 0;
      };
      for (const event of queue.peek(Infinity, inFlight)) {
        const size = utf8Bytes(JSON.stringify(event)) + 1;
        if (chunk.length && (bytes + size > BEACON_BYTES - 100 || chunk.length == MAX_BATCH)) hand();
        chunk.push(event);
        bytes += size;
      }
      if (chunk.length) hand();
    },
    wake() {
      retryAt = 0;
      flush();
    },
    rejected: () => rejected,
  };
}
