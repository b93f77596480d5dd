/** The federation edge: discovery, actors and collections, statuses, inboxes. Registered in api/routes.ts. */
import type { AppContext } from "../infra/context";
import { actorRoutes } from "./actors";
import { discoveryRoutes } from "./discovery";
import { followersSynchronizationRoutes } from "./followers-synchronization";
import { inboxRoutes } from "./inbox";
import { statusRoutes } from "./statuses";

export function activityPubRoutes(context: AppContext) {
  return [discoveryRoutes(context), actorRoutes(context), followersSynchronizationRoutes(context), statusRoutes(context), inboxRoutes(context)];
}
