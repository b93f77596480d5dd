/**
 * Every migration, in order, embedded into the binary as text. Add a new file here when you add one to
 * this folder (test/unit/migrations.test.ts fails if the two disagree). Never edit an applied migration.
 */
import m0001 from "./0001_foundation.sql" with { type: "text" };
import m0002 from "./0002_accounts.sql" with { type: "text" };
import m0003 from "./0003_oauth.sql" with { type: "text" };
import m0004 from "./0004_media.sql" with { type: "text" };
import m0005 from "./0005_token_reuse.sql" with { type: "text" };
import m0006 from "./0006_social.sql" with { type: "text" };
import m0007 from "./0007_statuses.sql" with { type: "text" };
import m0008 from "./0008_notifications.sql" with { type: "text" };
import m0010 from "./0010_federation.sql" with { type: "text" };
import m0011 from "./0011_lists.sql" with { type: "text" };
import m0012 from "./0012_federation_inbound.sql" with { type: "text" };
import m0013 from "./0013_delivery.sql" with { type: "text" };
import m0014 from "./0014_client_features.sql" with { type: "text" };
import m0015 from "./0015_search.sql" with { type: "text" };
import m0016 from "./0016_cards_push_reports.sql" with { type: "text" };
import m0017 from "./0017_perf.sql" with { type: "text" };
import m0018 from "./0018_ops.sql" with { type: "text" };
import m0019 from "./0019_remote_media.sql" with { type: "text" };
import m0020 from "./0020_relays.sql" with { type: "text" };
import m0021 from "./0021_card_images.sql" with { type: "text" };
import m0022 from "./0022_custom_emojis.sql" with { type: "text" };
import m0023 from "./0023_remote_emojis_moved.sql" with { type: "text" };
import m0024 from "./0024_moderation_review.sql" with { type: "text" };
import m0025 from "./0025_account_archives.sql" with { type: "text" };
import m0026 from "./0026_relay_operations.sql" with { type: "text" };
import m0027 from "./0027_domain_policy_notify.sql" with { type: "text" };
import m0028 from "./0028_custom_emoji_notify.sql" with { type: "text" };

export interface Migration {
  version: string;
  sql: string;
}

export const MIGRATIONS: Migration[] = [
  { version: "0001_foundation", sql: m0001 },
  { version: "0002_accounts", sql: m0002 },
  { version: "0003_oauth", sql: m0003 },
  { version: "0004_media", sql: m0004 },
  { version: "0005_token_reuse", sql: m0005 },
  { version: "0006_social", sql: m0006 },
  { version: "0007_statuses", sql: m0007 },
  { version: "0008_notifications", sql: m0008 },
  { version: "0010_federation", sql: m0010 },
  { version: "0011_lists", sql: m0011 },
  { version: "0012_federation_inbound", sql: m0012 },
  { version: "0013_delivery", sql: m0013 },
  { version: "0014_client_features", sql: m0014 },
  { version: "0015_search", sql: m0015 },
  { version: "0016_cards_push_reports", sql: m0016 },
  { version: "0017_perf", sql: m0017 },
  { version: "0018_ops", sql: m0018 },
  { version: "0019_remote_media", sql: m0019 },
  { version: "0020_relays", sql: m0020 },
  { version: "0021_card_images", sql: m0021 },
  { version: "0022_custom_emojis", sql: m0022 },
  { version: "0023_remote_emojis_moved", sql: m0023 },
  { version: "0024_moderation_review", sql: m0024 },
  { version: "0025_account_archives", sql: m0025 },
  { version: "0026_relay_operations", sql: m0026 },
  { version: "0027_domain_policy_notify", sql: m0027 },
  { version: "0028_custom_emoji_notify", sql: m0028 },
];
