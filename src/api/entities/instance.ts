/**
 * Mastodon's Instance (v2) and V1 Instance entities. Limits are the values this server enforces (Mastodon's
 * defaults); clients size their compose boxes and uploads from them, so they must match what we accept.
 */
import { PROFILE_LIMITS } from "../../features/accounts/service";
import type { Rule } from "../../features/settings/definitions";
import type { RegistrationsMode } from "../../features/accounts/registration";
import type { LocalAccountRow } from "../../features/accounts/store";
import { mediaCapabilities } from "../../features/media/av";
import { instanceMediaConfiguration, woollyMediaHints } from "../../features/media/limits";
import { STATUS_LIMITS } from "../../features/statuses/compose";
import { CHARACTERS_RESERVED_PER_URL } from "../../features/text/length";
import { buildVersion } from "../../infra/build-info";
import type { Config } from "../../infra/config";
import { DEFAULT_IMAGE_PATHS } from "../default-images";
import { renderAccount, type AccountEntity } from "./account";

/** The Mastodon API level we speak: 4.5 (api_versions.mastodon 7). Clients gate features on both. */
const MASTODON_VERSION = "4.5.0";
const MASTODON_API_VERSION = 7;

const LIMITS = {
  // From the statuses feature, as media's below, so what we announce is what posting enforces.
  // max_characters comes from the configuration (MAX_TOOT_CHARS), filled in by the renderers.
  statuses: { max_characters: STATUS_LIMITS.maxCharacters, max_media_attachments: STATUS_LIMITS.maxMediaAttachments, characters_reserved_per_url: CHARACTERS_RESERVED_PER_URL },
  // What uploads enforce, from the media feature itself, so the two can never disagree.
  media: instanceMediaConfiguration(),
  polls: {
    max_options: STATUS_LIMITS.poll.maxOptions,
    max_characters_per_option: STATUS_LIMITS.poll.maxCharactersPerOption,
    min_expiration: STATUS_LIMITS.poll.minExpiration,
    max_expiration: STATUS_LIMITS.poll.maxExpiration,
  },
  accounts: { max_featured_tags: 10, max_pinned_statuses: 5 },
};

export function versionString(): string {
  return `${MASTODON_VERSION} (compatible; Woolly ${buildVersion()})`;
}

/** Everything the two shapes are made from, gathered by the route. */
export interface InstanceFacts {
  title: string;
  shortDescription: string;
  contactEmail: string;
  contactAccount: LocalAccountRow | undefined;
  registrationsMode: RegistrationsMode;
  userCount: number;
  activeMonth: number;
  domainCount: number;
  rules: Rule[];
}

/** Mastodon's Rule entity; a rule's id is its 1-based position in the setting. */
export function renderRules(rules: Rule[]) {
  return rules.map((rule, index) => ({ id: String(index + 1), text: rule.text, hint: rule.hint ?? "" }));
}

type InstanceConfig = Pick<Config, "localDomain" | "baseUrl" | "streamingApiBaseUrl" | "sourceBaseUrl" | "media" | "statuses" | "vapid">;

export function renderInstance(config: InstanceConfig, facts: InstanceFacts) {
  const enabled = facts.registrationsMode !== "none";
  return {
    domain: config.localDomain,
    title: facts.title,
    version: versionString(),
    source_url: config.sourceBaseUrl,
    description: facts.shortDescription,
    usage: { users: { active_month: facts.activeMonth } },
    thumbnail: { url: config.baseUrl + DEFAULT_IMAGE_PATHS.thumbnail },
    icon: [],
    languages: ["en"],
    configuration: {
      // about / privacy_policy / terms_of_service pages do not exist yet: null rather than links that 404.
      urls: { streaming: config.streamingApiBaseUrl, status: null, about: null, privacy_policy: null, terms_of_service: null },
      vapid: { public_key: config.vapid?.publicKey ?? "" },
      accounts: {
        ...LIMITS.accounts,
        max_display_name_length: PROFILE_LIMITS.displayName,
        max_note_length: PROFILE_LIMITS.note,
        max_avatar_description_length: 150,
        max_header_description_length: 150,
        max_profile_fields: PROFILE_LIMITS.fields,
        profile_field_name_limit: PROFILE_LIMITS.fieldName,
        profile_field_value_limit: PROFILE_LIMITS.fieldValue,
      },
      statuses: { ...LIMITS.statuses, max_characters: config.statuses.maxCharacters },
      // Plus Woolly's hint (an extra nested key) on whether video is processed: without ffmpeg it is stored as sent.
      media_attachments: { ...LIMITS.media, woolly: woollyMediaHints(mediaCapabilities()) },
      polls: LIMITS.polls,
      translation: { enabled: false },
      timelines_access: {
        live_feeds: { local: "public", remote: "public" },
        hashtag_feeds: { local: "public", remote: "public" },
        trending_link_feeds: { local: "public", remote: "public" },
      },
      limited_federation: false,
    },
    registrations: {
      enabled,
      approval_required: facts.registrationsMode === "approved",
      reason_required: false,
      message: null,
      min_age: null,
      url: null,
    },
    api_versions: { mastodon: MASTODON_API_VERSION },
    contact: { email: facts.contactEmail, account: contactEntity(config, facts) },
    rules: renderRules(facts.rules),
    wrapstodon: null,
  };
}

export function renderV1Instance(config: InstanceConfig, facts: InstanceFacts) {
  const { supported_mime_types, image_size_limit, image_matrix_limit, video_size_limit, video_frame_rate_limit, video_matrix_limit } = LIMITS.media;
  return {
    uri: config.localDomain,
    title: facts.title,
    short_description: facts.shortDescription,
    description: facts.shortDescription,
    email: facts.contactEmail,
    version: versionString(),
    urls: { streaming_api: config.streamingApiBaseUrl },
    stats: { user_count: facts.userCount, status_count: 0, domain_count: facts.domainCount },
    thumbnail: config.baseUrl + DEFAULT_IMAGE_PATHS.thumbnail,
    languages: ["en"],
    registrations: facts.registrationsMode !== "none",
    approval_required: facts.registrationsMode === "approved",
    invites_enabled: false,
    configuration: {
      accounts: { max_featured_tags: LIMITS.accounts.max_featured_tags },
      statuses: { ...LIMITS.statuses, max_characters: config.statuses.maxCharacters },
      media_attachments: { supported_mime_types, image_size_limit, image_matrix_limit, video_size_limit, video_frame_rate_limit, video_matrix_limit },
      polls: LIMITS.polls,
    },
    contact_account: contactEntity(config, facts),
    rules: renderRules(facts.rules),
  };
}

function contactEntity(config: InstanceConfig, facts: InstanceFacts): AccountEntity | null {
  return facts.contactAccount ? renderAccount(config, facts.contactAccount) : null;
}
