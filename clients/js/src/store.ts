/** The part of localStorage the tracker uses. */
export interface KeyValue {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export interface Store {
  get<T>(key: string): T | undefined;
  set(key: string, value: unknown): void;
}

/**
 * JSON values in localStorage, falling back to memory for the page's lifetime
 * when storage is missing, disabled (blocked cookies) or full (Safari's private
 * mode has no quota): tracking must keep working, only without surviving a reload.
 * Every read goes back to storage, because other tabs of the site share it.
 */
export function createStore(storage: KeyValue | undefined): Store {
  const memory: Record<string, unknown> = {};
  // After a failed write memory is newer than storage, so reads stay in memory
  // until a write succeeds again.
  const unwritten: Record<string, boolean> = {};
  return {
    get<T>(key: string): T | undefined {
      if (!unwritten[key]) {
        try {
          const text = storage!.getItem(key);
          memory[key] = text == null ? undefined : JSON.parse(text);
        } catch {
          // unreadable or corrupt: keep what this page knows
        }
      }
      return memory[key] as T | undefined;
    },
    set(key: string, value: unknown): void {
      memory[key] = value;
      try {
        storage!.setItem(key, JSON.stringify(value));
        unwritten[key] = false;
      } catch {
        unwritten[key] = true;
      }
    },
  };
}
