/** SQL for the relays table (migrations/0020_relays.sql, 0026_relay_operations.sql). */
import type { Db } from "../../infra/db";

/** idle: disabled by the operator (Undo sent, row kept); pending: Follow sent; then the relay's answer. */
export type RelayState = "idle" | "pending" | "accepted" | "rejected";

export interface RelayRow {
  id: string;
  inbox_url: string;
  state: RelayState;
  follow_activity_id: string;
  actor_uri: string | null;
  last_error: string | null;
  max_per_minute: number;
  created_at: Date;
  updated_at: Date;
}

const MAX_ERROR_CHARS = 2000;

export async function listRelays(sql: Db): Promise<RelayRow[]> {
  return sql<RelayRow[]>`select id::text, inbox_url, state, follow_activity_id, actor_uri, last_error, max_per_minute, created_at, updated_at from relays order by id`;
}

export async function findRelayByInbox(sql: Db, inboxUrl: string): Promise<RelayRow | undefined> {
  const [row] = await sql<RelayRow[]>`select id::text, inbox_url, state, follow_activity_id, actor_uri, last_error, max_per_minute, created_at, updated_at from relays where inbox_url = ${inboxUrl}`;
  return row;
}

/** A new pending row, or the existing one moved back to pending with a fresh Follow id (re-subscribing). */
export async function upsertPendingRelay(sql: Db, inboxUrl: string, followId: string): Promise<RelayRow> {
  const [row] = await sql<RelayRow[]>`
    insert into relays (inbox_url, follow_activity_id) values (${inboxUrl}, ${followId})
    on conflict (inbox_url) do update set state = 'pending', follow_activity_id = excluded.follow_activity_id, actor_uri = null, last_error = null, updated_at = now()
    returning id::text, inbox_url, state, follow_activity_id, actor_uri, last_error, max_per_minute, created_at, updated_at`;
  return row!;
}

/** Put a row back as it was (a re-subscription whose Follow could not be sent), noting why. */
export async function restoreRelay(sql: Db, previous: RelayRow, lastError: string): Promise<void> {
  await sql`update relays set state = ${previous.state}, follow_activity_id = ${previous.follow_activity_id}, actor_uri = ${previous.actor_uri},
    last_error = ${lastError.slice(0, MAX_ERROR_CHARS)}, updated_at = now() where id = ${previous.id}`;
}

/** Disabled: the relay's traffic is no longer taken (its actor is forgotten) and nothing is sent to it. */
export async function markIdle(sql: Db, id: string, lastError: string | null): Promise<RelayRow | undefined> {
  const [row] = await sql<RelayRow[]>`
    update relays set state = 'idle', actor_uri = null, last_error = ${lastError?.slice(0, MAX_ERROR_CHARS) ?? null}, updated_at = now() where id = ${id}
    returning id::text, inbox_url, state, follow_activity_id, actor_uri, last_error, max_per_minute, created_at, updated_at`;
  return row;
}

export async function setMaxPerMinute(sql: Db, id: string, maxPerMinute: number): Promise<void> {
  await sql`update relays set max_per_minute = ${maxPerMinute}, updated_at = now() where id = ${id}`;
}

export async function deleteRelay(sql: Db, id: string): Promise<void> {
  await sql`delete from relays where id = ${id}`;
}

/**
 * Moves the pending row whose Follow this answers; undefined when the id is not one of our relay Follows or
 * the row is no longer waiting (a late Accept must not bring a disabled relay back).
 */
export async function answerRelayFollow(sql: Db, followId: string, state: "accepted" | "rejected", actorUri: string): Promise<RelayRow | undefined> {
  const lastError = state === "rejected" ? "the relay answered Reject" : null;
  const [row] = await sql<RelayRow[]>`
    update relays set state = ${state}, actor_uri = ${actorUri}, last_error = ${lastError}, updated_at = now()
    where follow_activity_id = ${followId} and state in ('pending', 'accepted', 'rejected')
    returning id::text, inbox_url, state, follow_activity_id, actor_uri, last_error, max_per_minute, created_at, updated_at`;
  return row;
}

export async function acceptedRelays(sql: Db): Promise<{ id: string; inbox_url: string; actor_uri: string | null; max_per_minute: number }[]> {
  return sql<{ id: string; inbox_url: string; actor_uri: string | null; max_per_minute: number }[]>`
    select id::text, inbox_url, actor_uri, max_per_minute from relays where state = 'accepted'`;
}
