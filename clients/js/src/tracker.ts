import { deviceOf, type NavigatorLike, regionOf } from './device';
import { createQueue } from './queue';
import { BATCH_PATH, createSender, type SenderEnv } from './sender';
import { createSessions } from './session';
import { createStore, type KeyValue } from './store';
import { uuid } from './uuid';

export interface Options {
  /** The API's base URL, e.g. "https://events.example.com"; events go to its /api/v1/events/batch. */
  endpoint: string;
  userId?: string | null;
  country?: string;
  autoPageViews?: boolean;
  sessionIdleMinutes?: number;
  sessionMaxHours?: number;
  flushIntervalMs?: number;
  maxQueueEvents?: number;
  maxQueueChars?: number;
}

type Listener = () => void;
interface Listening {
  addEventListener(type: string, listener: Listener, options?: AddEventListenerOptions): void;
  removeEventListener(type: string, listener: Listener): void;
}

/** The part of `window` the tracker uses; tests pass a fake. */
export interface WindowLike extends Listening {
  location: { href: string };
  history: { pushState(...args: never[]): void };
  navigator: NavigatorLike;
  document: Listening & { visibilityState: string; referrer: string; documentElement: { scrollHeight: number } };
  scrollY: number;
  innerHeight: number;
  setTimeout(callback: Listener, ms: number): unknown;
  setInterval(callback: Listener, ms: number): unknown;
  clearInterval(id: never): void;
}

export interface Env extends Omit<SenderEnv, 'setTimeout'> {
  window: WindowLike;
  storage?: KeyValue;
}

/** What trackVideo reads of a <video>. */
export interface VideoLike extends Listening {
  currentTime: number;
  duration: number;
  videoHeight: number;
  paused: boolean;
}

export interface Stats {
  queued: number;
  dropped: number;
  rejected: number;
}

/** Input within this long counts as the user being there. */
export const ACTIVE_MS = 30_000;
export const HEARTBEAT_MS = 10_000;
const MAX_ENGAGED_MS = 86_400_000;
const MAX_PLAYED_MS = 3_600_000;
const INPUTS = ['pointerdown', 'pointermove', 'keydown', 'scroll', 'wheel', 'touchstart'];

export type Tracker = ReturnType<typeof createTracker>;

export function createTracker(options: Options, env: Env) {
  const { window: win, now } = env;
  const doc = win.document;
  const store = createStore(env.storage);
  const queue = createQueue(store, 'cs_queue', options.maxQueueEvents || 1000, options.maxQueueChars || 500_000);
  const sender = createSender(queue, options.endpoint.replace(/\/+$/, '') + BATCH_PATH, {
    ...env,
    setTimeout: (callback, ms) => win.setTimeout(callback, ms),
  });
  const session = createSessions(
    store,
    'cs_session',
    (options.sessionIdleMinutes || 30) * 60_000,
    (options.sessionMaxHours || 24) * 3_600_000,
    now,
    uuid,
  );
  let anonymousId = store.get<string>('cs_anonymous_id');
  if (!anonymousId) store.set('cs_anonymous_id', (anonymousId = uuid()));
  let userId = options.userId || null;
  const country = options.country || regionOf(win.navigator.language) || 'unknown';
  const device = deviceOf(win.navigator);
  const flushIntervalMs = options.flushIntervalMs ?? 5000;
  let flushTimer: unknown;

  let pageViewId: string | undefined;
  let pageUrl = '';
  let engagedMs = 0;
  let countedUntil = now();
  let lastInput = countedUntil;
  let visible = doc.visibilityState != 'hidden';
  let maxScrollPct = 0;

  const href = () => win.location.href.slice(0, 8192);

  function track(eventType: string, fields: Record<string, unknown>): void {
    queue.push({
      event_id: uuid(),
      event_type: eventType,
      timestamp: new Date(now()).toISOString(),
      user_id: userId,
      country,
      device,
      anonymous_id: anonymousId,
      session_id: session(),
      page_view_id: pageViewId,
      ...fields,
    });
    flushTimer ||= win.setTimeout(() => {
      flushTimer = 0;
      sender.flush();
    }, flushIntervalMs);
  }

  // Engaged time: visible, and input within ACTIVE_MS; counted up to now.
  function countEngaged(): void {
    const at = now();
    if (visible) engagedMs += Math.max(0, Math.min(at, lastInput + ACTIVE_MS) - countedUntil);
    countedUntil = at;
  }
  function active(): void {
    countEngaged();
    lastInput = now();
  }
  function scrolled(): void {
    const height = doc.documentElement.scrollHeight;
    maxScrollPct = Math.max(
      maxScrollPct,
      height ? Math.min(100, Math.round(((win.scrollY + win.innerHeight) / height) * 100)) : 100,
    );
  }
  function reportEngagement(): void {
    countEngaged();
    if (pageViewId && engagedMs >= 1) {
      track('page_engagement', {
        page_url: pageUrl,
        engaged_ms: Math.min(Math.round(engagedMs), MAX_ENGAGED_MS),
        max_scroll_pct: maxScrollPct,
      });
      engagedMs = 0;
    }
  }

  function pageView(view: { pageUrl?: string; referrerUrl?: string } = {}): void {
    reportEngagement();
    const referrer = view.referrerUrl || (pageViewId ? pageUrl : doc.referrer);
    pageViewId = uuid();
    pageUrl = (view.pageUrl || href()).slice(0, 8192);
    maxScrollPct = 0;
    scrolled();
    active();
    track('page_view', { page_url: pageUrl, referrer_url: referrer ? referrer.slice(0, 8192) : undefined });
  }

  function hide(): void {
    reportEngagement();
    if (win.navigator.onLine !== false) sender.unload();
  }

  for (const type of INPUTS)
    win.addEventListener(type, type == 'scroll' ? () => (active(), scrolled()) : active, {
      capture: true,
      passive: true,
    });
  doc.addEventListener('visibilitychange', () => {
    countEngaged();
    visible = doc.visibilityState != 'hidden';
    if (visible) lastInput = now();
    else hide();
  });
  win.addEventListener('pagehide', hide);
  win.addEventListener('online', sender.wake);

  if (options.autoPageViews ?? true) {
    // A single-page app changes the URL through pushState and popstate; a
    // change of the fragment alone (#section) is not a new page.
    const path = () => href().split('#')[0];
    let lastPath = path();
    const navigated = () => {
      if (path() != lastPath) {
        lastPath = path();
        pageView();
      }
    };
    const history = win.history;
    const pushState = history.pushState;
    history.pushState = function (this: unknown, ...args: never[]) {
      pushState.apply(this, args);
      navigated();
    };
    win.addEventListener('popstate', navigated);
  }
  // What earlier pages left queued goes at once; this page's events wait for the timer.
  sender.flush();
  if (options.autoPageViews ?? true) pageView();

  function trackVideo(video: VideoLike, videoId: string): () => void {
    let playbackId: string | undefined;
    let playingSince = 0;
    let playedMs = 0;
    let beatTimer: unknown;
    let height = video.videoHeight;
    const quality = () => (video.videoHeight ? video.videoHeight + 'p' : undefined);
    const fields = () => ({
      video_id: videoId,
      playback_id: playbackId,
      position_s: video.currentTime || 0,
      quality: quality(),
      duration_s: video.duration >= 0 && video.duration < Infinity ? video.duration : undefined,
    });
    const clock = () => {
      if (playingSince) {
        playedMs += now() - playingSince;
        playingSince = now();
      }
    };
    const beat = () => {
      clock();
      if (playingSince) active(); // watching is being there
      if (playedMs >= 1) {
        track('video_heartbeat', { ...fields(), played_ms: Math.min(Math.round(playedMs), MAX_PLAYED_MS) });
        playedMs = 0;
      }
    };
    // Buffering stops the clock; a pause also sends the beat so far.
    const stall = () => {
      clock();
      playingSince = 0;
    };
    const stop = () => {
      stall();
      beat();
      win.clearInterval(beatTimer as never);
      beatTimer = 0;
    };
    const handlers: Record<string, Listener> = {
      playing() {
        if (!playbackId) {
          playbackId = uuid();
          track('video_start', fields());
        }
        playingSince ||= now();
        beatTimer ||= win.setInterval(beat, HEARTBEAT_MS);
      },
      waiting: stall,
      pause: stop,
      ended() {
        stop();
        videoComplete(videoId, video.duration < Infinity ? video.duration : video.currentTime);
        playbackId = undefined;
      },
      emptied() {
        // a new source: the next play is a new playback
        stop();
        playbackId = undefined;
      },
      resize() {
        // An adaptive-bitrate switch shows as a new frame height.
        const from = height;
        height = video.videoHeight;
        if (from && height && from != height) qualityChange(videoId, from + 'p', height + 'p', video.currentTime);
      },
    };
    for (const type in handlers) video.addEventListener(type, handlers[type]);
    if (!video.paused) handlers.playing();
    return () => {
      stop();
      for (const type in handlers) video.removeEventListener(type, handlers[type]);
    };
  }

  function qualityChange(videoId: string, fromQuality: string, toQuality: string, currentTimeSeconds: number): void {
    track('quality_change', {
      video_id: videoId,
      from_quality: fromQuality,
      to_quality: toQuality,
      current_time: Math.floor(currentTimeSeconds) || 0,
    });
  }
  function videoComplete(videoId: string, durationSeconds: number): void {
    track('video_complete', { video_id: videoId, duration: Math.round(durationSeconds) || 0 });
  }

  return {
    identify(id: string | null): void {
      userId = id || null;
    },
    click(element: Element | string, view: { pageUrl?: string } = {}): void {
      const name =
        typeof element == 'string'
          ? element
          : element.getAttribute('data-cs-element') || element.id || element.tagName.toLowerCase();
      track('click', { element: name.slice(0, 512), page_url: view.pageUrl || href() });
    },
    pageView,
    searchFilter(filterType: string, filterValue: string): void {
      track('search_filter_use', { filter_type: filterType, filter_value: filterValue });
    },
    qualityChange,
    videoComplete,
    trackVideo,
    flush: sender.flush,
    stats: (): Stats => ({ queued: queue.size(), dropped: queue.dropped(), rejected: sender.rejected() }),
  };
}
