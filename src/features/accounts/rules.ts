/**
 * Mastodon's rules for new local accounts, as pure functions (unit-tested). Each failure is a field error
 * in Mastodon's shape: `{ error: "ERR_TAKEN", description: "is already taken" }`.
 */
export interface FieldError {
  error: "ERR_BLANK" | "ERR_INVALID" | "ERR_TOO_LONG" | "ERR_TOO_SHORT" | "ERR_TAKEN" | "ERR_RESERVED" | "ERR_ACCEPTED" | "ERR_BLOCKED" | "ERR_INCLUSION";
  description: string;
}
export type FieldErrors = Record<string, FieldError[]>;

export const USERNAME_MAX = 30;
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 72;
export const EMAIL_MAX = 254;

/** Names people must not be able to take (Mastodon's ReservedUsernameValidator plus our own paths). */
export const RESERVED_USERNAMES = new Set([
  "admin", "administrator", "help", "mod", "moderator", "root", "support", "webmaster",
  "postmaster", "abuse", "hostmaster", "security", "noreply", "no-reply", "instance", "actor", "woolly", "system", "api", "oauth", "settings",
]);

export function usernameErrors(username: string, options: { allowReserved?: boolean } = {}): FieldError[] {
  if (username.trim() === "") return [{ error: "ERR_BLANK", description: "can't be blank" }];
  const errors: FieldError[] = [];
  if (!/^[a-z0-9_]+$/i.test(username)) errors.push({ error: "ERR_INVALID", description: "must contain only letters, numbers and underscores" });
  if ([...username].length > USERNAME_MAX) errors.push({ error: "ERR_TOO_LONG", description: `is too long (maximum is ${USERNAME_MAX} characters)` });
  if (!options.allowReserved && RESERVED_USERNAMES.has(username.toLowerCase())) errors.push({ error: "ERR_RESERVED", description: "is reserved" });
  return errors;
}

/** Deliberately simple: one @, no spaces, a host. Deliverability is proven by the confirmation mail. */
export function emailErrors(email: string): FieldError[] {
  if (email.trim() === "") return [{ error: "ERR_BLANK", description: "can't be blank" }];
  if (email.length > EMAIL_MAX || !/^[^\s@]+@[^\s@.]+(\.[^\s@.]+)*$/.test(email)) return [{ error: "ERR_INVALID", description: "is invalid" }];
  return [];
}

export function passwordErrors(password: string): FieldError[] {
  if (password === "") return [{ error: "ERR_BLANK", description: "can't be blank" }];
  if ([...password].length < PASSWORD_MIN) return [{ error: "ERR_TOO_SHORT", description: `is too short (minimum is ${PASSWORD_MIN} characters)` }];
  // argon2 takes any length, but a cap stops megabyte "passwords" from costing CPU.
  if (password.length > PASSWORD_MAX * 4) return [{ error: "ERR_TOO_LONG", description: "is too long" }];
  return [];
}

export const ROLES = ["User", "Moderator", "Admin", "Owner"] as const;
export type RoleName = (typeof ROLES)[number];

export function isRoleName(text: string): text is RoleName {
  return (ROLES as readonly string[]).includes(text);
}

/** Mastodon's Role entity ids for the default roles (Owner 3, Admin 2, Moderator 1, everyone -99). */
export const ROLE_IDS: Record<RoleName, string> = { User: "-99", Moderator: "1", Admin: "2", Owner: "3" };

export function messageFor(errors: FieldErrors): string {
  const parts = Object.entries(errors).flatMap(([field, list]) => list.map((e) => `${capitalise(field)} ${e.description}`));
  return `Validation failed: ${parts.join(", ")}`;
}

function capitalise(field: string): string {
  return field.charAt(0).toUpperCase() + field.slice(1).replace(/_/g, " ");
}
