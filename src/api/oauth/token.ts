/**
 * POST /oauth/token and POST /oauth/revoke. Parameters come as a form or JSON (and, as Doorkeeper allows, in
 * the query string); the client authenticates with client_id + client_secret in the parameters
 * (client_secret_post) or HTTP Basic (client_secret_basic). Errors are RFC 6749's {error, error_description}.
 *
 * These are plain Elysia routes, not endpoint.ts ones: that layer reads the Authorization header as a Bearer
 * token, while here it carries the client's Basic credentials.
 */
import { Elysia } from "elysia";
import {
  authenticateClient,
  exchangeAuthorizationCode,
  issueClientCredentialsToken,
  oauthError,
  revokeApplicationToken,
  type IssuedToken,
} from "../../features/auth/oauth";
import type { AppContext } from "../../infra/context";
import { ApiError } from "../../infra/errors";
import { bodyParams, type Params } from "../params";

type Set = { headers: Record<string, string | number> };

/** Query and body parameters merged (the body wins), keeping only string values. */
async function oauthParams(request: Request): Promise<Record<string, string | undefined>> {
  let body: Params;
  try {
    body = await bodyParams(request);
  } catch (error) {
    if (error instanceof ApiError) throw oauthError(400, "invalid_request", error.message);
    throw error;
  }
  const merged: Record<string, unknown> = { ...Object.fromEntries(new URL(request.url).searchParams), ...body };
  return Object.fromEntries(Object.entries(merged).map(([key, value]) => [key, typeof value === "string" ? value : undefined]));
}

/** RFC 6749 §2.3.1: Basic base64(urlencode(id):urlencode(secret)). */
function basicCredentials(request: Request): { clientId: string; clientSecret: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(request.headers.get("authorization") ?? "");
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  const unescape = (s: string) => {
    try {
      return decodeURIComponent(s.replace(/\+/g, " "));
    } catch {
      return s;
    }
  };
  return { clientId: unescape(decoded.slice(0, colon)), clientSecret: unescape(decoded.slice(colon + 1)) };
}

async function authenticate(context: AppContext, request: Request, params: Record<string, string | undefined>, set: Set) {
  const basic = basicCredentials(request);
  try {
    return await authenticateClient(context.sql, basic?.clientId ?? params.client_id, basic?.clientSecret ?? params.client_secret);
  } catch (error) {
    // RFC 6749 §5.2: a client that tried Basic is told which scheme to use.
    if (basic) set.headers["www-authenticate"] = 'Basic realm="oauth"';
    throw error;
  }
}

function renderToken(issued: IssuedToken) {
  return {
    access_token: issued.token,
    token_type: "Bearer",
    scope: issued.row.scopes,
    created_at: Math.floor(issued.row.created_at.getTime() / 1000),
  };
}

export function oauthTokenRoutes(context: AppContext) {
  return new Elysia({ name: "oauth-token" })
    .post(
      "/oauth/token",
      async ({ request, set }) => {
        set.headers["cache-control"] = "no-store";
        set.headers["pragma"] = "no-cache";
        const params = await oauthParams(request);
        const grantType = params.grant_type;
        if (!grantType) throw oauthError(400, "invalid_request", "Missing required parameter: grant_type.");
        // Mastodon 4.4 removed the password grant; it never issued refresh tokens.
        if (grantType !== "authorization_code" && grantType !== "client_credentials") {
          throw oauthError(400, "unsupported_grant_type", "The authorization grant type is not supported by the authorization server.");
        }
        const application = await authenticate(context, request, params, set);
        const issued =
          grantType === "authorization_code"
            ? await exchangeAuthorizationCode(context.sql, application, { code: params.code, redirectUri: params.redirect_uri, codeVerifier: params.code_verifier }, context.config.secretKeyBase)
            : await issueClientCredentialsToken(context.sql, application, params.scope);
        return renderToken(issued);
      },
      { parse: "none", detail: { summary: "Obtain an access token (authorization_code or client_credentials)", tags: ["oauth"] } },
    )
    .post(
      "/oauth/revoke",
      async ({ request, set }) => {
        set.headers["cache-control"] = "no-store";
        const params = await oauthParams(request);
        const application = await authenticate(context, request, params, set);
        if (!params.token) throw oauthError(400, "invalid_request", "Missing required parameter: token.");
        // RFC 7009 §2.2: 200 whether or not there was such a token, so the answer reveals nothing.
        await revokeApplicationToken(context.sql, application, params.token);
        return {};
      },
      { parse: "none", detail: { summary: "Revoke an access token", tags: ["oauth"] } },
    );
}
