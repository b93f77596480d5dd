/**
 * Local accounts: creation with Mastodon's rules in one transaction (account + user + keys), and the
 * operator's changes (role, approval, confirmation, enable/disable, password reset, deletion).
 */
import { randomBytes } from "node:crypto";
import { processProfileImage, stillKeyOf, type ProfileImageKind } from "../media/profile-images";
import type { AppContext } from "../../infra/context";
import { IMMUTABLE_CACHE_CONTROL, storageFor } from "../../infra/storage/index";
import type { Config } from "../../infra/config";
import type { Db, Sql } from "../../infra/db";
import { ApiError } from "../../infra/errors";
import { hashPassword, hashSecret, newSecret } from "../auth/secrets";
import { countableLength, countCodePoints } from "../text/length";
import { newAccountKeyPair } from "./keys";
import { emailErrors, messageFor, passwordErrors, usernameErrors, type FieldErrors, type RoleName } from "./rules";
import * as store from "./store";

export type { LocalAccountRow } from "./store";

export interface NewLocalAccount {
  username: string;
  email: string;
  password: string;
  role?: RoleName;
  locale?: string;
  /** Operator-made accounts may skip the confirmation mail. */
  confirmed?: boolean;
  approved?: boolean;
  reason?: string | null;
  signUpIp?: string | null;
  /** The operator CLI may take reserved names (e.g. `admin`); sign-up may not. */
  allowReserved?: boolean;
}

export interface CreatedLocalAccount {
  account: store.LocalAccountRow;
  /** Present when the account still has to confirm its email: the secret that goes into the mailed link. */
  confirmationToken: string | null;
}

export function accountUris(config: Pick<Config, "baseUrl">, username: string) {
  return { uri: `${config.baseUrl}/users/${username}`, url: `${config.baseUrl}/@${username}` };
}

export async function createLocalAccount(sql: Sql, config: Pick<Config, "baseUrl">, input: NewLocalAccount): Promise<CreatedLocalAccount> {
  const errors: FieldErrors = {};
  const add = (field: string, list: FieldErrors[string]) => {
    if (list.length) errors[field] = [...(errors[field] ?? []), ...list];
  };
  add("username", usernameErrors(input.username, { allowReserved: input.allowReserved }));
  add("email", emailErrors(input.email));
  add("password", passwordErrors(input.password));
  if (Object.keys(errors).length) throw ApiError.unprocessable(messageFor(errors), { details: errors });

  // Hashing and key generation are slow: do them before taking a connection for the transaction.
  const [passwordHash, keys] = await Promise.all([hashPassword(input.password), newAccountKeyPair()]);
  const confirmationToken = input.confirmed ? null : newSecret();
  const { uri, url } = accountUris(config, input.username);

  const account = await sql.begin(async (tx) => {
    // Uniqueness is checked here for a friendly message and enforced by unique indexes for races.
    if (await store.usernameTaken(tx, input.username)) add("username", [{ error: "ERR_TAKEN", description: "is already taken" }]);
    if (await store.emailTaken(tx, input.email)) add("email", [{ error: "ERR_TAKEN", description: "is already taken" }]);
    if (Object.keys(errors).length) throw ApiError.unprocessable(messageFor(errors), { details: errors });
    const account = await store.insertAccount(tx, { username: input.username, uri, url, ...keys }).catch(rethrowTaken("username"));
    await store
      .insertUser(tx, {
        accountId: account.id,
        email: input.email,
        passwordHash,
        role: input.role ?? "User",
        locale: input.locale ?? "en",
        confirmedAt: input.confirmed ? new Date() : null,
        confirmationTokenHash: confirmationToken ? hashSecret(confirmationToken) : null,
        approved: input.approved ?? true,
        reason: input.reason ?? null,
        signUpIp: input.signUpIp ?? null,
      })
      .catch(rethrowTaken("email"));
    return (await store.findLocalByUsername(tx, input.username))!;
  });
  return { account, confirmationToken };
}

function rethrowTaken(field: string) {
  return (error: unknown): never => {
    if ((error as { code?: string }).code === "23505") {
      const errors = { [field]: [{ error: "ERR_TAKEN" as const, description: "is already taken" }] };
      throw ApiError.unprocessable(messageFor(errors), { details: errors });
    }
    throw error;
  };
}

export async function findLocalAccount(sql: Sql, username: string): Promise<store.LocalAccountRow> {
  const account = await store.findLocalByUsername(sql, username.replace(/^@/, ""));
  if (!account) throw ApiError.notFound(`No local account named ${username}`);
  return account;
}

export const listLocalAccounts = store.listLocal;
export const findLocalAccountByUserId = store.findLocalByUserId;
export const findLocalAccountByEmail = store.findLocalByEmail;

export interface AccountChanges {
  role?: RoleName;
  approve?: boolean;
  confirm?: boolean;
  disabled?: boolean;
  email?: string;
  /** New password (already chosen by the caller). */
  password?: string;
}

export async function modifyLocalAccount(sql: Sql, username: string, changes: AccountChanges): Promise<store.LocalAccountRow> {
  const account = await findLocalAccount(sql, username);
  if (changes.email !== undefined) {
    const errors = emailErrors(changes.email);
    if (errors.length) throw ApiError.unprocessable(messageFor({ email: errors }), { details: { email: errors } });
  }
  if (changes.password !== undefined) {
    const errors = passwordErrors(changes.password);
    if (errors.length) throw ApiError.unprocessable(messageFor({ password: errors }), { details: { password: errors } });
  }
  await store
    .updateUser(sql, account.user.id, {
      ...(changes.role !== undefined && { role: changes.role }),
      ...(changes.approve && { approved: true }),
      ...(changes.confirm && !account.user.confirmed_at && { confirmed_at: new Date() }),
      ...(changes.disabled !== undefined && { disabled: changes.disabled }),
      ...(changes.email !== undefined && { email: changes.email }),
      ...(changes.password !== undefined && { password_hash: await hashPassword(changes.password) }),
    })
    .catch(rethrowTaken("email"));
  return (await store.findLocalByUserId(sql, account.user.id))!;
}

export async function deleteLocalAccount(sql: Sql, username: string): Promise<void> {
  const account = await findLocalAccount(sql, username);
  await store.deleteAccount(sql, account.id);
}

// ---- Reading accounts for the API ----

export type { AccountWithUser } from "./store";

const MAX_ID = 2n ** 63n - 1n;

/** A well-formed account id (a positive bigint). Anything else can name no account: callers answer 404. */
export function isAccountId(text: unknown): text is string {
  return typeof text === "string" && /^[0-9]{1,19}$/.test(text) && BigInt(text) <= MAX_ID && BigInt(text) > 0n;
}

/**
 * Mastodon hides local accounts that have not confirmed their email or await approval (404 by id, skipped
 * in lists): nobody should be able to see, follow or mention a sign-up that may never become real.
 */
function isVisible(account: store.AccountWithUser): boolean {
  return !account.user || (account.user.confirmed_at !== null && account.user.approved);
}

export async function findVisibleAccount(sql: Sql, id: string): Promise<store.AccountWithUser | undefined> {
  if (!isAccountId(id)) return undefined;
  const [account] = await store.findAccountsByIds(sql, [id]);
  return account && isVisible(account) ? account : undefined;
}

/** Several accounts in the order asked for; malformed, unknown and hidden ids are skipped. */
export async function findVisibleAccounts(sql: Sql, ids: string[]): Promise<store.AccountWithUser[]> {
  const wanted = [...new Set(ids.filter(isAccountId))];
  const byId = new Map((await store.findAccountsByIds(sql, wanted)).map((a) => [a.id, a]));
  return wanted.map((id) => byId.get(id)).filter((a): a is store.AccountWithUser => a !== undefined && isVisible(a));
}

export async function findVisibleLocalAccount(sql: Sql, username: string): Promise<store.LocalAccountRow | undefined> {
  if (!/^[a-z0-9_]{1,64}$/i.test(username)) return undefined;
  const account = await store.findLocalByUsername(sql, username);
  return account && isVisible(account) ? account : undefined;
}

/** The local accounts a post may mention: visible (confirmed, approved) and not suspended. */
export async function findMentionableLocalAccounts(sql: Db, usernames: string[]): Promise<store.LocalAccountRow[]> {
  const wanted = [...new Set(usernames.filter((u) => /^[a-z0-9_]{1,64}$/i.test(u)))];
  return (await store.findLocalByUsernames(sql, wanted)).filter((a) => isVisible(a) && a.suspended_at === null);
}

// ---- Profile and posting defaults (update_credentials) ----

/** Mastodon's limits for local profiles (Account::DISPLAY_NAME_LENGTH_LIMIT, NOTE_LENGTH_LIMIT, DEFAULT_FIELDS_SIZE…). */
export const PROFILE_LIMITS = { displayName: 30, note: 500, fields: 4, fieldName: 255, fieldValue: 255 } as const;

export const VISIBILITIES = ["public", "unlisted", "private", "direct"] as const;
export type Visibility = (typeof VISIBILITIES)[number];

/** Posting defaults live in users.settings under these keys (Mastodon's setting_default_*). */
export interface PostingDefaults {
  privacy: Visibility;
  sensitive: boolean;
  language: string | null;
}

export function postingDefaults(user: store.UserRow): PostingDefaults {
  const settings = user.settings ?? {};
  const privacy = settings.default_privacy;
  return {
    privacy: (VISIBILITIES as readonly unknown[]).includes(privacy) ? (privacy as Visibility) : "public",
    sensitive: settings.default_sensitive === true,
    language: typeof settings.default_language === "string" ? settings.default_language : null,
  };
}

export interface ProfileChanges {
  displayName?: string;
  note?: string;
  locked?: boolean;
  bot?: boolean;
  discoverable?: boolean;
  indexable?: boolean;
  hideCollections?: boolean;
  /** Replaces every field; entries with a blank name are dropped, as Mastodon does. */
  fields?: { name: string; value: string }[];
  privacy?: Visibility;
  sensitive?: boolean;
  language?: string | null;
}

function profileErrors(changes: ProfileChanges, fields: { name: string; value: string }[] | undefined): FieldErrors {
  const errors: FieldErrors = {};
  const tooLong = (max: number, what = "characters") => ({ error: "ERR_TOO_LONG" as const, description: `is too long (maximum is ${max} ${what})` });
  if (changes.displayName !== undefined && countCodePoints(changes.displayName) > PROFILE_LIMITS.displayName) errors.display_name = [tooLong(PROFILE_LIMITS.displayName)];
  if (changes.note !== undefined && countableLength(changes.note) > PROFILE_LIMITS.note) errors.note = [tooLong(PROFILE_LIMITS.note)];
  if (fields) {
    const list: FieldErrors[string] = [];
    if (fields.length > PROFILE_LIMITS.fields) list.push(tooLong(PROFILE_LIMITS.fields, "fields"));
    if (fields.some((f) => countCodePoints(f.name) > PROFILE_LIMITS.fieldName || countCodePoints(f.value) > PROFILE_LIMITS.fieldValue))
      list.push(tooLong(PROFILE_LIMITS.fieldValue));
    if (list.length) errors.fields = list;
  }
  return errors;
}

/** Apply a profile edit in one transaction (accounts row + user settings) and return the fresh account. */
/** Throws the 422 updateCredentials would, without writing: lets a caller check before other side effects. */
export function checkProfileChanges(changes: ProfileChanges): void {
  const fields = changes.fields?.filter((f) => f.name.trim() !== "");
  const errors = profileErrors(changes, fields);
  if (Object.keys(errors).length) throw ApiError.unprocessable(messageFor(errors), { details: errors });
}

export async function updateCredentials(sql: Sql, account: store.LocalAccountRow, changes: ProfileChanges): Promise<store.LocalAccountRow> {
  checkProfileChanges(changes);
  const fields = changes.fields?.filter((f) => f.name.trim() !== "");

  const columns: store.ProfileColumns = {};
  if (changes.displayName !== undefined) columns.display_name = changes.displayName;
  if (changes.note !== undefined) columns.note = changes.note;
  if (changes.locked !== undefined) columns.locked = changes.locked;
  if (changes.bot !== undefined) columns.bot = changes.bot;
  if (changes.discoverable !== undefined) columns.discoverable = changes.discoverable;
  if (changes.indexable !== undefined) columns.indexable = changes.indexable;
  if (changes.hideCollections !== undefined) columns.hide_collections = changes.hideCollections;
  if (fields) {
    // A field whose value did not change keeps its rel=me verification (Account#fields_attributes=).
    columns.fields = fields.map((f) => {
      const previous = account.fields.find((old) => old.value === f.value && old.verified_at);
      return { name: f.name, value: f.value, verified_at: previous?.verified_at ?? null };
    });
  }
  const settings: Record<string, unknown> = {};
  if (changes.privacy !== undefined) settings.default_privacy = changes.privacy;
  if (changes.sensitive !== undefined) settings.default_sensitive = changes.sensitive;
  if (changes.language !== undefined) settings.default_language = changes.language;

  await store.updateProfile(sql, { accountId: account.id, userId: account.user.id }, columns, settings);
  return (await store.findLocalByUserId(sql, account.user.id))!;
}

// ---- Avatars and headers ----

/** `accounts/avatars/117/657/969/original/<random>.png`: spread over directories, not guessable. */
function profileImageKey(accountId: string, kind: ProfileImageKind, ext: string): string {
  const spread = accountId.padStart(18, "0").match(/.{1,3}/g)!.join("/");
  return `accounts/${kind}s/${spread}/original/${randomBytes(16).toString("hex")}.${ext}`;
}

/**
 * Replace an account's avatar or header with an uploaded file (or remove it with `null`). The new files are
 * stored before the row points at them, and removed again if that fails; the old files go after the swap.
 */
export async function setProfileImage(
  context: Pick<AppContext, "sql" | "config">,
  account: store.LocalAccountRow,
  kind: ProfileImageKind,
  file: Blob | null,
): Promise<void> {
  const storage = storageFor(context.config);
  const written: string[] = [];
  let key: string | null = null;
  if (file) {
    const image = await processProfileImage(new Uint8Array(await file.arrayBuffer()), kind);
    key = profileImageKey(account.id, kind, image.ext);
    try {
      await storage.put(key, image.data, { contentType: image.contentType, cacheControl: IMMUTABLE_CACHE_CONTROL });
      written.push(key);
      if (image.still) {
        await storage.put(stillKeyOf(key)!, image.still.data, { contentType: image.still.contentType, cacheControl: IMMUTABLE_CACHE_CONTROL });
        written.push(stillKeyOf(key)!);
      }
    } catch (error) {
      await storage.delete(written).catch(() => {});
      throw error;
    }
  }
  let previous: string | null;
  try {
    // Locked read then write: two uploads at once both get their old file cleaned up, none is orphaned.
    previous = await context.sql.begin(async (tx) => {
      const old = await store.lockImageKey(tx, account.id, kind);
      await store.setImageKey(tx, account.id, kind, key);
      return old;
    });
  } catch (error) {
    await storage.delete(written).catch(() => {});
    throw error;
  }
  if (previous) await storage.delete([previous, stillKeyOf(previous)].filter((k): k is string => !!k)).catch(() => {});
}

// ---- What the instance endpoints need to know about accounts ----

export const countLocalUsers = store.countLocalUsers;
export const knownDomains = store.knownDomains;
export const weeklyActivity = store.weeklyActivity;

/** The contact account: the configured username, else the first Owner, else none. */
export async function findContactAccount(sql: Sql, username: string): Promise<store.LocalAccountRow | undefined> {
  const name = username.trim().replace(/^@/, "");
  const named = name ? await findVisibleLocalAccount(sql, name) : undefined;
  return named ?? (await store.findFirstLocalWithRole(sql, "Owner"));
}

// ── Email confirmation and password reset (the tokens; mailing them is the caller's job) ───────────────

/** Devise's confirm_within as Mastodon sets it: a confirmation link works for 3 days. */
export const CONFIRM_WITHIN_SECONDS = 3 * 24 * 3600;
/** Devise's reset_password_within: a reset link works for 6 hours. */
export const RESET_PASSWORD_WITHIN_SECONDS = 6 * 3600;

/** Confirm the email behind a mailed token. Undefined when the token is unknown, used or too old. */
export async function confirmEmail(sql: Sql, token: string): Promise<store.LocalAccountRow | undefined> {
  if (!plausibleToken(token)) return undefined;
  const userId = await store.confirmByTokenHash(sql, hashSecret(token), CONFIRM_WITHIN_SECONDS);
  return userId ? store.findLocalByUserId(sql, userId) : undefined;
}

/**
 * A fresh confirmation token for an account that still has to confirm (the old link stops working).
 * Undefined when there is no such account or it is already confirmed: callers answer the same either way.
 */
export async function renewConfirmationToken(sql: Sql, email: string): Promise<{ account: store.LocalAccountRow; token: string } | undefined> {
  const account = await store.findLocalByEmail(sql, email.trim());
  if (!account || account.user.confirmed_at) return undefined;
  const token = newSecret();
  await store.setConfirmationToken(sql, account.user.id, hashSecret(token));
  return { account, token };
}

/** A password reset token for the account with this email (the previous one stops working). */
export async function newPasswordResetToken(sql: Sql, email: string): Promise<{ account: store.LocalAccountRow; token: string } | undefined> {
  const account = await store.findLocalByEmail(sql, email.trim());
  if (!account) return undefined;
  const token = newSecret();
  await store.setResetPasswordToken(sql, account.user.id, hashSecret(token));
  return { account, token };
}

export async function passwordResetTokenIsLive(sql: Sql, token: string): Promise<boolean> {
  if (!plausibleToken(token)) return false;
  return (await store.findUserIdByResetTokenHash(sql, hashSecret(token), RESET_PASSWORD_WITHIN_SECONDS)) !== undefined;
}

/**
 * Set the password chosen through a reset link, using the token up. Takes a transaction (`Db`) so the caller
 * can end sessions in the same commit; the password is hashed by the caller, before the transaction starts.
 * Returns the user id, or undefined when the token is unknown, used or too old.
 */
export async function resetPasswordWithToken(db: Db, token: string, passwordHash: string): Promise<string | undefined> {
  if (!plausibleToken(token)) return undefined;
  return store.resetPasswordByTokenHash(db, hashSecret(token), RESET_PASSWORD_WITHIN_SECONDS, passwordHash);
}

export const recordSignIn = store.recordSignIn;

/** Our tokens are 43 base64url characters; anything far off is not worth hashing and looking up. */
function plausibleToken(token: string): boolean {
  return token.length >= 16 && token.length <= 128;
}
