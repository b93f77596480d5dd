/**
 * GET /api/v1/statuses/:id/context: the thread around a status as the viewer may see it.
 * - ancestors: up the in_reply_to chain (at most 40), oldest first, each one visibility-checked;
 * - descendants: the reply tree below (at most 60), read breadth-first a level at a time so that only
 *   replies the viewer may see are followed — a hidden reply hides everything below it too — and returned
 *   in thread order (depth-first, siblings oldest first), the order Mastodon serves and clients draw.
 * Posts by accounts the viewer blocks or mutes are left out of both lists, as Mastodon's StatusFilter does
 * (their replies stay: they are someone else's posts).
 */
import type { Db } from "../../infra/db";
import { relationships } from "../graph/service";
import { filterVisible } from "./visibility";
import { findVisibleStatus } from "./service";
import * as store from "./store";

export const MAX_ANCESTORS = 40;
export const MAX_DESCENDANTS = 60;

interface Item {
  id: string;
  account_id: string;
}

export async function threadAround(sql: Db, viewerId: string | null, statusId: string): Promise<{ ancestors: string[]; descendants: string[] }> {
  const status = await findVisibleStatus(sql, viewerId, statusId);
  const [ancestors, descendants] = await Promise.all([ancestorsOf(sql, viewerId, status.id), descendantsOf(sql, viewerId, status.id)]);
  const hidden = await hiddenAuthors(sql, viewerId, [...ancestors, ...descendants]);
  const keep = (items: Item[]) => items.filter((s) => !hidden.has(s.account_id)).map((s) => s.id);
  return { ancestors: keep(ancestors), descendants: keep(descendants) };
}

async function hiddenAuthors(sql: Db, viewerId: string | null, items: Item[]): Promise<Set<string>> {
  if (!viewerId) return new Set();
  const authors = [...new Set(items.map((s) => s.account_id))].filter((id) => id !== viewerId);
  if (authors.length === 0) return new Set();
  const rows = await relationships(sql, { id: viewerId }, authors);
  return new Set(rows.filter((r) => r.blocking || r.muting).map((r) => r.id));
}

async function ancestorsOf(sql: Db, viewerId: string | null, statusId: string): Promise<Item[]> {
  const chain = await store.ancestorIds(sql, statusId, MAX_ANCESTORS);
  const visible = await filterVisible(sql, viewerId, chain.map((s) => s.id));
  return chain.filter((s) => visible.has(s.id)).reverse();
}

async function descendantsOf(sql: Db, viewerId: string | null, statusId: string): Promise<Item[]> {
  const children = new Map<string, Item[]>();
  let frontier = [statusId];
  let found = 0;
  while (frontier.length > 0 && found < MAX_DESCENDANTS) {
    const replies = await store.visibleRepliesOf(sql, viewerId, frontier, MAX_DESCENDANTS - found);
    for (const reply of replies) {
      const list = children.get(reply.in_reply_to_id) ?? [];
      list.push(reply);
      children.set(reply.in_reply_to_id, list);
    }
    found += replies.length;
    frontier = replies.map((r) => r.id);
  }
  const out: Item[] = [];
  const walk = (id: string) => {
    for (const child of children.get(id) ?? []) {
      out.push(child);
      walk(child.id);
    }
  };
  walk(statusId);
  return out;
}
