import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BACKOFF_CAP_MS, parseRetryAfter, RETRY_AFTER_CAP_MS, retryDelayMs } from '../src/backoff';

test('the delay doubles per attempt, with half of it jittered', () => {
  assert.equal(retryDelayMs(0, 0), 500);
  assert.equal(retryDelayMs(0, 1), 1000);
  assert.equal(retryDelayMs(3, 0), 4000);
  assert.equal(retryDelayMs(3, 0.5), 6000);
});

test('the delay is capped, however many attempts failed', () => {
  assert.equal(retryDelayMs(6, 1), BACKOFF_CAP_MS);
  assert.equal(retryDelayMs(5000, 1), BACKOFF_CAP_MS);
  assert.equal(retryDelayMs(5000, 0), BACKOFF_CAP_MS / 2);
});

test('Retry-After is a floor, itself capped', () => {
  assert.equal(retryDelayMs(0, 0, 30), 30_000);
  assert.equal(retryDelayMs(6, 1, 2), BACKOFF_CAP_MS);
  assert.equal(retryDelayMs(0, 0, 86_400), RETRY_AFTER_CAP_MS);
});

test('Retry-After is seconds or an HTTP date; anything else is ignored', () => {
  const now = Date.UTC(2026, 0, 1);
  assert.equal(parseRetryAfter('1', now), 1);
  assert.equal(parseRetryAfter('0', now), 0);
  assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now), 30);
  assert.equal(parseRetryAfter('soon', now), undefined);
  assert.equal(parseRetryAfter(null, now), undefined);
  assert.equal(retryDelayMs(0, 0, parseRetryAfter('soon', now)), 500);
});
