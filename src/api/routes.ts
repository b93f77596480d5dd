/**
 * Every route group of the web role, one plugin per resource file (see endpoint.ts). Add yours here.
 */
import type { Elysia } from "elysia";
import type { AppContext } from "../infra/context";
import { webPages } from "../web";
import { activityPubRoutes } from "../activitypub";
import { metricsRoutes } from "./metrics";
import { adminAccountRoutes } from "./v1/admin/accounts";
import { adminBlockRoutes } from "./v1/admin/blocks";
import { adminDomainBlockRoutes } from "./v1/admin/domain-blocks";
import { adminMeasureRoutes } from "./v1/admin/measures";
import { adminReportRoutes } from "./v1/admin/reports";
import { adminCanonicalEmailBlockRoutes } from "./v1/admin/canonical-email-blocks";
import { adminDimensionRoutes } from "./v1/admin/dimensions";
import { adminRetentionRoutes } from "./v1/admin/retention";
import { adminTrendRoutes } from "./v1/admin/trends";
import { defaultImageRoutes } from "./default-images";
import { oauthRoutes } from "./oauth";
import { accountRoutes } from "./v1/accounts";
import { searchRoutes } from "./v2/search";
import { trendRoutes } from "./v1/trends";
import { suggestionRoutes } from "./v1/suggestions";
import { suggestionV2Routes } from "./v2/suggestions";
import { directoryRoutes } from "./v1/directory";
import { instanceRoutes } from "./v1/instance";
import { mediaFileRoutes } from "./media-files";
import { mediaProxyRoutes } from "./media-proxy";
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
import { reportRoutes } from "./v1/reports";
import { pushRoutes } from "./v1/push";
import { notificationRoutes } from "./v1/notifications";
import { notificationRequestRoutes } from "./v1/notification-requests";
import { notificationV2Routes } from "./v2/notifications";
import { filterV1Routes } from "./v1/filters";
import { filterV2Routes } from "./v2/filters";
import { pollRoutes } from "./v1/polls";
import { conversationRoutes } from "./v1/conversations";
import { preferenceRoutes } from "./v1/preferences";
import { featuredTagRoutes } from "./v1/featured-tags";
import { announcementRoutes } from "./v1/announcements";
import { instanceExtraRoutes } from "./v1/instance-extras";
import { translateRoutes } from "./v1/translate";
import { identityProofRoutes } from "./v1/identity-proofs";
import { donationCampaignRoutes } from "./v1/donation-campaigns";
import { annualReportRoutes } from "./v1/annual-reports";
import { tagFeatureRoutes } from "./v1/tag-features";
import { quoteRoutes } from "./v1/quotes";
import { notificationExtraRoutes } from "./v1/notification-extras";
import { profileRoutes } from "./v1/profile";
import { emailRoutes } from "./v1/emails";

type Plugin = Elysia<any, any, any, any, any, any, any>;

export function webRoutes(context: AppContext): Plugin[] {
  return [
    // First: its request-metrics hook only measures routes registered after it.
    metricsRoutes(context),
    ...oauthRoutes(context),
    ...webPages(context),
    ...activityPubRoutes(context),
    defaultImageRoutes(),
    searchRoutes(context),
    trendRoutes(context),
    suggestionRoutes(context),
    suggestionV2Routes(context),
    directoryRoutes(context),
    accountRoutes(context),
    instanceRoutes(context),
    mediaRoutes(context),
    mediaFileRoutes(context),
    mediaProxyRoutes(context),
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
    filterV1Routes(context),
    filterV2Routes(context),
    pollRoutes(context),
    conversationRoutes(context),
    preferenceRoutes(context),
    featuredTagRoutes(context),
    announcementRoutes(context),
    markerRoutes(context),
    listRoutes(context),
    reportRoutes(context),
    adminDomainBlockRoutes(context),
    adminBlockRoutes(context),
    adminAccountRoutes(context),
    adminMeasureRoutes(context),
    adminReportRoutes(context),
    adminCanonicalEmailBlockRoutes(context),
    adminDimensionRoutes(context),
    adminRetentionRoutes(context),
    adminTrendRoutes(context),
    pushRoutes(context),
    instanceExtraRoutes(context),
    translateRoutes(context),
    identityProofRoutes(context),
    annualReportRoutes(context),
    donationCampaignRoutes(context),
    tagFeatureRoutes(context),
    quoteRoutes(context),
    notificationExtraRoutes(context),
    profileRoutes(context),
    emailRoutes(context),
  ];
}
