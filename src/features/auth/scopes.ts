/**
 * OAuth scopes as Mastodon defines them. A token's scopes are a set; an endpoint names the scopes any one of
 * which lets a caller in. A broad scope covers its granular children (`read` covers `read:statuses`,
 * `admin:read` covers `admin:read:accounts`), and the legacy `follow` covers follows, blocks and mutes.
 */
const GRANULAR = {
  read: ["accounts", "blocks", "bookmarks", "favourites", "filters", "follows", "lists", "mutes", "notifications", "search", "statuses"],
  write: ["accounts", "blocks", "bookmarks", "conversations", "favourites", "filters", "follows", "lists", "media", "mutes", "notifications", "reports", "statuses"],
  "admin:read": ["accounts", "reports", "domain_allows", "domain_blocks", "ip_blocks", "email_domain_blocks", "canonical_email_blocks"],
  "admin:write": ["accounts", "reports", "domain_allows", "domain_blocks", "ip_blocks", "email_domain_blocks", "canonical_email_blocks"],
} as const;

export const TOP_LEVEL_SCOPES = ["read", "write", "follow", "push", "profile", "admin:read", "admin:write"] as const;

export const ALL_SCOPES: ReadonlySet<string> = new Set([
  ...TOP_LEVEL_SCOPES,
  ...Object.entries(GRANULAR).flatMap(([parent, children]) => children.map((child) => `${parent}:${child}`)),
]);

const FOLLOW_COVERS = new Set(["read:follows", "write:follows", "read:blocks", "write:blocks", "read:mutes", "write:mutes"]);

/** "read write" → ["read", "write"]; Mastodon separates with spaces (`+` arrives decoded as a space). */
export function parseScopes(text: string | undefined | null): string[] {
  return [...new Set((text ?? "").split(/[\s+]+/).filter(Boolean))];
}

export function unknownScopes(scopes: string[]): string[] {
  return scopes.filter((s) => !ALL_SCOPES.has(s));
}

/** Does a token with `granted` satisfy `required`? */
export function covers(granted: Iterable<string>, required: string): boolean {
  const set = granted instanceof Set ? (granted as Set<string>) : new Set(granted);
  if (set.has(required)) return true;
  const parent = required.slice(0, required.lastIndexOf(":"));
  if (parent && set.has(parent)) return true;
  return set.has("follow") && FOLLOW_COVERS.has(required);
}

export function coversAny(granted: Iterable<string>, required: readonly string[]): boolean {
  const set = new Set(granted);
  return required.some((scope) => covers(set, scope));
}

/** Requested scopes must all be within what the application registered (Mastodon refuses otherwise). */
export function withinScopes(requested: string[], allowed: string[]): boolean {
  const allowedSet = new Set(allowed);
  return requested.every((scope) => covers(allowedSet, scope));
}
