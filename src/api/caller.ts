/**
 * Who is calling: the Bearer token (header, or `access_token` as a query or form parameter, which Mastodon
 * also accepts) resolved to its token row and, for user tokens, the local account. Endpoint declarations say
 * what they need ("app" token, "user" token, scopes, role); this file enforces it with Mastodon's answers.
 */
import { findLocalAccountByUserId, type LocalAccountRow } from "../features/accounts/service";
import type { RoleName } from "../features/accounts/rules";
import { coversAny, parseScopes } from "../features/auth/scopes";
import { authCache, authCacheReady, findActiveTokenByKey, tokenKey, touchToken, type TokenRow } from "../features/auth/tokens";
import type { AppContext } from "../infra/context";
import { ApiError } from "../infra/errors";

export interface Caller {
  token: TokenRow;
  scopes: Set<string>;
  /** The signed-in account; undefined for app-only (client_credentials) tokens. */
  account?: LocalAccountRow;
}

export type AuthRequirement =
  /** No token needed; one is still read when sent (so responses can be personalised). */
  | "optional"
  /** Any valid token: an app token or a user token. */
  | "app"
  /** A token that belongs to a signed-in, confirmed, approved and enabled user. */
  | "user";

export interface AuthSpec {
  auth: AuthRequirement;
  /** Any one of these scopes lets the caller in (Mastodon's doorkeeper_authorize! semantics). */
  scopes?: readonly string[];
  /** Lowest role required (Moderator < Admin < Owner). */
  role?: RoleName;
}

const ROLE_RANK: Record<RoleName, number> = { User: 0, Moderator: 1, Admin: 2, Owner: 3 };

export function bearerToken(request: Request, url: URL): string | undefined {
  const header = request.headers.get("authorization");
  if (header) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return match ? match[1] : "";
  }
  return url.searchParams.get("access_token") ?? undefined;
}

/** Methods that only read: the only ones served from the sign-in cache. */
const READS = new Set(["GET", "HEAD", "OPTIONS"]);

export async function resolveCaller(context: AppContext, request: Request, clientIp: string | null): Promise<Caller | undefined> {
  const url = new URL(request.url);
  const token = bearerToken(request, url);
  if (token === undefined) return undefined;
  const key = tokenKey(token);
  if (key === undefined) throw ApiError.unauthorized("The access token is invalid");
  // A write may change the caller or anyone else (follow counts, a profile, a revoked token): it is looked
  // up fresh, and what reads remembered is forgotten (see features/auth/tokens.ts for the other ways).
  const read = READS.has(request.method);
  if (!read) authCache.clear();
  const useCache = read && authCacheReady(context.sql);
  const cached = useCache ? (authCache.get(key) as Caller | undefined) : undefined;
  if (cached) return cached;
  const row = await findActiveTokenByKey(context.sql, key);
  if (!row) throw ApiError.unauthorized("The access token is invalid");
  const account = row.user_id ? await findLocalAccountByUserId(context.sql, row.user_id) : undefined;
  if (row.user_id && !account) throw ApiError.unauthorized("The access token is invalid");
  void touchToken(context.sql, row.id, clientIp).catch(() => {});
  const caller: Caller = { token: row, scopes: new Set(parseScopes(row.scopes)), account };
  if (useCache) authCache.set(key, caller);
  return caller;
}

/** Apply an endpoint's requirements to the resolved caller; returns it narrowed, or throws Mastodon's error. */
export function authorize(spec: AuthSpec, caller: Caller | undefined): Caller | undefined {
  if (spec.auth === "optional" && !caller) return undefined;
  if (!caller) {
    throw spec.auth === "user" ? ApiError.unauthorized("This method requires an authenticated user") : ApiError.unauthorized("The access token is invalid");
  }
  if (spec.scopes?.length && !coversAny(caller.scopes, spec.scopes)) throw ApiError.forbidden("This action is outside the authorized scopes");
  if (spec.auth === "user") {
    const account = caller.account;
    if (!account) throw ApiError.unprocessable("This method requires an authenticated user");
    const user = account.user;
    if (user.disabled || account.suspended_at) throw ApiError.forbidden("Your login is currently disabled");
    if (!user.confirmed_at) throw ApiError.forbidden("Your login is missing a confirmed e-mail address");
    if (!user.approved) throw ApiError.forbidden("Your login is currently pending approval");
    if (spec.role && ROLE_RANK[user.role] < ROLE_RANK[spec.role]) throw ApiError.forbidden("This action is not allowed");
  }
  return caller;
}
