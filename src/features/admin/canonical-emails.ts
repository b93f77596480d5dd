/**
 * Canonical e-mail blocks (Mastodon's CanonicalEmailBlock): a sign-up is refused when the sha256 of its
 * canonical address is blocked, so "Spam.Er+2@example.com" cannot come back after "spamer@example.com" was
 * blocked. Suspending a local account blocks its address this way (lifted again on unsuspend), as Mastodon.
 * The table (migrations/0024) is moderation's; its SQL lives here with the rules.
 */
import { createHash } from "node:crypto";
import type { Db } from "../../infra/db";
import { ApiError } from "../../infra/errors";

export interface CanonicalEmailBlockRow {
  id: string;
  canonical_email_hash: string;
  created_at: Date;
}

/**
 * Mastodon's canonical form: lower-cased, dots removed from the local part and anything after its first
 * "+" dropped, for every domain (not just gmail's).
 */
export function canonicalEmail(email: string): string {
  const text = email.trim().toLowerCase();
  const at = text.lastIndexOf("@");
  const local = at < 0 ? text : text.slice(0, at);
  const domain = at < 0 ? "" : text.slice(at + 1);
  const user = local.replace(/\./g, "").split("+", 1)[0]!;
  return at < 0 ? user : `${user}@${domain}`;
}

export function canonicalEmailHash(email: string): string {
  return createHash("sha256").update(canonicalEmail(email)).digest("hex");
}

export const isEmailHash = (text: string) => /^[0-9a-f]{64}$/.test(text);

export async function listCanonicalEmailBlocks(db: Db, page: { where: unknown; order: unknown; limit: number }): Promise<CanonicalEmailBlockRow[]> {
  return db<CanonicalEmailBlockRow[]>`
    select id, canonical_email_hash, created_at from canonical_email_blocks x where ${page.where as never} order by ${page.order as never} limit ${page.limit}`;
}

export async function findCanonicalEmailBlock(db: Db, id: string): Promise<CanonicalEmailBlockRow> {
  const [row] = await db<CanonicalEmailBlockRow[]>`select id, canonical_email_hash, created_at from canonical_email_blocks where id = ${id}`;
  if (!row) throw ApiError.notFound();
  return row;
}

/** The blocks matching an address (POST …/test): none or one, as a list like Mastodon's. */
export async function matchingCanonicalEmailBlocks(db: Db, email: string): Promise<CanonicalEmailBlockRow[]> {
  return db<CanonicalEmailBlockRow[]>`
    select id, canonical_email_hash, created_at from canonical_email_blocks where canonical_email_hash = ${canonicalEmailHash(email)}`;
}

export async function isCanonicalEmailBlocked(db: Db, email: string): Promise<boolean> {
  return (await matchingCanonicalEmailBlocks(db, email)).length > 0;
}

/** Block by address (hashed here) or by a hash given as is; a duplicate is Mastodon's 422. */
export async function createCanonicalEmailBlock(db: Db, input: { email?: string; hash?: string; referenceAccountId?: string }): Promise<CanonicalEmailBlockRow> {
  const hash = input.email !== undefined ? canonicalEmailHash(input.email) : input.hash;
  if (!hash || !isEmailHash(hash)) throw ApiError.unprocessable("Validation failed: Canonical email hash can't be blank");
  const [row] = await db<CanonicalEmailBlockRow[]>`
    insert into canonical_email_blocks (canonical_email_hash, reference_account_id) values (${hash}, ${input.referenceAccountId ?? null})
    on conflict (canonical_email_hash) do nothing returning id, canonical_email_hash, created_at`;
  if (!row) throw ApiError.unprocessable("Validation failed: Canonical email hash has already been taken");
  return row;
}

export async function deleteCanonicalEmailBlock(db: Db, id: string): Promise<void> {
  if ((await db`delete from canonical_email_blocks where id = ${id} returning id`).length === 0) throw ApiError.notFound();
}

/** On suspension of a local account: block its address unless it already is. */
export async function blockForSuspension(db: Db, accountId: string, email: string): Promise<void> {
  await db`
    insert into canonical_email_blocks (canonical_email_hash, reference_account_id) values (${canonicalEmailHash(email)}, ${accountId})
    on conflict (canonical_email_hash) do nothing`;
}

/** On unsuspension: lift the blocks that suspension made (blocks added by hand stay). */
export async function unblockForSuspension(db: Db, accountId: string): Promise<void> {
  await db`delete from canonical_email_blocks where reference_account_id = ${accountId}`;
}
