import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSessions } from '../src/session';
import { createStore } from '../src/store';
import { MemoryStorage } from './fakes';

const MINUTE = 60_000;

function sessions(storage = new MemoryStorage()) {
  let t = Date.UTC(2026, 0, 1);
  let n = 0;
  const current = createSessions(
    createStore(storage),
    's',
    30 * MINUTE,
    24 * 60 * MINUTE,
    () => t,
    () => `session-${++n}`,
  );
  return { current, advance: (ms: number) => (t += ms), storage };
}

test('activity within the idle time keeps the session', () => {
  const { current, advance } = sessions();
  assert.equal(current(), 'session-1');
  advance(29 * MINUTE);
  assert.equal(current(), 'session-1');
  advance(29 * MINUTE);
  assert.equal(current(), 'session-1');
});

test('idle for the idle time starts a new session', () => {
  const { current, advance } = sessions();
  current();
  advance(30 * MINUTE);
  assert.equal(current(), 'session-2');
});

test('a session ends at its maximum length, however active', () => {
  const { current, advance } = sessions();
  current();
  for (let i = 0; i < 24 * 4 - 1; i++) {
    advance(15 * MINUTE);
    assert.equal(current(), 'session-1');
  }
  advance(15 * MINUTE);
  assert.equal(current(), 'session-2');
});

test('a clock that went backwards starts a new session', () => {
  const { current, advance } = sessions();
  current();
  advance(-MINUTE);
  assert.equal(current(), 'session-2');
});

test('tabs and reloads share the session through storage', () => {
  const storage = new MemoryStorage();
  assert.equal(sessions(storage).current(), 'session-1');
  const other = sessions(storage);
  other.advance(MINUTE);
  assert.equal(other.current(), 'session-1');
});

test('a corrupt stored session is replaced', () => {
  const storage = new MemoryStorage();
  storage.items.set('s', '{"id":"old"}');
  assert.equal(sessions(storage).current(), 'session-1');
});
