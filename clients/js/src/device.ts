export interface NavigatorLike {
  userAgent: string;
  language?: string;
  maxTouchPoints?: number;
  onLine?: boolean;
}

/** mobile, tablet, desktop or tv, from the User-Agent (the server's columns are richer). */
export function deviceOf(navigator: NavigatorLike): string {
  const ua = navigator.userAgent;
  if (/smart-?tv|\btv\b|hbbtv|appletv|googletv|crkey|roku|\baft[a-z]|tizen|web0s|netcast|bravia/i.test(ua)) return 'tv';
  if (
    /ipad|tablet|playbook|silk|kindle/i.test(ua) ||
    (/android/i.test(ua) && !/mobile/i.test(ua)) ||
    // iPadOS presents itself as a Mac; only its touch screen tells them apart.
    (/macintosh/i.test(ua) && navigator.maxTouchPoints! > 1)
  ) {
    return 'tablet';
  }
  return /mobi|iphone|ipod|android/i.test(ua) ? 'mobile' : 'desktop';
}

/** The region of a language tag ("en-US" -> "US", "zh-Hant-TW" -> "TW"), if it names a country. */
export function regionOf(language: string | undefined): string | undefined {
  return /^[a-z]{2,3}(?:-[a-z]{4})?-([a-z]{2})(?:-|$)/i.exec(language || '')?.[1].toUpperCase();
}
