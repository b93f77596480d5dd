/**
 * Access tokens: made (by OAuth, or by the operator for bots and scripts), looked up from a Bearer header,
 * and revoked. The plain token is shown once; only its hash is stored.
 */
import type { Sql } from "../../infra/db";
import { ApiError } from "../../infra/errors";
import { parseScopes, unknownScopes } from "./scopes";
import { hashSecret, newSecret } from "./secrets";
import * as store from "./store";

export type { TokenRow } from "./store";

export async function issueToken(
  sql: Sql,
  options: { userId: string | null; applicationId: string | null; scopes: string; description?: string },
): Promise<{ token: string; row: store.TokenRow }> {
  const scopes = parseScopes(options.scopes);
  const unknown = unknownScopes(scopes);
  if (scopes.length === 0 || unknown.length) throw ApiError.unprocessable(`Invalid scopes: ${unknown.join(" ") || "(none given)"}`);
  const token = newSecret();
  const row = await store.insertToken(sql, {
    applicationId: options.applicationId,
    userId: options.userId,
    tokenHash: hashSecret(token),
    scopes: scopes.join(" "),
    description: options.description,
  });
  return { token, row };
}

export async function findActiveToken(sql: Sql, token: string): Promise<store.TokenRow | undefined> {
  if (token.length === 0 || token.length > 512) return undefined;
  return store.findActiveTokenByHash(sql, hashSecret(token));
}

export const listTokensForUser = store.listTokensForUser;

export const revokeTokenById = store.revokeTokenById;

export async function revokeToken(sql: Sql, token: string, applicationId?: string): Promise<boolean> {
  return store.revokeTokenByHash(sql, hashSecret(token), applicationId);
}

// ---- the cheap path (see sign-in-cache.ts) ----

export { AUTH_CACHE_TTL_MS, authCache, authCacheReady, forgetSignIns } from "./sign-in-cache";

/** The hash a token is stored and cached under; undefined for what cannot be a token. */
export function tokenKey(token: string): string | undefined {
  return token.length === 0 || token.length > 512 ? undefined : hashSecret(token);
}

export const findActiveTokenByKey = store.findActiveTokenByHash;

const lastTouched = new Map<string, number>();
const TOUCH_EVERY_MS = 60_000;
const TOUCHED_MAX = 10_000;

/**
 * Record a token's last use at most once a minute per process (the store's query also keeps it to once a
 * minute across processes): without this, every request would be a write.
 */
export async function touchToken(sql: Sql, id: string, ip: string | null): Promise<void> {
  const now = Date.now();
  if ((lastTouched.get(id) ?? 0) > now - TOUCH_EVERY_MS) return;
  if (lastTouched.size >= TOUCHED_MAX) lastTouched.clear();
  lastTouched.set(id, now);
  await store.touchToken(sql, id, ip);
}
