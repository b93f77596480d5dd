/**
 * A short-lived, in-process cache for public ActivityPub and HTML renders, keyed by URL and negotiated
 * representation. When a post travels, hundreds of servers fetch the same actor within seconds: with this,
 * a burst costs one render per process per TTL (concurrent misses share one pending render).
 *
 * In-process rather than Redis: the renders are small, a hit costs no network round trip, and the worst
 * case of N web processes is N renders per minute, not one per request. Entries live TTL_MS (60 s) and the
 * map is bounded (oldest dropped first), so memory stays flat whatever the URL mix. Keys of an account's
 * objects carry its object version (features/federation/outbound-versions.ts), which delivery bumps on an
 * edit, a delete or a profile change: those show within about a second in every process; anything else
 * within a minute — the same promise Cache-Control max-age makes to CDNs anyway.
 */
import { clearServed } from "./hot-answers";

export const TTL_MS = 60_000;
const MAX_ENTRIES = 2000;

export interface Rendered {
  status: number;
  contentType: string;
  body: string;
  headers?: Record<string, string>;
}

interface Entry {
  expires: number;
  value: Promise<Rendered>;
}

const entries = new Map<string, Entry>();
let renders = 0;

/** How many times a render function actually ran (for tests and metrics). */
export function renderCount(): number {
  return renders;
}

export function clearRenderCache(): void {
  entries.clear();
  clearServed();
}

export function cachedRender(key: string, render: () => Promise<Rendered>): Promise<Rendered> {
  const now = Date.now();
  const hit = entries.get(key);
  if (hit && hit.expires > now) return hit.value;
  renders++;
  const value = render();
  entries.set(key, { expires: now + TTL_MS, value });
  // Failures are not cached: the next request tries again.
  value.catch(() => entries.delete(key));
  if (entries.size > MAX_ENTRIES) {
    for (const [k, e] of entries) {
      if (entries.size <= MAX_ENTRIES || e.expires > now) break;
      entries.delete(k);
    }
    while (entries.size > MAX_ENTRIES) entries.delete(entries.keys().next().value!);
  }
  return value;
}

