/** SQL for Web Push subscriptions: one per access token, gone with the token. */
import type { Db } from "../../infra/db";

export interface SubscriptionRow {
  id: string;
  access_token_id: string;
  account_id: string;
  access_token_sealed: string;
  endpoint: string;
  key_p256dh: string;
  key_auth: string;
  standard: boolean;
  alerts: Record<string, boolean>;
  policy: "all" | "followed" | "follower" | "none";
}

const COLUMNS = "s.id, s.access_token_id, s.account_id, s.access_token_sealed, s.endpoint, s.key_p256dh, s.key_auth, s.standard, s.alerts, s.policy";

export interface NewSubscription {
  accessTokenId: string;
  accountId: string;
  accessTokenSealed: string;
  endpoint: string;
  p256dh: string;
  auth: string;
  standard: boolean;
  alerts: Record<string, boolean>;
  policy: SubscriptionRow["policy"];
}

/** A new subscription replaces the token's previous one (Mastodon destroys it first), in one statement. */
export async function replaceSubscription(db: Db, s: NewSubscription): Promise<SubscriptionRow> {
  const [row] = await db<SubscriptionRow[]>`
    insert into web_push_subscriptions as s (access_token_id, account_id, access_token_sealed, endpoint, key_p256dh, key_auth, standard, alerts, policy)
    values (${s.accessTokenId}, ${s.accountId}, ${s.accessTokenSealed}, ${s.endpoint}, ${s.p256dh}, ${s.auth}, ${s.standard}, ${db.json(s.alerts)}, ${s.policy})
    on conflict (access_token_id) do update set
      id = woolly_id(), account_id = excluded.account_id, access_token_sealed = excluded.access_token_sealed, endpoint = excluded.endpoint,
      key_p256dh = excluded.key_p256dh, key_auth = excluded.key_auth, standard = excluded.standard, alerts = excluded.alerts,
      policy = excluded.policy, created_at = now(), updated_at = now()
    returning ${db.unsafe(COLUMNS)}`;
  return row!;
}

export async function findByToken(db: Db, accessTokenId: string): Promise<SubscriptionRow | undefined> {
  const [row] = await db<SubscriptionRow[]>`select ${db.unsafe(COLUMNS)} from web_push_subscriptions s where s.access_token_id = ${accessTokenId}`;
  return row;
}

export async function updateData(db: Db, accessTokenId: string, alerts: Record<string, boolean>, policy: SubscriptionRow["policy"] | undefined): Promise<SubscriptionRow | undefined> {
  const [row] = await db<SubscriptionRow[]>`
    update web_push_subscriptions s set alerts = s.alerts || ${db.json(alerts)}, policy = coalesce(${policy ?? null}, s.policy), updated_at = now()
    where s.access_token_id = ${accessTokenId}
    returning ${db.unsafe(COLUMNS)}`;
  return row;
}

export async function deleteByToken(db: Db, accessTokenId: string): Promise<void> {
  await db`delete from web_push_subscriptions where access_token_id = ${accessTokenId}`;
}

export async function deleteById(db: Db, id: string): Promise<boolean> {
  const rows = await db`delete from web_push_subscriptions where id = ${id} returning id`;
  return rows.length > 0;
}

/** The account's subscriptions whose token is still live (a revoked token's subscription receives nothing). */
export async function liveSubscriptionsOf(db: Db, accountId: string): Promise<SubscriptionRow[]> {
  return db<SubscriptionRow[]>`
    select ${db.unsafe(COLUMNS)} from web_push_subscriptions s join oauth_access_tokens t on t.id = s.access_token_id
    where s.account_id = ${accountId} and t.revoked_at is null`;
}

export async function findLive(db: Db, id: string): Promise<SubscriptionRow | undefined> {
  const [row] = await db<SubscriptionRow[]>`
    select ${db.unsafe(COLUMNS)} from web_push_subscriptions s join oauth_access_tokens t on t.id = s.access_token_id
    where s.id = ${id} and t.revoked_at is null`;
  return row;
}
