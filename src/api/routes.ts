/**
 * Every route group of the web role, one plugin per resource file (see endpoint.ts). Add yours here.
 */
import type { Elysia } from "elysia";
import type { AppContext } from "../infra/context";

type Plugin = Elysia<any, any, any, any, any, any, any>;

export function webRoutes(context: AppContext): Plugin[] {
  return [];
}
