/** The profile directory (GET /api/v1/directory): accounts that opted in to being discovered. */
import type { AppContext } from "../../infra/context";
import { directoryIds, type DirectoryQuery } from "./store";

export type { DirectoryQuery } from "./store";

export function directory(context: Pick<AppContext, "sql">, query: DirectoryQuery): Promise<string[]> {
  return directoryIds(context.sql, query);
}
