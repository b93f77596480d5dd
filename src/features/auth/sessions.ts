/**
 * Browser sessions and the ways into them: signing in with email and password, confirming an email, and
 * resetting a forgotten password. The HTML pages (src/web) call these; they decide nothing themselves.
 *
 * A session is a random token in the `_woolly_session` cookie; the database keeps its sha256. Sessions last
 * two weeks and slide: using one within the last 13 days of its life pushes its expiry two weeks out again.
 */
import {
  confirmEmail,
  findLocalAccountByEmail,
  findLocalAccountByUserId,
  newPasswordResetToken,
  recordSignIn,
  renewConfirmationToken,
  resetPasswordWithToken,
  type LocalAccountRow,
} from "../accounts/service";
import { confirmationLink } from "../accounts/registration";
import { passwordErrors } from "../accounts/rules";
import type { AppContext } from "../../infra/context";
import type { Sql } from "../../infra/db";
import { log } from "../../infra/log";
import { enqueueMail } from "../mail/service";
import { decoyPasswordHash, hashPassword, hashSecret, newSecret, verifyPassword } from "./secrets";
import * as store from "./store";

export const SESSION_COOKIE = "_woolly_session";
export const SESSION_TTL_SECONDS = 14 * 24 * 3600;
/** Renew (and re-send the cookie) at most once a day, not on every page. */
const SESSION_RENEW_AFTER_SECONDS = 24 * 3600;

export interface WebSession {
  /** sha256 of the cookie value; CSRF tokens are derived from it. */
  tokenHash: string;
  account: LocalAccountRow;
  /** The expiry moved: the cookie must be sent again with a fresh Max-Age. */
  renewed: boolean;
}

/** The live session behind a cookie value, or undefined (unknown, expired, or the user may no longer sign in). */
export async function findSession(sql: Sql, token: string | undefined): Promise<WebSession | undefined> {
  if (!token || token.length > 128) return undefined;
  const tokenHash = hashSecret(token);
  const row = await store.findLiveWebSession(sql, tokenHash, SESSION_TTL_SECONDS, SESSION_RENEW_AFTER_SECONDS);
  if (!row) return undefined;
  const account = await findLocalAccountByUserId(sql, row.user_id);
  if (!account || refusal(account) !== undefined) {
    await store.deleteWebSessionByHash(sql, tokenHash);
    return undefined;
  }
  if (row.due_for_renewal) await store.extendWebSession(sql, row.id, SESSION_TTL_SECONDS);
  return { tokenHash, account, renewed: row.due_for_renewal };
}

export async function endSession(sql: Sql, token: string | undefined): Promise<void> {
  if (token && token.length <= 128) await store.deleteWebSessionByHash(sql, hashSecret(token));
}

/** Why a person with the right password still may not sign in, in the order Mastodon checks. */
export type SignInRefusal = "disabled" | "unconfirmed" | "pending";

function refusal(account: LocalAccountRow): SignInRefusal | undefined {
  if (account.user.disabled || account.suspended_at) return "disabled";
  if (!account.user.confirmed_at) return "unconfirmed";
  if (!account.user.approved) return "pending";
  return undefined;
}

export type SignInResult =
  | { ok: true; token: string; account: LocalAccountRow }
  /** Unknown email and wrong password look the same, so the page cannot tell who has an account. */
  | { ok: false; reason: "invalid" }
  | { ok: false; reason: SignInRefusal; account: LocalAccountRow };

export async function signIn(
  sql: Sql,
  input: { email: string; password: string; ip: string | null; userAgent: string | null },
): Promise<SignInResult> {
  const email = input.email.trim();
  const account = email && email.length <= 320 ? await findLocalAccountByEmail(sql, email) : undefined;
  // Verify against a decoy hash when there is no such user, so both cases take the time of one argon2 check.
  const hash = account?.user.password_hash ?? (await decoyPasswordHash());
  const passwordOk = (await verifyPassword(input.password.slice(0, 1024), hash)) && account !== undefined;
  if (!account || !passwordOk) return { ok: false, reason: "invalid" };
  const refused = refusal(account);
  if (refused) return { ok: false, reason: refused, account };

  const token = newSecret();
  await sql.begin(async (tx) => {
    await store.insertWebSession(tx, {
      userId: account.user.id,
      tokenHash: hashSecret(token),
      ip: input.ip,
      userAgent: input.userAgent?.slice(0, 512) ?? null,
      ttlSeconds: SESSION_TTL_SECONDS,
    });
    await recordSignIn(tx, account.user.id, input.ip);
  });
  return { ok: true, token, account };
}

// ── Email confirmation ──────────────────────────────────────────────────────────────────────────────────

export type ConfirmationResult = { ok: true; account: LocalAccountRow; pendingApproval: boolean } | { ok: false };

export async function confirmWithToken(sql: Sql, token: string): Promise<ConfirmationResult> {
  const account = await confirmEmail(sql, token);
  return account ? { ok: true, account, pendingApproval: !account.user.approved } : { ok: false };
}

/**
 * Mail a new confirmation link if this email belongs to an account still waiting for one. The caller answers
 * the same whatever happens here; to keep the answer's timing from telling either, the work runs after it.
 */
export function resendConfirmationInBackground(context: AppContext, email: string): void {
  void (async () => {
    const renewed = await renewConfirmationToken(context.sql, email);
    if (!renewed) return;
    await enqueueMail(context, {
      template: "confirmation",
      to: renewed.account.user.email,
      locale: renewed.account.user.locale,
      username: renewed.account.username,
      link: confirmationLink(context, renewed.token),
    });
  })().catch((error) => log.warn("confirmation resend failed", { error: (error as Error).message }));
}

// ── Password reset ──────────────────────────────────────────────────────────────────────────────────────

export function passwordResetLink(context: AppContext, token: string): string {
  return `${context.config.baseUrl}/auth/password/edit?reset_password_token=${encodeURIComponent(token)}`;
}

/** Mail a reset link if the email has an account; same answer and timing either way (see above). */
export function requestPasswordResetInBackground(context: AppContext, email: string): void {
  void (async () => {
    const issued = await newPasswordResetToken(context.sql, email);
    if (!issued) return;
    await enqueueMail(context, {
      template: "password_reset",
      to: issued.account.user.email,
      locale: issued.account.user.locale,
      username: issued.account.username,
      link: passwordResetLink(context, issued.token),
    });
  })().catch((error) => log.warn("password reset request failed", { error: (error as Error).message }));
}

export type PasswordResetResult = { ok: true } | { ok: false; reason: "invalid_token" } | { ok: false; reason: "password"; message: string };

/**
 * Set a new password through a reset link. In the same transaction every browser session and every app token
 * of the person ends, as Mastodon's PasswordsController does (`session_activations.destroy_all`,
 * `revoke_access!`): a reset is what people do when someone else may be in their account.
 */
export async function resetPassword(sql: Sql, token: string, password: string): Promise<PasswordResetResult> {
  const problems = passwordErrors(password);
  if (problems.length) return { ok: false, reason: "password", message: `Password ${problems[0]!.description}` };
  const passwordHash = await hashPassword(password);
  const userId = await sql.begin(async (tx) => {
    const id = await resetPasswordWithToken(tx, token, passwordHash);
    if (id) {
      await store.deleteWebSessionsForUser(tx, id);
      await store.revokeAllTokensForUser(tx, id);
    }
    return id;
  });
  return userId ? { ok: true } : { ok: false, reason: "invalid_token" };
}
