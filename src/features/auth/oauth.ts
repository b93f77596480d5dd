/**
 * OAuth 2 as Mastodon (Doorkeeper) does it: app registration, the authorization request's rules, codes bound
 * to a redirect URI and a PKCE challenge, and the token endpoint's grants (authorization_code and
 * client_credentials; no password grant since Mastodon 4.4, no refresh tokens). Errors at the token endpoint
 * are RFC 6749's `{error, error_description}`, carried by ApiError so the edge renders them like any other.
 *
 * Secrets at rest are sha256 hashes: client secrets, codes and tokens alike.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { Db, Sql } from "../../infra/db";
import { ApiError } from "../../infra/errors";
import { parseScopes, unknownScopes, withinScopes } from "./scopes";
import { hashSecret, newSecret, seal, unseal } from "./secrets";
import * as store from "./store";

export type { ApplicationRow } from "./store";

/** Out-of-band redirect: the code is shown on a page for the person to paste into the app. */
export const OOB_REDIRECT_URI = "urn:ietf:wg:oauth:2.0:oob";
export const CODE_TTL_SECONDS = 600;
export const APP_NAME_MAX = 60;
const URI_MAX = 2000;
const FORBIDDEN_SCHEMES = new Set(["javascript:", "data:", "vbscript:", "file:"]);
const DEFAULT_APP_SCOPES = "read";
/** RFC 7636 §4.1: 43–128 unreserved characters, for both the verifier and an S256 challenge. */
const PKCE_VALUE = /^[A-Za-z0-9._~-]{43,128}$/;

/** RFC 6749 §5.2 error, rendered as `{error, error_description}` with the given status. */
export function oauthError(status: 400 | 401, error: string, description: string): ApiError {
  return new ApiError(status, error, { error_description: description });
}

const INVALID_GRANT =
  "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.";
const INVALID_CLIENT = "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.";

// ── Registration ───────────────────────────────────────────────────────────────────────────────────────

export interface NewApplication {
  name: string | undefined;
  redirectUris: string | string[] | undefined;
  scopes: string | string[] | undefined;
  website: string | undefined;
}

function invalid(message: string): ApiError {
  return ApiError.unprocessable(`Validation failed: ${message}`);
}

/** Doorkeeper's redirect URI rules: absolute, no fragment, not a script scheme; or the out-of-band URN. */
export function redirectUriProblem(uri: string): string | undefined {
  if (uri === OOB_REDIRECT_URI) return undefined;
  if (uri.length > URI_MAX) return "is too long";
  let parsed: URL;
  try {
    parsed = new URL(uri);
  } catch {
    return "must be an absolute URI";
  }
  if (!/^[a-z][a-z0-9+.-]*:/i.test(uri)) return "must be an absolute URI";
  if (parsed.hash || uri.includes("#")) return "cannot contain a fragment";
  if (FORBIDDEN_SCHEMES.has(parsed.protocol)) return "uses a forbidden scheme";
  if (/[\s\u0000-\u001f]/.test(uri)) return "must be an absolute URI";
  return undefined;
}

export function normaliseRedirectUris(input: string | string[] | undefined): string[] {
  const list = (Array.isArray(input) ? input : (input ?? "").split(/\r?\n/)).map((u) => (typeof u === "string" ? u.trim() : "")).filter(Boolean);
  if (list.length === 0) throw invalid("Redirect URI can't be blank");
  if (list.length > 20) throw invalid("Redirect URI lists too many URIs");
  for (const uri of list) {
    const problem = redirectUriProblem(uri);
    if (problem) throw invalid(`Redirect URI ${problem}`);
  }
  return [...new Set(list)];
}

export function normaliseAppScopes(input: string | string[] | undefined): string[] {
  const scopes = Array.isArray(input) ? parseScopes(input.filter((s) => typeof s === "string").join(" ")) : parseScopes(input ?? "");
  if (scopes.length === 0) return [DEFAULT_APP_SCOPES];
  const unknown = unknownScopes(scopes);
  if (unknown.length) throw invalid(`Scopes contains unknown scopes: ${unknown.join(", ")}`);
  return scopes;
}

function normaliseWebsite(input: string | undefined): string | null {
  const website = input?.trim();
  if (!website) return null;
  if (website.length > URI_MAX) throw invalid("Website is too long");
  try {
    const url = new URL(website);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error();
  } catch {
    throw invalid("Website is not a valid URL");
  }
  return website;
}

/** Register a client. The plain secret is returned here, once; only its hash is kept. */
export async function createApplication(sql: Sql, input: NewApplication): Promise<{ application: store.ApplicationRow; clientSecret: string }> {
  const name = (input.name ?? "").trim();
  if (name === "") throw invalid("Application name can't be blank");
  if ([...name].length > APP_NAME_MAX) throw invalid(`Application name is too long (maximum is ${APP_NAME_MAX} characters)`);
  const redirectUris = normaliseRedirectUris(input.redirectUris);
  const scopes = normaliseAppScopes(input.scopes);
  const website = normaliseWebsite(input.website);
  const clientSecret = newSecret();
  const application = await store.insertApplication(sql, {
    name,
    clientId: newSecret(),
    clientSecretHash: hashSecret(clientSecret),
    redirectUris,
    scopes: scopes.join(" "),
    website,
  });
  return { application, clientSecret };
}

export async function findApplicationByClientId(sql: Sql, clientId: string): Promise<store.ApplicationRow | undefined> {
  if (clientId.length === 0 || clientId.length > 256) return undefined;
  return store.findApplicationByClientId(sql, clientId);
}

export const findApplicationById = store.findApplicationById;

/** Check a client's id and secret (from the body or HTTP Basic); 401 invalid_client otherwise. */
export async function authenticateClient(sql: Sql, clientId: string | undefined, clientSecret: string | undefined): Promise<store.ApplicationRow> {
  if (!clientId || !clientSecret) throw oauthError(401, "invalid_client", INVALID_CLIENT);
  const application = await findApplicationByClientId(sql, clientId);
  // Compare hashes in constant time; hash the given secret even for an unknown client so timing says nothing.
  const given = Buffer.from(hashSecret(clientSecret), "hex");
  const expected = Buffer.from(application?.client_secret ?? "0".repeat(64), "hex");
  const ok = given.length === expected.length && timingSafeEqual(given, expected);
  if (!application || !ok) throw oauthError(401, "invalid_client", INVALID_CLIENT);
  return application;
}

// ── The authorization request (GET /oauth/authorize and the consent form) ─────────────────────────────

export interface AuthorizationRequest {
  application: store.ApplicationRow;
  redirectUri: string;
  scopes: string[];
  state: string | undefined;
  codeChallenge: string | null;
  codeChallengeMethod: "S256" | null;
}

export type AuthorizationCheck =
  | { ok: true; request: AuthorizationRequest }
  /** The client or redirect URI cannot be trusted: show an error page, never redirect (RFC 6749 §4.1.2.1). */
  | { ok: false; redirect: false; message: string }
  /** Anything else goes back to the client's (registered) redirect URI as ?error=…&state=…. */
  | { ok: false; redirect: true; redirectUri: string; state: string | undefined; error: string; description: string };

const text = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);

export async function checkAuthorizationRequest(sql: Sql, params: Record<string, unknown>): Promise<AuthorizationCheck> {
  const clientId = text(params.client_id) ?? "";
  const application = clientId ? await findApplicationByClientId(sql, clientId) : undefined;
  if (!application) return { ok: false, redirect: false, message: "The client application is unknown. Check the client_id the app sent." };
  const redirectUri = text(params.redirect_uri) ?? "";
  if (!redirectUri) return { ok: false, redirect: false, message: "The request lacks a redirect_uri." };
  if (!application.redirect_uris.includes(redirectUri)) {
    return { ok: false, redirect: false, message: "The redirect_uri is not one the application registered." };
  }
  const state = text(params.state)?.slice(0, 2000) || undefined;
  const fail = (error: string, description: string): AuthorizationCheck => ({ ok: false, redirect: true, redirectUri, state, error, description });

  if (text(params.response_type) !== "code") return fail("unsupported_response_type", "The authorization server does not support this response type.");
  const requested = parseScopes(text(params.scope) ?? "");
  const scopes = requested.length ? requested : parseScopes(application.scopes);
  if (unknownScopes(scopes).length || !withinScopes(scopes, parseScopes(application.scopes))) {
    return fail("invalid_scope", "The requested scope is invalid, unknown, or malformed.");
  }
  const codeChallenge = text(params.code_challenge) || null;
  const method = text(params.code_challenge_method) || null;
  if (codeChallenge === null && method !== null) return fail("invalid_request", "code_challenge_method was sent without a code_challenge.");
  if (codeChallenge !== null) {
    // Mastodon allows S256 only: "plain" would hand the verifier to anyone who sees this URL.
    if (method !== "S256") return fail("invalid_request", "Only code_challenge_method=S256 is supported.");
    if (!PKCE_VALUE.test(codeChallenge)) return fail("invalid_request", "The code_challenge is malformed.");
  }
  return { ok: true, request: { application, redirectUri, scopes, state, codeChallenge, codeChallengeMethod: codeChallenge ? "S256" : null } };
}

/** Append OAuth response parameters to a redirect URI, keeping any query it already has. */
export function redirectWithParams(redirectUri: string, params: Record<string, string | undefined>): string {
  const url = new URL(redirectUri);
  for (const [key, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(key, value);
  return url.toString();
}

/** Mastodon skips the consent page when the person already gave this app these exact scopes. */
export async function alreadyAuthorized(sql: Sql, userId: string, request: AuthorizationRequest): Promise<boolean> {
  return store.hasLiveTokenWithScopes(sql, userId, request.application.id, request.scopes);
}

/** The person said yes: a single-use code, valid for 10 minutes, bound to the redirect URI and challenge. */
export async function issueAuthorizationCode(sql: Sql, userId: string, request: AuthorizationRequest): Promise<string> {
  const code = newSecret();
  await store.insertGrant(sql, {
    applicationId: request.application.id,
    userId,
    codeHash: hashSecret(code),
    redirectUri: request.redirectUri,
    scopes: request.scopes.join(" "),
    codeChallenge: request.codeChallenge,
    codeChallengeMethod: request.codeChallengeMethod,
    ttlSeconds: CODE_TTL_SECONDS,
  });
  return code;
}

// ── The token endpoint ─────────────────────────────────────────────────────────────────────────────────

export interface IssuedToken {
  token: string;
  row: store.TokenRow;
}

export function s256(verifier: string): string {
  return createHash("sha256").update(verifier).digest("base64url");
}

function pkceMatches(verifier: string, challenge: string): boolean {
  const a = Buffer.from(s256(verifier));
  const b = Buffer.from(challenge);
  return a.length === b.length && timingSafeEqual(a, b);
}

const TOKEN_SEAL = "oauth-access-token";

async function insertNewToken(
  db: Db,
  values: { applicationId: string; userId: string | null; scopes: string },
  secretKeyBase?: string,
): Promise<IssuedToken> {
  const token = newSecret();
  const tokenSealed = secretKeyBase ? seal(token, secretKeyBase, TOKEN_SEAL) : null;
  const row = await store.insertToken(db, { applicationId: values.applicationId, userId: values.userId, tokenHash: hashSecret(token), scopes: values.scopes, tokenSealed });
  return { token, row };
}

/**
 * Mastodon (Doorkeeper's reuse_access_token) hands out the same token when a person authorizes the same app
 * with the same scopes again, so re-logging into an app does not pile up tokens. We keep a sealed copy of user
 * tokens for exactly that; a token sealed under an older SECRET_KEY_BASE is simply not reused.
 */
async function reuseOrIssueToken(db: Db, values: { applicationId: string; userId: string; scopes: string }, secretKeyBase: string): Promise<IssuedToken> {
  const existing = await store.findReusableToken(db, values.userId, values.applicationId, values.scopes);
  const token = existing ? unseal(existing.token_sealed, secretKeyBase, TOKEN_SEAL) : undefined;
  if (existing && token) return { token, row: existing };
  return insertNewToken(db, values, secretKeyBase);
}

/**
 * grant_type=authorization_code. Everything happens under a lock on the grant row, so a code is exchanged once.
 * A code presented again is refused and the token made from it is revoked (RFC 6749 §4.1.2): whoever replays
 * it may have stolen it. That revocation must commit although the request fails, so the transaction returns
 * the failure and it is thrown after the commit.
 *
 * As in Mastodon, a person who already holds a live token for this app and these scopes gets that token again.
 */
export async function exchangeAuthorizationCode(
  sql: Sql,
  application: store.ApplicationRow,
  input: { code: string | undefined; redirectUri: string | undefined; codeVerifier: string | undefined },
  secretKeyBase: string,
): Promise<IssuedToken> {
  if (!input.code) throw oauthError(400, "invalid_request", "Missing required parameter: code.");
  if (!input.redirectUri) throw oauthError(400, "invalid_request", "Missing required parameter: redirect_uri.");
  if (input.code.length > 256) throw oauthError(400, "invalid_grant", INVALID_GRANT);
  const { code, redirectUri, codeVerifier } = input;

  const outcome = await sql.begin(async (tx): Promise<IssuedToken | { refused: string }> => {
    const grant = await store.findGrantByCodeHashForUpdate(tx, hashSecret(code));
    if (!grant || grant.application_id !== application.id) return { refused: INVALID_GRANT };
    if (grant.used_at) {
      if (grant.access_token_id) await store.revokeTokenById(tx, grant.access_token_id);
      return { refused: INVALID_GRANT };
    }
    if (grant.expired || grant.redirect_uri !== redirectUri) return { refused: INVALID_GRANT };
    if (grant.code_challenge) {
      if (!codeVerifier || !PKCE_VALUE.test(codeVerifier) || !pkceMatches(codeVerifier, grant.code_challenge)) {
        return { refused: "The code_verifier does not match the code_challenge of the authorization request." };
      }
    } else if (codeVerifier) {
      // A verifier for a request that had no challenge: a PKCE downgrade attempt (RFC 9700 §2.1.1).
      return { refused: "A code_verifier was sent, but the authorization request had no code_challenge." };
    }
    const issued = await reuseOrIssueToken(tx, { applicationId: application.id, userId: grant.user_id, scopes: grant.scopes }, secretKeyBase);
    await store.markGrantUsed(tx, grant.id, issued.row.id);
    return issued;
  });
  if ("refused" in outcome) throw oauthError(400, "invalid_grant", outcome.refused);
  return outcome;
}

/** grant_type=client_credentials: an app-only token. Scope defaults to `read`, as Doorkeeper's default scope. */
export async function issueClientCredentialsToken(sql: Sql, application: store.ApplicationRow, scope: string | undefined): Promise<IssuedToken> {
  const requested = parseScopes(scope ?? "");
  const scopes = requested.length ? requested : [DEFAULT_APP_SCOPES];
  if (unknownScopes(scopes).length || !withinScopes(scopes, parseScopes(application.scopes))) {
    throw oauthError(400, "invalid_scope", "The requested scope is invalid, unknown, or malformed.");
  }
  return insertNewToken(sql, { applicationId: application.id, userId: null, scopes: scopes.join(" ") });
}

/** RFC 7009: revoke a token of this client; unknown tokens and other clients' tokens are silently ignored. */
export async function revokeApplicationToken(sql: Sql, application: store.ApplicationRow, token: string): Promise<void> {
  if (token.length === 0 || token.length > 512) return;
  await store.revokeTokenByHash(sql, hashSecret(token), application.id);
}
