export const BACKOFF_BASE_MS = 1000;
export const BACKOFF_CAP_MS = 60_000;
/** A Retry-After longer than this is taken as this: a misconfigured proxy must not mute the tracker for days. */
export const RETRY_AFTER_CAP_MS = 600_000;

/**
 * The wait before retry number `attempt` (0 for the first): exponential and
 * capped, with "equal jitter" (half fixed, half random) so browsers that failed
 * together spread out without ever retrying at once. The server's Retry-After
 * (seconds) is a floor.
 */
export function retryDelayMs(attempt: number, random: number, retryAfterS?: number): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
  const delay = ceiling / 2 + (random * ceiling) / 2;
  return retryAfterS! > 0 ? Math.max(delay, Math.min(retryAfterS! * 1000, RETRY_AFTER_CAP_MS)) : delay;
}

/** Retry-After in seconds: either delta-seconds or an HTTP date (RFC 9110). */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (!value) return undefined;
  const seconds = +value;
  if (seconds >= 0) return seconds;
  const at = Date.parse(value);
  return at > 0 ? (at - nowMs) / 1000 : undefined;
}
