/**
 * The rendered-status cache: the viewer-independent parts of a Status entity (mentions, tags, media, card,
 * application — everything but counters, flags, poll tallies and the account, which are read fresh with the
 * page) kept in-process by status id and version.
 *
 * Why in-process and versioned rather than in Redis with invalidation messages: the page query reads each
 * status row anyway (the visibility rule and the counters need it), so it also returns a version
 * (store.findPage's cache_version) that changes with every edit, media change and card change. An entry is
 * used only when its version matches, so no process can serve a stale rendering and nothing has to be told
 * about changes; a hit costs a Map lookup instead of five queries and a Redis round trip.
 *
 * Bounded: least recently used entries go first (Map keeps insertion order; a hit re-inserts), and no entry
 * is used longer than maxAgeMs after it was rendered — a backstop for what no version covers (a remote
 * account's profile URL in a mention, an application's name).
 */
export class RenderCache<T> {
  private readonly entries = new Map<string, { version: string; value: T; expires: number }>();
  hits = 0;
  misses = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxAgeMs = 10 * 60_000,
  ) {}

  get(id: string, version: string, now = Date.now()): T | undefined {
    const entry = this.entries.get(id);
    if (!entry || entry.version !== version || entry.expires <= now) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.entries.delete(id);
    this.entries.set(id, entry);
    return entry.value;
  }

  set(id: string, version: string, value: T, now = Date.now()): void {
    this.entries.delete(id);
    this.entries.set(id, { version, value, expires: now + this.maxAgeMs });
    if (this.entries.size > this.maxEntries) {
      // Drop the oldest tenth at once rather than one per insert.
      let drop = Math.ceil(this.maxEntries / 10);
      for (const key of this.entries.keys()) {
        if (drop-- <= 0) break;
        this.entries.delete(key);
      }
    }
  }

  delete(id: string): void {
    this.entries.delete(id);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
