/**
 * `woolly admin`: the operator CLI (tootctl's job). Each feature adds its group here.
 */
import type { Group } from "../command";
import { accountsGroup } from "./accounts";
import { announcementsGroup } from "./announcements";
import { domainsGroup } from "./domains";
import { relaysGroup } from "./relays";
import { backupCommand } from "./backup";
import { feedsGroup } from "./feeds";
import { mediaGroup } from "./media";
import { queuesGroup } from "./queues";
import { settingsGroup } from "./settings";
import { tokensGroup } from "./tokens";
import { searchGroup } from "./search";
import { vapidGroup } from "./vapid";
import { emojiGroup } from "./emoji";
import { statusesGroup } from "./statuses";
import { cacheGroup } from "./cache";
import { previewCardsGroup } from "./preview-cards";
import { maintenanceGroup } from "./maintenance";

export const adminGroup: Group = {
  name: "admin",
  summary: "Operator commands (what tootctl does for Mastodon)",
  commands: [accountsGroup, tokensGroup, settingsGroup, queuesGroup, mediaGroup, feedsGroup, domainsGroup, vapidGroup, searchGroup, announcementsGroup, relaysGroup, backupCommand, emojiGroup, cacheGroup, previewCardsGroup, statusesGroup, maintenanceGroup],
};
