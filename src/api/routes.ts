/**
 * Every route group of the web role, one plugin per resource file (see endpoint.ts). Add yours here.
 */
import type { Elysia } from "elysia";
import type { AppContext } from "../infra/context";
import { webPages } from "../web";
import { activityPubRoutes } from "../activitypub";
import { defaultImageRoutes } from "./default-images";
import { oauthRoutes } from "./oauth";
import { accountRoutes } from "./v1/accounts";
import { instanceRoutes } from "./v1/instance";
import { mediaFileRoutes } from "./media-files";
import { mediaRoutes } from "./v1/media";
import { statusRoutes } from "./v1/statuses";
import { scheduledStatusRoutes } from "./v1/scheduled-statuses";
import { accountStatusesRoutes } from "./v1/account-statuses";
import { timelineRoutes } from "./v1/timelines";
import { blockRoutes } from "./v1/blocks";
import { domainBlockRoutes } from "./v1/domain-blocks";
import { endorsementRoutes } from "./v1/endorsements";
import { followRoutes } from "./v1/follows";
import { tagRoutes } from "./v1/tags";
import { interactionRoutes } from "./v1/interactions";
import { markerRoutes } from "./v1/markers";
import { listRoutes } from "./v1/lists";
import { notificationRoutes } from "./v1/notifications";
import { notificationRequestRoutes } from "./v1/notification-requests";
import { notificationV2Routes } from "./v2/notifications";

type Plugin = Elysia<any, any, any, any, any, any, any>;

export function webRoutes(context: AppContext): Plugin[] {
  return [
    ...oauthRoutes(context),
    ...webPages(context),
    ...activityPubRoutes(context),
    defaultImageRoutes(),
    accountRoutes(context),
    instanceRoutes(context),
    mediaRoutes(context),
    mediaFileRoutes(context),
    statusRoutes(context),
    scheduledStatusRoutes(context),
    followRoutes(context),
    blockRoutes(context),
    domainBlockRoutes(context),
    endorsementRoutes(context),
    tagRoutes(context),
    accountStatusesRoutes(context),
    timelineRoutes(context),
    interactionRoutes(context),
    notificationRoutes(context),
    notificationRequestRoutes(context),
    notificationV2Routes(context),
    markerRoutes(context),
    listRoutes(context),
  ];
}
