/** The /admin area: server-rendered staff pages over the admin services (no build step, no JavaScript). */
import type { AppContext } from "../../infra/context";
import { accountPages } from "./accounts";
import { announcementPages } from "./announcements";
import { customEmojiPages } from "./custom-emojis";
import { dashboardPage } from "./dashboard";
import { domainBlockPages } from "./domain-blocks";
import { queuePages } from "./queues";
import { relayPages } from "./relays";
import { reportPages } from "./reports";
import { settingsPages } from "./settings";

export function adminPages(context: AppContext) {
  return [dashboardPage(context), queuePages(context), domainBlockPages(context), reportPages(context), accountPages(context), settingsPages(context), announcementPages(context), relayPages(context), customEmojiPages(context)];
}
