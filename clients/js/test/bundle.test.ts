// The committed bundle, as a browser would run it: a classic script that
// defines `clickstream` and talks to fetch, sendBeacon and localStorage.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { createContext, runInContext } from 'node:vm';
import { FakeWindow, MemoryStorage, world } from './fakes';

const BUNDLE = readFileSync(new URL('../../../../src/clickstream/api/static/clickstream.js', import.meta.url), 'utf8');

test('the bundle defines window.clickstream and sends through fetch and sendBeacon', async () => {
  const { clock, api } = world();
  const page = new FakeWindow(clock);
  const navigator = {
    ...page.navigator,
    sendBeacon(this: unknown, url: string, body: string) {
      // Browsers throw "Illegal invocation" when sendBeacon loses its navigator.
      assert.equal(this, navigator);
      return api.beacon(url, body);
    },
  };
  const fetches: RequestInit[] = [];
  const globals = Object.assign(page, {
    navigator,
    localStorage: new MemoryStorage(),
    crypto,
    Blob,
    fetch: (url: string, init: RequestInit) => (
      fetches.push(init),
      api.post(url, init.body as string, !!init.keepalive)
    ),
  });
  const context = createContext(Object.assign(globals, { window: globals }));
  runInContext(BUNDLE, context);
  const clickstream = (context as unknown as { clickstream: Record<string, (...args: unknown[]) => unknown> })
    .clickstream;
  assert.deepEqual(Object.keys(clickstream).sort(), [
    'click',
    'flush',
    'identify',
    'init',
    'pageView',
    'qualityChange',
    'searchFilter',
    'stats',
    'trackVideo',
    'videoComplete',
  ]);

  clickstream.click('before init is ignored');
  clickstream.init({ endpoint: 'https://api.example', userId: 'user-1', flushIntervalMs: 10 });
  clickstream.click('play');
  await clock.advance(10);
  assert.equal(api.requests.length, 1);
  assert.equal(api.requests[0].url, 'https://api.example/api/v1/events/batch');
  assert.deepEqual({ ...fetches[0].headers }, { 'content-type': 'text/plain' });
  assert.deepEqual(
    api.requests[0].body.events.map((e) => [e.event_type, e.user_id]),
    [
      ['page_view', 'user-1'],
      ['click', 'user-1'],
    ],
  );

  clickstream.searchFilter('genre', 'drama');
  page.hide();
  assert.deepEqual(
    api.beacons[0].body.events.map((e) => e.event_type),
    ['search_filter_use', 'page_engagement'],
  );
});
