/**
 * Every route group of the web role, one plugin per resource file (see endpoint.ts). Add yours here.
 */
import type { Elysia } from "elysia";
import type { AppContext } from "../infra/context";
import { webPages } from "../web";
import { defaultImageRoutes } from "./default-images";
import { oauthRoutes } from "./oauth";
import { accountRoutes } from "./v1/accounts";
import { instanceRoutes } from "./v1/instance";
import { mediaFileRoutes } from "./media-files";
import { mediaRoutes } from "./v1/media";

type Plugin = Elysia<any, any, any, any, any, any, any>;

export function webRoutes(context: AppContext): Plugin[] {
  return [
    ...oauthRoutes(context),
    ...webPages(context),
    defaultImageRoutes(),
    accountRoutes(context),
    instanceRoutes(context),
    mediaRoutes(context),
    mediaFileRoutes(context),
  ];
}
