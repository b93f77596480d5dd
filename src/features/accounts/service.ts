/**
 * Local accounts: creation with Mastodon's rules in one transaction (account + user + keys), and the
 * operator's changes (role, approval, confirmation, enable/disable, password reset, deletion).
 */
import type { Config } from "../../infra/config";
import type { Sql } from "../../infra/db";
import { ApiError } from "../../infra/errors";
import { hashPassword, hashSecret, newSecret } from "../auth/secrets";
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
