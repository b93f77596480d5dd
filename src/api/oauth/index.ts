/** The OAuth 2 side of the web role: app registration, token endpoints, userinfo, discovery and CORS. */
import type { AppContext } from "../../infra/context";
import { appsRoutes } from "./apps";
import { corsRoutes } from "./cors";
import { oauthMetadataRoutes } from "./metadata";
import { oauthTokenRoutes } from "./token";
import { userinfoRoutes } from "./userinfo";

export function oauthRoutes(context: AppContext) {
  return [corsRoutes(), appsRoutes(context), oauthTokenRoutes(context), userinfoRoutes(context), oauthMetadataRoutes(context)];
}
