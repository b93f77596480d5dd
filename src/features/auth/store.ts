/** SQL for OAuth applications, grants, tokens and web sessions. Only the auth feature touches these tables. */
import { forgetSignIns } from "./sign-in-cache";
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
  values: { applicationId: string | null; userId: string | null; tokenHash: string; scopes: string; description?: string | null; tokenSealed?: string | null },
): Promise<TokenRow> {
  const [row] = await sql<TokenRow[]>`
    insert into oauth_access_tokens (application_id, user_id, token_hash, scopes, description, token_sealed)
    values (${values.applicationId}, ${values.userId}, ${values.tokenHash}, ${values.scopes}, ${values.description ?? null}, ${values.tokenSealed ?? null})
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
  forgetSignIns();
  return rows.length > 0;
}

export async function revokeTokenByHash(sql: Db, tokenHash: string, applicationId?: string): Promise<boolean> {
  const rows = applicationId
    ? await sql`update oauth_access_tokens set revoked_at = now() where token_hash = ${tokenHash} and application_id = ${applicationId} and revoked_at is null returning id`
    : await sql`update oauth_access_tokens set revoked_at = now() where token_hash = ${tokenHash} and revoked_at is null returning id`;
  forgetSignIns();
  return rows.length > 0;
}

/** Touch last-use at most once a minute per token, so reads do not turn into a write per request. */
export async function touchToken(sql: Db, id: string, ip: string | null): Promise<void> {
  await sql`
    update oauth_access_tokens set last_used_at = now(), last_used_ip = ${ip}
    where id = ${id} and (last_used_at is null or last_used_at < now() - interval '1 minute')`;
}

// ── OAuth applications ─────────────────────────────────────────────────────────────────────────────────

export interface ApplicationRow {
  id: string;
  name: string;
  client_id: string;
  /** sha256 of the client secret (see migrations/0003_oauth.sql). */
  client_secret: string;
  redirect_uris: string[];
  scopes: string;
  website: string | null;
  owner_account_id: string | null;
  created_at: Date;
}

export async function insertApplication(
  sql: Db,
  values: { name: string; clientId: string; clientSecretHash: string; redirectUris: string[]; scopes: string; website: string | null },
): Promise<ApplicationRow> {
  const [row] = await sql<ApplicationRow[]>`
    insert into oauth_applications (name, client_id, client_secret, redirect_uris, scopes, website)
    values (${values.name}, ${values.clientId}, ${values.clientSecretHash},
            -- the list travels as JSON: postgres.js's array parameters do not survive our custom type setup
            array(select jsonb_array_elements_text(${JSON.stringify(values.redirectUris)}::text::jsonb)), ${values.scopes}, ${values.website})
    returning *`;
  return row!;
}

export async function findApplicationByClientId(sql: Db, clientId: string): Promise<ApplicationRow | undefined> {
  const [row] = await sql<ApplicationRow[]>`select * from oauth_applications where client_id = ${clientId}`;
  return row;
}

export async function findApplicationById(sql: Db, id: string): Promise<ApplicationRow | undefined> {
  const [row] = await sql<ApplicationRow[]>`select * from oauth_applications where id = ${id}`;
  return row;
}

// ── Authorization codes ────────────────────────────────────────────────────────────────────────────────

export interface GrantRow {
  id: string;
  application_id: string;
  user_id: string;
  redirect_uri: string;
  scopes: string;
  code_challenge: string | null;
  code_challenge_method: string | null;
  expires_at: Date;
  used_at: Date | null;
  access_token_id: string | null;
  /** Computed with the database clock, so app and database clocks need not agree. */
  expired: boolean;
}

export async function insertGrant(
  sql: Db,
  values: {
    applicationId: string;
    userId: string;
    codeHash: string;
    redirectUri: string;
    scopes: string;
    codeChallenge: string | null;
    codeChallengeMethod: string | null;
    ttlSeconds: number;
  },
): Promise<void> {
  await sql`
    insert into oauth_access_grants (application_id, user_id, code_hash, redirect_uri, scopes, code_challenge, code_challenge_method, expires_at)
    values (${values.applicationId}, ${values.userId}, ${values.codeHash}, ${values.redirectUri}, ${values.scopes},
            ${values.codeChallenge}, ${values.codeChallengeMethod}, now() + make_interval(secs => ${values.ttlSeconds}))`;
}

/** Lock the grant row: two concurrent exchanges of one code must not both succeed. */
export async function findGrantByCodeHashForUpdate(sql: Db, codeHash: string): Promise<GrantRow | undefined> {
  const [row] = await sql<GrantRow[]>`
    select id, application_id, user_id, redirect_uri, scopes, code_challenge, code_challenge_method, expires_at, used_at,
           access_token_id, expires_at <= now() as expired
    from oauth_access_grants where code_hash = ${codeHash}
    for update`;
  return row;
}

export async function markGrantUsed(sql: Db, grantId: string, accessTokenId: string): Promise<void> {
  await sql`update oauth_access_grants set used_at = now(), access_token_id = ${accessTokenId} where id = ${grantId}`;
}

/** Codes nobody will exchange any more; used ones are kept a day so a replay can still be recognised. */
export async function deleteStaleGrants(sql: Db): Promise<number> {
  const rows = await sql`delete from oauth_access_grants where expires_at < now() - interval '1 day' returning id`;
  return rows.length;
}

/** Does the user hold a live token for this app whose scopes are exactly `scopes` (any order)? */
export async function hasLiveTokenWithScopes(sql: Db, userId: string, applicationId: string, scopes: string[]): Promise<boolean> {
  const wanted = [...new Set(scopes)].sort().join(" ");
  const [row] = await sql`
    select 1 from oauth_access_tokens t
    where t.user_id = ${userId} and t.application_id = ${applicationId} and t.revoked_at is null
      and (select string_agg(distinct s, ' ' order by s) from unnest(string_to_array(t.scopes, ' ')) s where s <> '') = ${wanted}
    limit 1`;
  return row !== undefined;
}

/** A live, re-issuable token of this user for this app with exactly these scopes (newest first). */
export async function findReusableToken(sql: Db, userId: string, applicationId: string, scopes: string): Promise<(TokenRow & { token_sealed: string }) | undefined> {
  const wanted = [...new Set(scopes.split(" ").filter(Boolean))].sort().join(" ");
  const [row] = await sql<(TokenRow & { token_sealed: string })[]>`
    select t.*, null as application_name from oauth_access_tokens t
    where t.user_id = ${userId} and t.application_id = ${applicationId} and t.revoked_at is null and t.token_sealed is not null
      and (select string_agg(distinct s, ' ' order by s) from unnest(string_to_array(t.scopes, ' ')) s where s <> '') = ${wanted}
    order by t.id desc
    limit 1`;
  return row;
}

/** Everything that lets a user's apps act for them: on password reset (as Mastodon's revoke_access!). */
export async function revokeAllTokensForUser(sql: Db, userId: string): Promise<void> {
  await sql`update oauth_access_tokens set revoked_at = now() where user_id = ${userId} and revoked_at is null`;
  await sql`update oauth_access_grants set expires_at = least(expires_at, now()) where user_id = ${userId} and used_at is null`;
  forgetSignIns();
}

// ── Browser sessions ───────────────────────────────────────────────────────────────────────────────────

export interface WebSessionRow {
  id: string;
  user_id: string;
  expires_at: Date;
  /** True when the row's expiry is older than `renewAfterSeconds` ago (see findLiveWebSession). */
  due_for_renewal: boolean;
}

export async function insertWebSession(
  sql: Db,
  values: { userId: string; tokenHash: string; ip: string | null; userAgent: string | null; ttlSeconds: number },
): Promise<void> {
  await sql`
    insert into web_sessions (user_id, token_hash, ip, user_agent, expires_at)
    values (${values.userId}, ${values.tokenHash}, ${values.ip}, ${values.userAgent}, now() + make_interval(secs => ${values.ttlSeconds}))`;
}

/** A session that has not expired; `due_for_renewal` when less than ttl - renewAfter remains. */
export async function findLiveWebSession(sql: Db, tokenHash: string, ttlSeconds: number, renewAfterSeconds: number): Promise<WebSessionRow | undefined> {
  const [row] = await sql<WebSessionRow[]>`
    select id, user_id, expires_at,
           expires_at < now() + make_interval(secs => ${ttlSeconds - renewAfterSeconds}) as due_for_renewal
    from web_sessions where token_hash = ${tokenHash} and expires_at > now()`;
  return row;
}

export async function extendWebSession(sql: Db, id: string, ttlSeconds: number): Promise<void> {
  await sql`update web_sessions set expires_at = now() + make_interval(secs => ${ttlSeconds}) where id = ${id}`;
}

export async function deleteWebSessionByHash(sql: Db, tokenHash: string): Promise<void> {
  await sql`delete from web_sessions where token_hash = ${tokenHash}`;
}

export async function deleteWebSessionsForUser(sql: Db, userId: string): Promise<void> {
  await sql`delete from web_sessions where user_id = ${userId}`;
}

export async function deleteExpiredWebSessions(sql: Db): Promise<number> {
  const rows = await sql`delete from web_sessions where expires_at <= now() returning id`;
  return rows.length;
}
