/**
 * The clickstream browser tracker: `clickstream.init({endpoint})` once per page,
 * then the calls below. Everything before init is ignored, so a page never
 * breaks because the tracker failed to load or was blocked.
 */
import { createTracker, type Options, type Stats, type Tracker, type VideoLike, type WindowLike } from './tracker';

export type { Options, Stats, VideoLike };

let tracker: Tracker | undefined;

export function init(options: Options): void {
  if (tracker) return;
  let storage: Storage | undefined;
  try {
    storage = localStorage; // throws where the site's storage is blocked
  } catch {}
  tracker = createTracker(options, {
    window: window as unknown as WindowLike,
    storage,
    now: Date.now,
    random: Math.random,
    // text/plain keeps the POST a "simple" cross-origin request: no preflight.
    post: (url, body, keepalive) =>
      fetch(url, { method: 'POST', body, keepalive, headers: { 'content-type': 'text/plain' } }),
    beacon: navigator.sendBeacon && ((url, body) => navigator.sendBeacon(url, body)),
  });
}

export const identify = (userId: string | null) => tracker?.identify(userId);
export const click = (element: Element | string, view?: { pageUrl?: string }) => tracker?.click(element, view);
export const pageView = (view?: { pageUrl?: string; referrerUrl?: string }) => tracker?.pageView(view);
export const searchFilter = (filterType: string, filterValue: string) => tracker?.searchFilter(filterType, filterValue);
export const qualityChange = (videoId: string, fromQuality: string, toQuality: string, currentTimeSeconds: number) =>
  tracker?.qualityChange(videoId, fromQuality, toQuality, currentTimeSeconds);
export const videoComplete = (videoId: string, durationSeconds: number) =>
  tracker?.videoComplete(videoId, durationSeconds);
export const trackVideo = (video: VideoLike, videoId: string) =>
  tracker ? tracker.trackVideo(video, videoId) : () => {};
export const flush = () => (tracker ? tracker.flush() : Promise.resolve());
export const stats = (): Stats | undefined => tracker?.stats();
