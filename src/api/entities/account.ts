/**
 * Mastodon's Account, CredentialAccount and Role entities (REST::AccountSerializer and friends), rendered from
 * an accounts row plus its user when local. Remote accounts pass no user and get `acct = user@domain`.
 * Notes and field values are stored as the plain text people typed and turned into HTML here.
 */
import { profileEmojisOf, renderCustomEmoji, type CustomEmojiEntity } from "../../features/custom-emojis/service";
import { stillKeyOf } from "../../features/media/profile-images";
import { storageFor } from "../../infra/storage/index";
import type { AccountWithUser, LocalAccountRow } from "../../features/accounts/service";
import { findVisibleAccounts, postingDefaults, type Visibility } from "../../features/accounts/service";
import { ROLE_IDS, type RoleName } from "../../features/accounts/rules";
import type { UserRow } from "../../features/accounts/store";
import { plainToHtml } from "../../features/text/plain-to-html";
import type { Config } from "../../infra/config";
import type { AppContext } from "../../infra/context";
import { DEFAULT_IMAGE_PATHS } from "../default-images";

type EntityConfig = Pick<Config, "baseUrl" | "media">;

export interface FieldEntity {
  name: string;
  value: string;
  verified_at: string | null;
}

export interface AccountRoleEntity {
  id: string;
  name: string;
  color: string;
}

export interface AccountEntity {
  id: string;
  username: string;
  acct: string;
  display_name: string;
  locked: boolean;
  bot: boolean;
  discoverable: boolean | null;
  indexable: boolean;
  group: boolean;
  created_at: string;
  note: string;
  url: string;
  uri: string;
  avatar: string;
  avatar_static: string;
  avatar_description: string;
  header: string;
  header_static: string;
  header_description: string;
  followers_count: number;
  following_count: number;
  statuses_count: number;
  last_status_at: string | null;
  hide_collections: boolean | null;
  show_media: boolean;
  show_media_replies: boolean;
  show_featured: boolean;
  emojis: CustomEmojiEntity[];
  fields: FieldEntity[];
  roles: AccountRoleEntity[];
  /** The account this one moved to (Mastodon: present, as an Account, only when it has moved). */
  moved?: AccountEntity | null;
  noindex?: boolean;
  suspended?: boolean;
  limited?: boolean;
  memorial?: boolean;
}

export interface RoleEntity {
  id: string;
  name: string;
  color: string;
  permissions: string;
  highlighted: boolean;
}

export interface CredentialAccountEntity extends AccountEntity {
  source: {
    privacy: Visibility;
    sensitive: boolean;
    language: string | null;
    note: string;
    fields: FieldEntity[];
    follow_requests_count: number;
    hide_collections: boolean | null;
    discoverable: boolean | null;
    indexable: boolean;
    attribution_domains: string[];
    quote_policy: "public" | "followers" | "nobody";
  };
  role: RoleEntity;
}

// ---- Roles: Mastodon's default roles (config/roles.yml) and their permission bits (UserRole::FLAGS) ----

const FLAGS = {
  administrator: 1 << 0, view_devops: 1 << 1, view_audit_log: 1 << 2, view_dashboard: 1 << 3, manage_reports: 1 << 4,
  manage_federation: 1 << 5, manage_settings: 1 << 6, manage_blocks: 1 << 7, manage_taxonomies: 1 << 8, manage_appeals: 1 << 9,
  manage_users: 1 << 10, manage_invites: 1 << 11, manage_rules: 1 << 12, manage_announcements: 1 << 13, manage_custom_emojis: 1 << 14,
  manage_webhooks: 1 << 15, invite_users: 1 << 16, manage_roles: 1 << 17, manage_user_access: 1 << 18, delete_user_data: 1 << 19,
  view_feeds: 1 << 20, invite_bypass_approval: 1 << 21,
} as const;
type Flag = keyof typeof FLAGS;

const ALL = Object.values(FLAGS).reduce((a, b) => a | b, 0);
const sum = (flags: Flag[]) => flags.reduce((bits, flag) => bits | FLAGS[flag], 0);
/** The everyone role (-99) may invite; every other role adds to that. */
const EVERYONE = FLAGS.invite_users;
const MODERATOR: Flag[] = ["view_dashboard", "view_audit_log", "view_feeds", "manage_users", "manage_reports", "manage_taxonomies"];
const ADMIN: Flag[] = [
  ...MODERATOR, "manage_user_access", "delete_user_data", "manage_federation", "manage_settings", "manage_blocks", "manage_appeals",
  "manage_rules", "manage_invites", "manage_announcements", "manage_custom_emojis", "manage_webhooks", "manage_roles",
];

/** Computed permissions as Mastodon reports them: the administrator bit grants everything. */
const PERMISSIONS: Record<RoleName, number> = { User: EVERYONE, Moderator: EVERYONE | sum(MODERATOR), Admin: EVERYONE | sum(ADMIN), Owner: ALL };

/** The seeded staff roles are highlighted (shown as a badge); the everyone role has no name and is not. */
export function renderRole(role: RoleName): RoleEntity {
  const everyone = role === "User";
  return { id: ROLE_IDS[role], name: everyone ? "" : role, color: "", permissions: String(PERMISSIONS[role]), highlighted: !everyone };
}

function publicRoles(user: UserRow | undefined, unavailable: boolean): AccountRoleEntity[] {
  if (!user || unavailable) return [];
  const role = renderRole(user.role);
  return role.highlighted ? [{ id: role.id, name: role.name, color: role.color }] : [];
}

// ---- Account ----

/** Where every account without its own image points (served by api/default-images.ts). */
export function missingImageUrls(config: EntityConfig) {
  return { avatar: config.baseUrl + DEFAULT_IMAGE_PATHS.avatar, header: config.baseUrl + DEFAULT_IMAGE_PATHS.header };
}

/** The account's own images where it has them; an animated one has a still PNG beside it for *_static. */
function profileImageUrls(config: EntityConfig, account: { avatar_key: string | null; header_key: string | null }) {
  const missing = missingImageUrls(config);
  const storage = storageFor(config);
  const urls = (key: string | null, fallback: string) => {
    if (!key) return [fallback, fallback] as const;
    const still = stillKeyOf(key);
    return [storage.url(key), still ? storage.url(still) : storage.url(key)] as const;
  };
  const [avatar, avatarStatic] = urls(account.avatar_key, missing.avatar);
  const [header, headerStatic] = urls(account.header_key, missing.header);
  return { avatar, avatarStatic, header, headerStatic };
}

/** Mastodon shows the creation day only: midnight UTC, so the exact sign-up time does not leak. */
function midnightUtc(date: Date): string {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate())).toISOString();
}

function renderFields(fields: AccountWithUser["fields"]): FieldEntity[] {
  return fields.map((f) => ({
    name: f.name,
    value: plainToHtml(f.value, { multiline: false, relMe: true }),
    verified_at: f.verified_at ?? null,
  }));
}

export function renderAccount(config: EntityConfig, account: AccountWithUser): AccountEntity {
  // A suspended account keeps its name and counts but shows nothing it wrote (Mastodon's `unavailable?`).
  const unavailable = account.suspended_at !== null;
  const images = profileImageUrls(config, account);
  const entity: AccountEntity = {
    id: account.id,
    username: account.username,
    acct: account.domain ? `${account.username}@${account.domain}` : account.username,
    display_name: unavailable ? "" : account.display_name,
    locked: unavailable ? false : account.locked,
    bot: unavailable ? false : account.bot,
    discoverable: unavailable ? false : account.discoverable,
    indexable: unavailable ? false : account.indexable,
    group: false,
    created_at: midnightUtc(account.created_at),
    note: unavailable ? "" : plainToHtml(account.note),
    url: account.url ?? account.uri,
    uri: account.uri,
    avatar: images.avatar,
    avatar_static: images.avatarStatic,
    avatar_description: "",
    header: images.header,
    header_static: images.headerStatic,
    header_description: "",
    followers_count: account.followers_count,
    following_count: account.following_count,
    statuses_count: account.statuses_count,
    last_status_at: account.last_status_at ? account.last_status_at.toISOString().slice(0, 10) : null,
    hide_collections: account.hide_collections,
    show_media: true,
    show_media_replies: true,
    show_featured: true,
    // Kept on the row by migration 0023's trigger: the emojis the name, bio and fields use (local or the
    // account's server's), so rendering stays free of I/O.
    emojis: unavailable ? [] : profileEmojisOf(account).map((e) => renderCustomEmoji(config, e)),
    fields: unavailable ? [] : renderFields(account.fields),
    roles: publicRoles(account.user, unavailable),
  };
  // Optional keys are present only when they apply, as Mastodon's serializer does.
  if (account.user) entity.noindex = account.user.settings?.noindex === true;
  if (unavailable) entity.suspended = true;
  if (account.silenced_at) entity.limited = true;
  if (account.memorial) entity.memorial = true;
  return entity;
}

/** The id of the account this one moved to (accounts.moved_to_account_id, migration 0023), if any. */
export function movedToIdOf(account: object): string | null {
  const id = (account as { moved_to_account_id?: unknown }).moved_to_account_id;
  return typeof id === "string" ? id : null;
}

/** An account as its own page shows it (GET /api/v1/accounts/:id, lookup): with `moved` when it has moved. */
export async function renderAccountWithMoved(context: Pick<AppContext, "sql" | "config">, account: AccountWithUser): Promise<AccountEntity> {
  const [entity] = await renderAccountsWithMoved(context, [account]);
  return entity!;
}

/**
 * Accounts as every list shows them (status authors, notifications, followers, search…): each with `moved`,
 * the Account it moved to, as Mastodon's serializer nests it — the target without a `moved` of its own, and
 * only when it may be shown. One query more, and only when the list holds a moved account (rare), so a page
 * of ordinary accounts costs nothing extra.
 */
export async function renderAccountsWithMoved(context: Pick<AppContext, "sql" | "config">, accounts: AccountWithUser[]): Promise<AccountEntity[]> {
  const entities = accounts.map((account) => renderAccount(context.config, account));
  await addMoved(context, accounts, entities);
  return entities;
}

/**
 * Fill `moved` on Account entities already rendered from `accounts` (same order), for the entities that are
 * nested in a larger one (a report's target, Admin::Account's account). One query, only when one has moved.
 */
export async function addMoved(context: Pick<AppContext, "sql" | "config">, accounts: AccountWithUser[], entities: AccountEntity[]): Promise<void> {
  const movedIds = accounts.flatMap((account) => (account.suspended_at === null ? (movedToIdOf(account) ?? []) : []));
  if (movedIds.length === 0) return;
  const targets = new Map((await findVisibleAccounts(context.sql, [...new Set(movedIds)])).filter((t) => t.suspended_at === null).map((t) => [t.id, renderAccount(context.config, t)]));
  accounts.forEach((account, i) => {
    const target = account.suspended_at === null ? targets.get(movedToIdOf(account) ?? "") : undefined;
    if (target) entities[i]!.moved = target;
  });
}

/** `followRequestsCount`: pending requests to this account (the caller counts them; entities do no I/O). */
export function renderCredentialAccount(config: EntityConfig, account: LocalAccountRow, followRequestsCount = 0): CredentialAccountEntity {
  const defaults = postingDefaults(account.user);
  return {
    ...renderAccount(config, account),
    source: {
      privacy: defaults.privacy,
      sensitive: defaults.sensitive,
      language: defaults.language,
      note: account.note,
      fields: account.fields.map((f) => ({ name: f.name, value: f.value, verified_at: f.verified_at ?? null })),
      follow_requests_count: followRequestsCount,
      hide_collections: account.hide_collections,
      discoverable: account.discoverable,
      indexable: account.indexable,
      attribution_domains: [],
      quote_policy: "public",
    },
    role: renderRole(account.user.role),
  };
}
