import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createQueue, type WireEvent } from '../src/queue';
import { createStore } from '../src/store';
import { MemoryStorage } from './fakes';

const event = (n: number, pad = 0): WireEvent => ({ event_id: `id-${n}`, pad: 'x'.repeat(pad) });
const ids = (events: WireEvent[]) => events.map((e) => e.event_id);

test('events come out oldest first and stay until removed', () => {
  const queue = createQueue(createStore(new MemoryStorage()), 'q', 100, 100_000);
  for (let n = 0; n < 5; n++) queue.push(event(n));
  assert.deepEqual(ids(queue.peek(3)), ['id-0', 'id-1', 'id-2']);
  assert.deepEqual(ids(queue.peek(3)), ['id-0', 'id-1', 'id-2']);
  queue.remove(queue.peek(2));
  assert.deepEqual(ids(queue.peek(10)), ['id-2', 'id-3', 'id-4']);
  assert.deepEqual(ids(queue.peek(10, new Set(['id-3']))), ['id-2', 'id-4']);
});

test('the queue survives a reload (a new page over the same storage)', () => {
  const storage = new MemoryStorage();
  createQueue(createStore(storage), 'q', 100, 100_000).push(event(1));
  assert.deepEqual(ids(createQueue(createStore(storage), 'q', 100, 100_000).peek(10)), ['id-1']);
});

test('over the count bound the oldest events are dropped and counted', () => {
  const queue = createQueue(createStore(new MemoryStorage()), 'q', 3, 100_000);
  for (let n = 0; n < 5; n++) queue.push(event(n));
  assert.deepEqual(ids(queue.peek(10)), ['id-2', 'id-3', 'id-4']);
  assert.equal(queue.dropped(), 2);
});

test('over the size bound the oldest events are dropped and counted', () => {
  const storage = new MemoryStorage();
  const queue = createQueue(createStore(storage), 'q', 100, 900);
  for (let n = 0; n < 5; n++) queue.push(event(n, 300));
  assert.deepEqual(ids(queue.peek(10)), ['id-3', 'id-4']);
  assert.equal(queue.dropped(), 3);
  assert.ok(storage.getItem('q')!.length <= 900);
});

test('one event larger than the size bound is still kept', () => {
  const queue = createQueue(createStore(new MemoryStorage()), 'q', 100, 100);
  queue.push(event(1, 500));
  assert.equal(queue.size(), 1);
});

test('tabs share the queue: removing what one sent keeps what another added meanwhile', () => {
  const storage = new MemoryStorage();
  const tabA = createQueue(createStore(storage), 'q', 100, 100_000);
  const tabB = createQueue(createStore(storage), 'q', 100, 100_000);
  tabA.push(event(1));
  tabA.push(event(2));
  const sendingA = tabA.peek(10);
  tabB.remove(tabB.peek(10)); // tab B sent the same events and heard back first
  tabB.push(event(3));
  tabA.remove(sendingA);
  assert.deepEqual(ids(tabB.peek(10)), ['id-3']);
});

test('without storage, or with storage full, the queue lives in memory', () => {
  const none = createQueue(createStore(undefined), 'q', 100, 100_000);
  none.push(event(1));
  none.push(event(2));
  assert.deepEqual(ids(none.peek(10)), ['id-1', 'id-2']);

  const storage = new MemoryStorage();
  const full = createQueue(createStore(storage), 'q', 100, 100_000);
  full.push(event(1));
  storage.failWrites = true;
  full.push(event(2));
  assert.deepEqual(ids(full.peek(10)), ['id-1', 'id-2']);
  storage.failWrites = false;
  full.push(event(3));
  assert.deepEqual(ids(JSON.parse(storage.getItem('q')!)), ['id-1', 'id-2', 'id-3']);
});

test('corrupt storage does not break the queue', () => {
  const storage = new MemoryStorage();
  storage.items.set('q', '{not json');
  const queue = createQueue(createStore(storage), 'q', 100, 100_000);
  queue.push(event(1));
  assert.deepEqual(ids(queue.peek(10)), ['id-1']);
});
