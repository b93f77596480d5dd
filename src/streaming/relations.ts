/**
 * Per-reader relations (blocks both ways, mutes, domain blocks), cached in memory per account and shared by
 * all of that account's connections, so filtering a public stream costs Set lookups, not a query per event
 * per connection. Loaded when the account's first connection opens. Every block, unblock, mute, unmute and
 * domain (un)block publishes a `relations_changed` message carrying the change: it is applied to the cache
 * as the message arrives (so the next post is already filtered by it), then the cache reloads from the
 * database. Mutes that expire on their own are caught by the background reload once older than the TTL.
 */
import type { Sql } from "../infra/db";
import { log } from "../infra/log";
import type { StatusEntity } from "../api/entities/status";
import type { RelationChange } from "../features/streaming/channels";
import { loadRelations } from "./store";

export const RELATIONS_TTL_MS = 60_000;

interface Relations {
  blocking: Set<string>;
  blockedBy: Set<string>;
  muting: Set<string>;
  domains: Set<string>;
  loadedAt: number;
}

const SETS = { blocking: true, blockedBy: true, muting: true, domains: true } as const;

function applyChange(relations: Relations, change: RelationChange): void {
  const set = relations[change.set];
  if (change.on) set.add(change.value);
  else set.delete(change.value);
}

export class RelationsCache {
  private readonly entries = new Map<string, Relations>();
  private readonly loading = new Map<string, Promise<void>>();
  /**
   * Changes that arrived while the account's load was in flight: the load may have read the database before
   * they committed, so they are applied again on top of what it read (add and delete are idempotent).
   */
  private readonly arrivedWhileLoading = new Map<string, RelationChange[]>();

  constructor(
    private readonly sql: Sql,
    private readonly ttlMs = RELATIONS_TTL_MS,
  ) {}

  load(accountId: string): Promise<void> {
    const pending = this.loading.get(accountId);
    if (pending) return pending;
    this.arrivedWhileLoading.set(accountId, []);
    const promise = loadRelations(this.sql, accountId)
      .then((row) => {
        const relations: Relations = {
          blocking: new Set(row.blocking),
          blockedBy: new Set(row.blocked_by),
          muting: new Set(row.muting),
          domains: new Set(row.domains),
          loadedAt: Date.now(),
        };
        for (const change of this.arrivedWhileLoading.get(accountId) ?? []) applyChange(relations, change);
        this.entries.set(accountId, relations);
      })
      .catch((error) => log.warn("streaming: loading relations failed", { account_id: accountId, error: String(error?.message ?? error) }))
      .finally(() => {
        this.loading.delete(accountId);
        this.arrivedWhileLoading.delete(accountId);
      });
    this.loading.set(accountId, promise);
    return promise;
  }

  /** Loaded already (possibly stale: refreshed on use), or load now. */
  ensure(accountId: string): Promise<void> {
    return this.entries.has(accountId) ? Promise.resolve() : this.load(accountId);
  }

  drop(accountId: string): void {
    this.entries.delete(accountId);
  }

  /**
   * A relation of `accountId` changed: apply it to the cached sets now (synchronously, before later Redis
   * messages are handled), then reload to pick up anything else. Accounts not cached here are ignored.
   */
  apply(accountId: string, change: RelationChange | undefined): void {
    const relations = this.entries.get(accountId);
    const valid = change !== undefined && typeof change.value === "string" && Object.hasOwn(SETS, change.set);
    if (relations && valid) applyChange(relations, change);
    const inFlight = this.arrivedWhileLoading.get(accountId);
    if (inFlight) {
      if (valid) inFlight.push(change);
      return;
    }
    if (relations) void this.load(accountId);
  }

  /**
   * Whether `readerId` may get `status` on a filtered (public or hashtag) stream: Mastodon drops posts when
   * the reader blocks or mutes the author, the booster's original author or anyone mentioned, when the
   * author blocks the reader, or when the author's domain is blocked.
   */
  allows(readerId: string, status: StatusEntity): boolean {
    const relations = this.entries.get(readerId);
    if (!relations) {
      // Not loaded (a failed load): let it through rather than go silent, and try again.
      void this.load(readerId);
      return true;
    }
    if (Date.now() - relations.loadedAt > this.ttlMs) void this.load(readerId);
    const authors = [status.account.id];
    if (status.reblog) authors.push(status.reblog.account.id);
    const targets = [...authors, ...status.mentions.map((m) => m.id), ...(status.reblog?.mentions.map((m) => m.id) ?? [])];
    for (const id of targets) {
      if (id === readerId) continue;
      if (relations.blocking.has(id) || relations.muting.has(id)) return false;
    }
    for (const id of authors) if (relations.blockedBy.has(id)) return false;
    if (relations.domains.size > 0) {
      for (const entity of [status, status.reblog]) {
        const domain = entity?.account.acct.split("@")[1]?.toLowerCase();
        if (domain && relations.domains.has(domain)) return false;
      }
    }
    return true;
  }
}
