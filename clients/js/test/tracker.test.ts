import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deviceOf, regionOf } from '../src/device';
import { ACTIVE_MS, createTracker, HEARTBEAT_MS, type Options, type VideoLike } from '../src/tracker';
import { uuid } from '../src/uuid';
import { MemoryStorage, settle, world } from './fakes';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const OPTIONS: Options = { endpoint: 'https://api.example/', flushIntervalMs: 1000 };

/** A page with the tracker running; `sent()` is every event the API got, in order. */
function page(options: Partial<Options> = {}, storage?: MemoryStorage) {
  const w = world(storage);
  const tracker = createTracker({ ...OPTIONS, ...options }, w.env);
  const sent = () => [...w.api.requests, ...w.api.beacons].flatMap((r) => r.body.events);
  const ofType = (type: string) => sent().filter((e) => e.event_type == type);
  return { ...w, tracker, sent, ofType };
}

test('uuid: canonical version 4 text, also without randomUUID or crypto', () => {
  assert.match(uuid(), UUID);
  const getRandomValues = crypto.getRandomValues.bind(crypto);
  assert.match(uuid({ getRandomValues }), UUID);
  assert.match(uuid(undefined), UUID);
  const seen = new Set(Array.from({ length: 1000 }, () => uuid({ getRandomValues })));
  assert.equal(seen.size, 1000);
});

test('device and country from the browser', () => {
  const device = (userAgent: string, maxTouchPoints = 0) => deviceOf({ userAgent, maxTouchPoints });
  assert.equal(device('Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148'), 'mobile');
  assert.equal(device('Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/130.0 Mobile Safari/537.36'), 'mobile');
  assert.equal(device('Mozilla/5.0 (Linux; Android 13; SM-X710) Chrome/130.0 Safari/537.36'), 'tablet');
  assert.equal(device('Mozilla/5.0 (iPad; CPU OS 16_0 like Mac OS X)'), 'tablet');
  assert.equal(device('Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) Safari/605.1.15', 5), 'tablet');
  assert.equal(device('Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) Safari/605.1.15'), 'desktop');
  assert.equal(device('Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) SamsungBrowser/4.0 TV Safari'), 'tv');
  assert.equal(device('Mozilla/5.0 (Linux; Android 9; AFTMM) Silk/100'), 'tv');
  assert.equal(device('Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/130.0'), 'desktop');
  assert.equal(regionOf('en-US'), 'US');
  assert.equal(regionOf('zh-Hant-TW'), 'TW');
  assert.equal(regionOf('pt-br'), 'BR');
  assert.equal(regionOf('en'), undefined);
  assert.equal(regionOf('es-419'), undefined);
  assert.equal(regionOf(undefined), undefined);
});

test('every event carries the common fields; anonymous until identified', async () => {
  const { clock, tracker, sent } = page();
  tracker.click('button_play');
  tracker.identify('user-7');
  tracker.searchFilter('genre', 'drama');
  await clock.advance(1000);
  const [view, click, search] = sent();
  assert.equal(view.event_type, 'page_view');
  for (const event of [view, click, search]) {
    assert.match(event.event_id as string, UUID);
    assert.equal(event.timestamp, new Date(Date.UTC(2026, 0, 1)).toISOString());
    assert.equal(event.country, 'AT');
    assert.equal(event.device, 'desktop');
    assert.match(event.anonymous_id as string, UUID);
    assert.match(event.session_id as string, UUID);
    assert.equal(event.page_view_id, view.page_view_id);
  }
  assert.equal(click.user_id, null);
  assert.ok('user_id' in click, 'user_id is a required key');
  assert.equal(search.user_id, 'user-7');
  assert.equal(click.element, 'button_play');
  assert.equal(click.page_url, 'https://cinema.example/films?genre=drama');
  assert.equal(view.referrer_url, 'https://search.example/');
  assert.deepEqual([search.filter_type, search.filter_value], ['genre', 'drama']);
});

test('country from init wins over the language; unknown without either', async () => {
  const given = page({ country: 'NZ' });
  await given.clock.advance(1000);
  assert.equal(given.sent()[0].country, 'NZ');
  const none = world();
  none.window.navigator.language = 'en';
  createTracker(OPTIONS, none.env);
  await none.clock.advance(1000);
  assert.equal(none.api.requests[0].body.events[0].country, 'unknown');
});

test('the anonymous id survives reloads; a page view id is per page view', async () => {
  const storage = new MemoryStorage();
  const first = page({}, storage);
  await first.clock.advance(1000);
  const second = page({}, storage);
  await second.clock.advance(1000);
  const [a, b] = [first.sent()[0], second.sent()[0]];
  assert.equal(a.anonymous_id, b.anonymous_id);
  assert.equal(a.session_id, b.session_id);
  assert.notEqual(a.page_view_id, b.page_view_id);
});

test('clicks take a stable name from data-cs-element, id or tag', () => {
  const { tracker, storage } = page();
  const element = (attributes: Record<string, string>, id = '') =>
    ({ getAttribute: (name: string) => attributes[name] ?? null, id, tagName: 'BUTTON' }) as unknown as Element;
  tracker.click(element({ 'data-cs-element': 'play' }, 'x'));
  tracker.click(element({}, 'submit'));
  tracker.click(element({}), { pageUrl: 'https://cinema.example/other' });
  const queued = JSON.parse(storage.getItem('cs_queue')!) as Record<string, unknown>[];
  assert.deepEqual(
    queued.slice(1).map((e) => [e.element, e.page_url]),
    [
      ['play', 'https://cinema.example/films?genre=drama'],
      ['submit', 'https://cinema.example/films?genre=drama'],
      ['button', 'https://cinema.example/other'],
    ],
  );
});

test('single-page navigation is a page view; a fragment change is not', async () => {
  const { clock, window, ofType } = page();
  window.history.pushState(null, '', '/films/42');
  window.history.pushState(null, '', '/films/42#cast');
  window.location.href = 'https://cinema.example/films?genre=drama';
  window.dispatchEvent(new Event('popstate'));
  await clock.advance(1000);
  assert.deepEqual(
    ofType('page_view').map((e) => [e.page_url, e.referrer_url]),
    [
      ['https://cinema.example/films?genre=drama', 'https://search.example/'],
      ['https://cinema.example/films/42', 'https://cinema.example/films?genre=drama'],
      ['https://cinema.example/films?genre=drama', 'https://cinema.example/films/42'],
    ],
  );
});

test('engaged time counts only while visible and within 30 s of input; sent on hide', async () => {
  const { clock, window, ofType } = page();
  await clock.advance(10_000); // active (the page just loaded)
  await clock.advance(50_000); // idle: only the first 20 s of it count
  window.input();
  await clock.advance(5_000);
  window.hide();
  await clock.advance(60_000); // hidden: nothing counts
  window.show();
  await clock.advance(ACTIVE_MS + 10_000);
  window.dispatchEvent(new Event('pagehide'));
  const engagements = ofType('page_engagement');
  assert.deepEqual(
    engagements.map((e) => e.engaged_ms),
    [ACTIVE_MS + 5_000, ACTIVE_MS],
  );
  const view = ofType('page_view')[0];
  for (const e of engagements) {
    assert.equal(e.page_view_id, view.page_view_id);
    assert.equal(e.page_url, view.page_url);
  }
});

test('max scroll percentage is the furthest point seen', async () => {
  const { clock, window, ofType } = page();
  assert.equal(ofType('page_view').length, 0);
  window.scrollY = 2000;
  window.dispatchEvent(new Event('scroll'));
  window.scrollY = 0;
  window.dispatchEvent(new Event('scroll'));
  await clock.advance(1000);
  window.hide();
  assert.equal(ofType('page_engagement')[0].max_scroll_pct, 75);
});

test('hiding the page beacons the queue; the API gets each event once', async () => {
  const { clock, window, api, tracker } = page({ flushIntervalMs: 60_000 });
  tracker.click('a');
  await clock.advance(1000);
  window.hide();
  assert.equal(api.requests.length, 0);
  assert.deepEqual(
    api.beacons[0].body.events.map((e) => e.event_type),
    ['page_view', 'click', 'page_engagement'],
  );
  await clock.advance(60_000);
  assert.equal(new Set(api.ids()).size, api.ids().length);
  assert.equal(tracker.stats().queued, 0);
});

test('offline: nothing is beaconed, the events wait in storage', async () => {
  const { clock, window, api, tracker } = page({ flushIntervalMs: 60_000 });
  await clock.advance(1000);
  window.navigator.onLine = false;
  window.hide();
  assert.equal(api.beacons.length, 0);
  assert.equal(tracker.stats().queued, 2);
});

class FakeVideo extends EventTarget implements VideoLike {
  currentTime = 0;
  duration = 600;
  videoHeight = 360;
  paused = true;
  emit(type: string): void {
    if (type == 'playing') this.paused = false;
    if (type == 'pause' || type == 'ended') this.paused = true;
    this.dispatchEvent(new Event(type));
  }
}

test('a video: start, a heartbeat every 10 s of playing, quality switches, completion', async () => {
  const { clock, tracker, ofType } = page({ flushIntervalMs: 100 });
  const video = new FakeVideo();
  tracker.trackVideo(video, 'film-1');
  video.emit('playing');
  await clock.advance(HEARTBEAT_MS * 2);
  video.currentTime = 20;
  video.emit('waiting'); // buffering for 4 s does not count
  await clock.advance(4000);
  video.emit('playing');
  await clock.advance(3000);
  video.currentTime = 23.6;
  video.emit('resize'); // the same height: not a switch
  video.videoHeight = 720;
  video.emit('resize');
  video.emit('pause');
  await clock.advance(HEARTBEAT_MS * 3); // paused: no beats
  video.emit('playing');
  await clock.advance(1000);
  video.currentTime = 600;
  video.emit('ended');
  await clock.advance(1000);

  const [start] = ofType('video_start');
  assert.equal(ofType('video_start').length, 1);
  assert.match(start.playback_id as string, UUID);
  assert.deepEqual([start.video_id, start.position_s, start.quality, start.duration_s], ['film-1', 0, '360p', 600]);
  const beats = ofType('video_heartbeat');
  assert.deepEqual(
    beats.map((b) => b.played_ms),
    [10_000, 10_000, 3000, 1000],
  );
  for (const beat of beats) assert.equal(beat.playback_id, start.playback_id);
  assert.equal(beats.at(-2)!.quality, '720p');
  assert.equal(ofType('quality_change').length, 1);
  const [change] = ofType('quality_change');
  assert.deepEqual([change.from_quality, change.to_quality, change.current_time], ['360p', '720p', 23]);
  const [complete] = ofType('video_complete');
  assert.deepEqual([complete.video_id, complete.duration], ['film-1', 600]);
});

test('a replay after the end is a new playback; untracking stops the beats', async () => {
  const { clock, tracker, ofType } = page({ flushIntervalMs: 100 });
  const video = new FakeVideo();
  const untrack = tracker.trackVideo(video, 'film-1');
  video.emit('playing');
  video.emit('ended');
  video.emit('playing');
  await clock.advance(1000);
  const starts = ofType('video_start');
  assert.equal(starts.length, 2);
  assert.notEqual(starts[0].playback_id, starts[1].playback_id);
  untrack(); // sends the beat so far
  await clock.advance(1000);
  const before = ofType('video_heartbeat').length;
  await clock.advance(HEARTBEAT_MS * 3);
  assert.equal(ofType('video_heartbeat').length, before);
  assert.equal(clock.pending(), 0);
});

test('watching a video keeps the viewer engaged without input', async () => {
  const { clock, window, tracker, ofType } = page();
  const video = new FakeVideo();
  tracker.trackVideo(video, 'film-1');
  video.emit('playing');
  await clock.advance(120_000);
  window.hide();
  assert.ok((ofType('page_engagement')[0].engaged_ms as number) >= 120_000 - HEARTBEAT_MS);
  await settle();
});
