import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createQueue, type WireEvent } from '../src/queue';
import { BEACON_BYTES, createSender, MAX_BATCH } from '../src/sender';
import { createStore } from '../src/store';
import { Clock, FakeApi, MemoryStorage, settle } from './fakes';

const URL = 'https://api.example/api/v1/events/batch';

function setup(events = 3, pad = 0) {
  const clock = new Clock();
  const api = new FakeApi();
  const queue = createQueue(createStore(new MemoryStorage()), 'q', 10_000, 50_000_000);
  for (let n = 0; n < events; n++) queue.push({ event_id: `id-${n}`, pad: 'x'.repeat(pad) });
  const sender = createSender(queue, URL, {
    post: (...args) => api.post(...args), // bound late: a test may replace api.post
    beacon: api.beacon,
    now: clock.now,
    random: () => 0,
    setTimeout: clock.setTimeout,
  });
  return { clock, api, queue, sender };
}
const ids = (events: WireEvent[] | Record<string, unknown>[]) => events.map((e) => e.event_id);

test('a 200 removes the batch; every request carries sent_at', async () => {
  const { clock, api, queue, sender } = setup();
  await sender.flush();
  assert.equal(api.requests.length, 1);
  assert.equal(api.requests[0].url, URL);
  assert.deepEqual(ids(api.requests[0].body.events), ['id-0', 'id-1', 'id-2']);
  assert.equal(api.requests[0].body.sent_at, new Date(clock.now()).toISOString());
  assert.equal(queue.size(), 0);
});

test('batches hold at most the API limit of 500 events', async () => {
  const { api, queue, sender } = setup(MAX_BATCH + 20);
  await sender.flush();
  assert.deepEqual(
    api.requests.map((r) => r.body.events.length),
    [MAX_BATCH, 20],
  );
  assert.equal(queue.size(), 0);
});

test('a 503 backs off for Retry-After, then the same events go again, same ids', async () => {
  const { clock, api, queue, sender } = setup();
  api.replies = [{ status: 503, headers: { 'Retry-After': '7' } }];
  await sender.flush();
  assert.equal(queue.size(), 3);
  await sender.flush();
  assert.equal(api.requests.length, 1, 'flush while backing off sends nothing');
  await clock.advance(6_999);
  assert.equal(api.requests.length, 1);
  await clock.advance(1);
  assert.equal(api.requests.length, 2);
  assert.deepEqual(ids(api.requests[1].body.events), ids(api.requests[0].body.events));
  assert.equal(queue.size(), 0);
});

test('network errors and 5xx back off exponentially, and a success resets it', async () => {
  const { clock, api, queue, sender } = setup();
  api.replies = ['network error', { status: 500 }, { status: 502 }];
  await sender.flush();
  const times = [clock.now()];
  for (let i = 0; i < 3; i++) {
    const before = api.requests.length;
    while (api.requests.length == before) await clock.advance(100);
    times.push(clock.now());
  }
  const waits = times.slice(1).map((t, i) => t - times[i]);
  assert.deepEqual(waits, [500, 1000, 2000]); // random() = 0: half of 1 s, 2 s, 4 s
  assert.equal(queue.size(), 0);

  queue.push({ event_id: 'later' });
  api.replies = [{ status: 503 }];
  await sender.flush();
  const before = api.requests.length;
  await clock.advance(500);
  assert.equal(api.requests.length, before + 1, 'the first wait again after a success');
});

test('408 and 429 are retried later, not dropped', async () => {
  const { clock, api, queue, sender } = setup();
  api.replies = [{ status: 429, headers: { 'retry-after': '3' } }, { status: 408 }];
  await sender.flush();
  assert.equal(queue.size(), 3);
  await clock.advance(3000);
  assert.equal(api.requests.length, 2);
  assert.equal(queue.size(), 3);
  await clock.advance(1000);
  assert.equal(api.requests.length, 3);
  assert.equal(queue.size(), 0);
  assert.equal(sender.rejected(), 0);
});

test('a 422 drops exactly the events its detail names and resends the rest', async () => {
  const { api, queue, sender } = setup(4);
  api.replies = [
    {
      status: 422,
      body: {
        detail: [
          { type: 'missing', loc: ['body', 'events', 1, 'click', 'element'], msg: 'Field required' },
          { type: 'string_too_long', loc: ['body', 'events', 3, 'click', 'page_url'], msg: 'too long' },
        ],
      },
    },
  ];
  await sender.flush();
  assert.equal(api.requests.length, 2);
  assert.deepEqual(ids(api.requests[1].body.events), ['id-0', 'id-2']);
  assert.equal(queue.size(), 0);
  assert.equal(sender.rejected(), 2);
});

test('a 4xx naming no event halves the batch until the bad event travels alone', async () => {
  const { api, queue, sender } = setup(4);
  const bad = (events: Record<string, unknown>[]) => ids(events).includes('id-2');
  api.post = ((post) => async (url: string, text: string, keepalive: boolean) => {
    if (bad(JSON.parse(text).events))
      api.replies.unshift({ status: 422, body: { detail: [{ loc: ['body'], msg: 'strings must be valid Unicode' }] } });
    return post(url, text, keepalive);
  })(api.post);
  await sender.flush();
  assert.deepEqual(
    api.requests.map((r) => ids(r.body.events)),
    [['id-0', 'id-1', 'id-2', 'id-3'], ['id-0', 'id-1'], ['id-2', 'id-3'], ['id-2'], ['id-3']],
  );
  assert.equal(queue.size(), 0);
  assert.equal(sender.rejected(), 1);
});

test('a 422 naming positions the batch lacks is treated as naming none', async () => {
  const { api, queue, sender } = setup(1);
  api.replies = [{ status: 422, body: { detail: [{ loc: ['body', 'events', 5, 'click'] }] } }];
  await sender.flush();
  assert.equal(api.requests.length, 1);
  assert.equal(queue.size(), 0);
  assert.equal(sender.rejected(), 1);
});

test('a 413 halves the batch; nothing is lost', async () => {
  const { api, queue, sender } = setup(6);
  api.replies = [{ status: 413 }];
  await sender.flush();
  assert.deepEqual(
    api.requests.map((r) => r.body.events.length),
    [6, 3, 3],
  );
  assert.equal(queue.size(), 0);
  assert.equal(sender.rejected(), 0);
});

test('unload hands the queue to sendBeacon in chunks below the 64 KiB limit', async () => {
  const { api, queue, sender } = setup(40, 5000);
  sender.unload();
  assert.ok(api.beacons.length > 1);
  for (const beacon of api.beacons) assert.ok(new Blob([JSON.stringify(beacon.body)]).size <= BEACON_BYTES);
  assert.deepEqual(api.ids(), ids(Array.from({ length: 40 }, (_, n) => ({ event_id: `id-${n}` }))));
  assert.equal(queue.size(), 0);
});

test('a beacon the browser refuses leaves its events queued', async () => {
  const { api, queue, sender } = setup();
  api.beaconAccepts = false;
  sender.unload();
  assert.equal(queue.size(), 3);
});

test('unload skips events already in flight, and sends nothing while backing off', async () => {
  const { api, queue, sender } = setup(2);
  let answer!: () => void;
  api.post = (
    (post) => (url: string, text: string, keepalive: boolean) =>
      new Promise<Awaited<ReturnType<typeof post>>>((resolve) => (answer = () => resolve(post(url, text, keepalive))))
  )(api.post);
  const flushing = sender.flush();
  await settle();
  queue.push({ event_id: 'new' });
  sender.unload();
  assert.deepEqual(ids(api.beacons.flatMap((b) => b.body.events)), ['new']);
  api.replies = [{ status: 503 }];
  answer();
  await flushing;
  queue.push({ event_id: 'newer' });
  sender.unload();
  assert.equal(api.beacons.length, 1);
});

test('online again: retry at once instead of waiting out the backoff', async () => {
  const { api, queue, sender } = setup();
  api.replies = ['network error'];
  await sender.flush();
  sender.wake();
  await settle();
  assert.equal(api.requests.length, 2);
  assert.equal(queue.size(), 0);
});
