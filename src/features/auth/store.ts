/** SQL for OAuth applications, grants, tokens and web sessions. Only the auth feature touches these tables. */
import type { Db } from "../../infra/db";

export interface TokenRow {
  id: string;
  application_id: string | null;
  user_id: string | null;
  scopes: string;
  description: string | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
  created_at: Date;
  application_name: string | null;
}

export async function insertToken(
  sql: Db,
  values: { applicationId: string | null; userId: string | null; tokenHash: string; scopes: string; description?: string | null },
): Promise<TokenRow> {
  const [row] = await sql<TokenRow[]>`
    insert into oauth_access_tokens (application_id, user_id, token_hash, scopes, description)
    values (${values.applicationId}, ${values.userId}, ${values.tokenHash}, ${values.scopes}, ${values.description ?? null})
    returning *, null as application_name`;
  return row!;
}

export async function findActiveTokenByHash(sql: Db, tokenHash: string): Promise<TokenRow | undefined> {
  const [row] = await sql<TokenRow[]>`
    select t.*, a.name as application_name
    from oauth_access_tokens t left join oauth_applications a on a.id = t.application_id
    where t.token_hash = ${tokenHash} and t.revoked_at is null`;
  return row;
}

export async function listTokensForUser(sql: Db, userId: string): Promise<TokenRow[]> {
  return sql<TokenRow[]>`
    select t.*, a.name as application_name
    from oauth_access_tokens t left join oauth_applications a on a.id = t.application_id
    where t.user_id = ${userId} and t.revoked_at is null
    order by t.id`;
}

export async function revokeTokenById(sql: Db, id: string, userId?: string): Promise<boolean> {
  const rows = userId
    ? await sql`update oauth_access_tokens set revoked_at = now() where id = ${id} and user_id = ${userId} and revoked_at is null returning id`
    : await sql`update oauth_access_tokens set revoked_at = now() where id = ${id} and revoked_at is null returning id`;
  return rows.length > 0;
}

export async function revokeTokenByHash(sql: Db, tokenHash: string, applicationId?: string): Promise<boolean> {
  const rows = applicationId
    ? await sql`update oauth_access_tokens set revoked_at = now() where token_hash = ${tokenHash} and application_id = ${applicationId} and revoked_at is null returning id`
    : await sql`update oauth_access_tokens set revoked_at = now() where token_hash = ${tokenHash} and revoked_at is null returning id`;
  return rows.length > 0;
}

/** Touch last-use at most once a minute per token, so reads do not turn into a write per request. */
export async function touchToken(sql: Db, id: string, ip: string | null): Promise<void> {
  await sql`
    update oauth_access_tokens set last_used_at = now(), last_used_ip = ${ip}
    where id = ${id} and (last_used_at is null or last_used_at < now() - interval '1 minute')`;
}
