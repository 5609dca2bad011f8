// Small fakes for the Node tests: time, localStorage, the API, the window.
import type { KeyValue } from '../src/store';
import type { HttpResponse } from '../src/sender';
import type { Env, WindowLike } from '../src/tracker';

interface Timer {
  id: number;
  at: number;
  every: number;
  callback: () => void;
}

/** Time that moves only when a test says so; timers fire in order as it passes. */
export class Clock {
  ms = Date.UTC(2026, 0, 1);
  private timers: Timer[] = [];
  private nextId = 1;

  now = (): number => this.ms;
  setTimeout = (callback: () => void, ms: number): number => this.add(callback, ms, 0);
  setInterval = (callback: () => void, ms: number): number => this.add(callback, ms, ms);
  clearInterval = (id: number): void => {
    this.timers = this.timers.filter((timer) => timer.id != id);
  };
  pending(): number {
    return this.timers.length;
  }

  /** Moves time on by `ms`, firing due timers and letting promises settle after each. */
  async advance(ms: number): Promise<void> {
    const end = this.ms + ms;
    for (;;) {
      await settle();
      const due = this.timers.filter((timer) => timer.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.ms = Math.max(this.ms, due.at);
      if (due.every) due.at += due.every;
      else this.clearInterval(due.id);
      due.callback();
    }
    this.ms = end;
    await settle();
  }

  private add(callback: () => void, ms: number, every: number): number {
    const id = this.nextId++;
    this.timers.push({ id, at: this.ms + ms, every, callback });
    return id;
  }
}

export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

export class MemoryStorage implements KeyValue {
  items = new Map<string, string>();
  failWrites = false;
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    if (this.failWrites) throw new Error('QuotaExceededError');
    this.items.set(key, value);
  }
}

export interface Request {
  url: string;
  body: { events: Record<string, unknown>[]; sent_at: string };
  keepalive: boolean;
}

type Reply = { status: number; headers?: Record<string, string>; body?: unknown } | 'network error';

/** The API: records every request and answers from a script (200 once the script runs out). */
export class FakeApi {
  requests: Request[] = [];
  beacons: Request[] = [];
  replies: Reply[] = [];
  beaconAccepts = true;

  post = async (url: string, text: string, keepalive: boolean): Promise<HttpResponse> => {
    this.requests.push({ url, body: JSON.parse(text), keepalive });
    const reply = this.replies.shift() ?? { status: 200 };
    if (reply == 'network error') throw new TypeError('Failed to fetch');
    const headers = new Map(Object.entries(reply.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    return {
      status: reply.status,
      headers: { get: (name) => headers.get(name.toLowerCase()) ?? null },
      json: async () => reply.body,
    };
  };

  beacon = (url: string, text: string): boolean => {
    if (!this.beaconAccepts) return false;
    this.beacons.push({ url, body: JSON.parse(text), keepalive: true });
    return true;
  };

  /** Every event the API received, in order (requests then beacons). */
  ids(): string[] {
    return [...this.requests, ...this.beacons].flatMap((request) =>
      request.body.events.map((event) => event.event_id as string),
    );
  }
}

export class FakeWindow extends EventTarget {
  location = { href: 'https://cinema.example/films?genre=drama' };
  navigator = {
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0',
    language: 'de-AT',
    maxTouchPoints: 0,
    onLine: true,
  };
  document = Object.assign(new EventTarget(), {
    visibilityState: 'visible',
    referrer: 'https://search.example/',
    documentElement: { scrollHeight: 4000 },
  });
  scrollY = 0;
  innerHeight = 1000;
  history = {
    pushState: (_state: unknown, _unused: string, url: string) => {
      this.location.href = new URL(url, this.location.href).href;
    },
  };
  constructor(private clock: Clock) {
    super();
  }
  setTimeout = (callback: () => void, ms: number) => this.clock.setTimeout(callback, ms);
  setInterval = (callback: () => void, ms: number) => this.clock.setInterval(callback, ms);
  clearInterval = (id: number) => this.clock.clearInterval(id);

  hide(): void {
    this.document.visibilityState = 'hidden';
    this.document.dispatchEvent(new Event('visibilitychange'));
  }
  show(): void {
    this.document.visibilityState = 'visible';
    this.document.dispatchEvent(new Event('visibilitychange'));
  }
  input(): void {
    this.dispatchEvent(new Event('pointerdown'));
  }
}

export interface World {
  clock: Clock;
  api: FakeApi;
  storage: MemoryStorage;
  window: FakeWindow;
  env: Env;
}

/** One browser page: its clock, storage, API and window (pass `storage` to share it, like tabs do). */
export function world(storage = new MemoryStorage(), clock = new Clock()): World {
  const api = new FakeApi();
  const window = new FakeWindow(clock);
  let seed = 0;
  const env: Env = {
    window: window as unknown as WindowLike,
    storage,
    now: clock.now,
    random: () => (seed = (seed * 16807 + 1) % 2147483647) / 2147483647,
    post: api.post,
    beacon: api.beacon,
  };
  return { clock, api, storage, window, env };
}
