/**
 * The `list` stream: a list's owner hears the statuses of its members as they reach the owner's home channel,
 * with the list's replies policy applied as the list timeline does (features/lists/store.ts timelineIds).
 * A gate per streamed list holds its members (and, for replies_policy=followed, whom the owner follows),
 * loaded when it is first subscribed and reloaded on the hub's periodic tick, so an event costs Set lookups.
 */
import { findList, memberRows } from "../features/lists/service";
import type { LocalAccountRow } from "../features/accounts/service";
import type { Sql } from "../infra/db";
import { ApiError } from "../infra/errors";
import type { StatusEntity } from "../api/entities/status";
import { followedIds } from "./store";
import { StreamError } from "./streams";

interface Gate {
  ownerId: string;
  members: Set<string>;
  repliesPolicy: "followed" | "list" | "none";
  following: Set<string>;
}

export class ListGates {
  private readonly gates = new Map<string, Gate>();

  constructor(private readonly sql: Sql) {}

  /** Load (or reload) a list for its owner; a list that is not theirs is Mastodon's 401. */
  async prepare(owner: Pick<LocalAccountRow, "id">, listId: string): Promise<void> {
    let list;
    try {
      list = await findList(this.sql, owner as LocalAccountRow, listId);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) throw new StreamError("Not authorized to stream this list", 401);
      throw error;
    }
    const [members, following] = await Promise.all([
      memberRows(this.sql, owner as LocalAccountRow, list.id, undefined),
      list.replies_policy === "followed" ? followedIds(this.sql, owner.id) : Promise.resolve([]),
    ]);
    this.gates.set(list.id, { ownerId: owner.id, members: new Set(members.map((m) => String(m.id))), repliesPolicy: list.replies_policy, following: new Set(following) });
  }

  /** May this list's owner see `status` through the list? (A list the owner no longer has passes nothing.) */
  owns(ownerId: string, listId: string): boolean {
    return this.gates.get(listId)?.ownerId === ownerId;
  }

  allows(listId: string, status: StatusEntity): boolean {
    const gate = this.gates.get(listId);
    if (!gate || !gate.members.has(status.account.id)) return false;
    const to = status.in_reply_to_account_id;
    if (to === null || to === status.account.id || to === gate.ownerId) return true;
    if (gate.repliesPolicy === "list") return gate.members.has(to);
    if (gate.repliesPolicy === "followed") return gate.following.has(to);
    return false;
  }

  /**
   * Reload the gates still streamed (membership changes) and forget the others; a list deleted meanwhile
   * loses its gate and passes nothing.
   */
  async refresh(streamed: Set<string>): Promise<void> {
    for (const [listId, gate] of [...this.gates]) {
      if (!streamed.has(listId)) this.gates.delete(listId);
      else await this.prepare({ id: gate.ownerId }, listId).catch(() => this.gates.delete(listId));
    }
  }
}
