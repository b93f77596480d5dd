/** The federation edge: discovery, actors and collections, statuses, inboxes. Registered in api/routes.ts. */
import type { AppContext } from "../infra/context";
import { actorRoutes } from "./actors";
import { discoveryRoutes } from "./discovery";
import { inboxRoutes } from "./inbox";
import { statusRoutes } from "./statuses";

export function activityPubRoutes(context: AppContext) {
  return [discoveryRoutes(context), actorRoutes(context), statusRoutes(context), inboxRoutes(context)];
}
