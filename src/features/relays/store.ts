/** SQL for the relays table (migrations/0020_relays.sql). */
import type { Db } from "../../infra/db";

export type RelayState = "pending" | "accepted" | "rejected";

export interface RelayRow {
  id: string;
  inbox_url: string;
  state: RelayState;
  follow_activity_id: string;
  actor_uri: string | null;
  created_at: Date;
  updated_at: Date;
}

export async function listRelays(sql: Db): Promise<RelayRow[]> {
  return sql<RelayRow[]>`select id::text, inbox_url, state, follow_activity_id, actor_uri, created_at, updated_at from relays order by id`;
}

export async function findRelayByInbox(sql: Db, inboxUrl: string): Promise<RelayRow | undefined> {
  const [row] = await sql<RelayRow[]>`select id::text, inbox_url, state, follow_activity_id, actor_uri, created_at, updated_at from relays where inbox_url = ${inboxUrl}`;
  return row;
}

/** A new pending row, or the existing one moved back to pending with a fresh Follow id (re-subscribing). */
export async function upsertPendingRelay(sql: Db, inboxUrl: string, followId: string): Promise<RelayRow> {
  const [row] = await sql<RelayRow[]>`
    insert into relays (inbox_url, follow_activity_id) values (${inboxUrl}, ${followId})
    on conflict (inbox_url) do update set state = 'pending', follow_activity_id = excluded.follow_activity_id, actor_uri = null, updated_at = now()
    returning id::text, inbox_url, state, follow_activity_id, actor_uri, created_at, updated_at`;
  return row!;
}

export async function deleteRelay(sql: Db, id: string): Promise<void> {
  await sql`delete from relays where id = ${id}`;
}

/** Moves the row whose Follow this answers; undefined when the id is not one of our relay Follows. */
export async function answerRelayFollow(sql: Db, followId: string, state: RelayState, actorUri: string): Promise<RelayRow | undefined> {
  const [row] = await sql<RelayRow[]>`
    update relays set state = ${state}, actor_uri = ${actorUri}, updated_at = now() where follow_activity_id = ${followId}
    returning id::text, inbox_url, state, follow_activity_id, actor_uri, created_at, updated_at`;
  return row;
}

export async function acceptedRelays(sql: Db): Promise<{ inbox_url: string; actor_uri: string | null }[]> {
  return sql<{ inbox_url: string; actor_uri: string | null }[]>`select inbox_url, actor_uri from relays where state = 'accepted'`;
}
