/**
 * GET /.well-known/oauth-authorization-server (RFC 8414), with the fields Mastodon serves: clients such as
 * Elk and Phanpy read it to find the endpoints and to see that PKCE S256 is supported.
 */
import { Elysia } from "elysia";
import { ALL_SCOPES } from "../../features/auth/scopes";
import type { AppContext } from "../../infra/context";

export function oauthMetadata(baseUrl: string) {
  return {
    // Mastodon's issuer is its root_url, with the trailing slash.
    issuer: `${baseUrl}/`,
    service_documentation: "https://docs.joinmastodon.org/",
    authorization_endpoint: `${baseUrl}/oauth/authorize`,
    token_endpoint: `${baseUrl}/oauth/token`,
    app_registration_endpoint: `${baseUrl}/api/v1/apps`,
    revocation_endpoint: `${baseUrl}/oauth/revoke`,
    userinfo_endpoint: `${baseUrl}/oauth/userinfo`,
    scopes_supported: [...ALL_SCOPES],
    response_types_supported: ["code"],
    response_modes_supported: ["query"],
    grant_types_supported: ["authorization_code", "client_credentials"],
    token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
    code_challenge_methods_supported: ["S256"],
  };
}

export function oauthMetadataRoutes(context: AppContext) {
  const document = oauthMetadata(context.config.baseUrl);
  return new Elysia({ name: "oauth-metadata" }).get("/.well-known/oauth-authorization-server", ({ set }) => {
    set.headers["cache-control"] = "public, max-age=900";
    return document;
  }, { detail: { summary: "OAuth 2 authorization server metadata (RFC 8414)", tags: ["oauth"] } });
}
