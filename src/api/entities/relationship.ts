/**
 * Mastodon's Relationship entity (REST::RelationshipSerializer): how the signed-in account stands towards
 * other accounts. Rendered in batch: one query for any number of ids (features/graph/store.relationships).
 */
import { relationships, type RelationshipRow } from "../../features/graph/service";
import type { Db } from "../../infra/db";

export interface RelationshipEntity {
  id: string;
  following: boolean;
  showing_reblogs: boolean;
  notifying: boolean;
  languages: string[] | null;
  followed_by: boolean;
  blocking: boolean;
  blocked_by: boolean;
  muting: boolean;
  muting_notifications: boolean;
  muting_expires_at: string | null;
  requested: boolean;
  requested_by: boolean;
  domain_blocking: boolean;
  endorsed: boolean;
  note: string;
}

export function renderRelationshipRow(row: RelationshipRow): RelationshipEntity {
  // showing_reblogs / notifying describe the follow, or the pending request's options while it waits.
  const requestedOptions = !row.following && row.requested;
  return {
    id: row.id,
    following: row.following,
    showing_reblogs: (row.following ? row.show_reblogs : requestedOptions ? row.request_show_reblogs : false) ?? false,
    notifying: (row.following ? row.notify : requestedOptions ? row.request_notify : false) ?? false,
    languages: row.following ? row.languages : null,
    followed_by: row.followed_by,
    blocking: row.blocking,
    blocked_by: row.blocked_by,
    muting: row.muting,
    muting_notifications: row.muting ? (row.muting_notifications ?? false) : false,
    muting_expires_at: row.muting && row.muting_expires_at ? row.muting_expires_at.toISOString() : null,
    requested: row.requested,
    requested_by: row.requested_by,
    domain_blocking: row.domain_blocking,
    endorsed: row.endorsed,
    note: row.note ?? "",
  };
}

/** Relationships of `viewerId` to each of `targetIds` (valid, existing ids), in the order given. */
export async function renderRelationships(sql: Db, viewerId: string, targetIds: string[]): Promise<RelationshipEntity[]> {
  return (await relationships(sql, { id: viewerId }, targetIds)).map(renderRelationshipRow);
}

export async function renderRelationship(sql: Db, viewerId: string, targetId: string): Promise<RelationshipEntity> {
  const [entity] = await renderRelationships(sql, viewerId, [targetId]);
  return entity!;
}
