/**
 * Moderation rules behind the admin API and CLI: e-mail domain and IP blocks (and their check at sign-up),
 * account moderation (approve, reject, disable, silence, suspend, sensitive and their undoing, each action
 * recorded as a strike), and the dashboard measures.
 */
import ipaddr from "ipaddr.js";
import { findAccountsByIds, type AccountWithUser } from "../accounts/store";
import { deleteLocalAccount, isAccountId, type LocalAccountRow } from "../accounts/service";
import { deleteQuietly } from "../media/service";
import type { AppContext } from "../../infra/context";
import { storageFor } from "../../infra/storage";
import type { RoleName } from "../accounts/rules";
import { normaliseDomain } from "../federation/domain-blocks";
import type { Db, Sql } from "../../infra/db";
import { ApiError } from "../../infra/errors";
import * as store from "./store";
import { blockForSuspension, isCanonicalEmailBlocked, unblockForSuspension } from "./canonical-emails";
import { findReport } from "./reports";
import { deleteStatus } from "../statuses/service";
import { removeStatus } from "../federation/handlers/delete";

export type { AccountFilter, EmailDomainBlockRow, IpBlockRow, IpBlockSeverity } from "./store";
export const IP_BLOCK_SEVERITIES: readonly store.IpBlockSeverity[] = ["sign_up_requires_approval", "sign_up_block", "no_access"];

/** A well-formed row id (positive bigint), for inputs that name reports and the like. */
export const isId = isAccountId;

// ---- sign-up screening ----

/** Candidate domains of an address: a block on example.com covers mail.example.com too. */
function emailDomainCandidates(email: string): string[] {
  const host = email.slice(email.lastIndexOf("@") + 1).trim().toLowerCase().replace(/\.$/, "");
  const parts = host.split(".");
  return parts.map((_, i) => parts.slice(i).join(".")).filter((d) => d.length > 0);
}

/**
 * Before an account is created: refuse a blocked e-mail domain (422, as Mastodon's validator) or an IP
 * range blocked for sign-ups (403); say whether the IP requires approval even in open mode.
 */
export async function screenSignUp(sql: Db, input: { email: string; ip?: string | null }): Promise<{ requireApproval: boolean }> {
  // A blocked domain or a blocked canonical address (migrations/0024) fail alike, as Mastodon's validator.
  if ((await store.emailDomainBlocked(sql, emailDomainCandidates(input.email))) || (await isCanonicalEmailBlocked(sql, input.email))) {
    const details = { email: [{ error: "ERR_BLOCKED" as const, description: "is not allowed" }] };
    throw ApiError.unprocessable("Validation failed: Email is not allowed", { details });
  }
  const severity = input.ip && ipaddr.isValid(input.ip) ? await store.strictestIpBlock(sql, input.ip) : undefined;
  if (severity === "sign_up_block" || severity === "no_access") throw ApiError.forbidden("Sign-ups are not allowed from this address");
  return { requireApproval: severity === "sign_up_requires_approval" };
}

// ---- e-mail domain blocks ----

export async function createEmailDomainBlock(sql: Db, domain: string): Promise<store.EmailDomainBlockRow> {
  const row = await store.insertEmailDomainBlock(sql, normaliseDomain(domain));
  if (!row) throw ApiError.unprocessable("Validation failed: Domain has already been taken");
  return row;
}

export async function findEmailDomainBlock(sql: Db, id: string): Promise<store.EmailDomainBlockRow> {
  const row = await store.findEmailDomainBlock(sql, id);
  if (!row) throw ApiError.notFound();
  return row;
}

export async function deleteEmailDomainBlock(sql: Db, id: string): Promise<void> {
  if (!(await store.deleteEmailDomainBlock(sql, id))) throw ApiError.notFound();
}

export const listEmailDomainBlocks = store.listEmailDomainBlocks;
export const emailDomainUses = store.emailDomainUses;

// ---- IP blocks ----

/** "192.0.2.7" → "192.0.2.7/32"; "192.0.2.9/24" → "192.0.2.0/24" (the range it names); anything else → 422. */
export function normaliseCidr(input: string): string {
  const text = input.trim();
  try {
    if (text.includes("/")) {
      const [address, bits] = ipaddr.parseCIDR(text);
      const network = address.kind() === "ipv4" ? ipaddr.IPv4.networkAddressFromCIDR(text) : ipaddr.IPv6.networkAddressFromCIDR(text);
      return `${network.toString()}/${bits}`;
    }
    const address = ipaddr.parse(text);
    return `${address.toString()}/${address.kind() === "ipv4" ? 32 : 128}`;
  } catch {
    throw ApiError.unprocessable("Validation failed: Ip is invalid");
  }
}

function expiresAt(expiresIn: number | null | undefined): Date | null | undefined {
  if (expiresIn === undefined) return undefined;
  return expiresIn === null ? null : new Date(Date.now() + expiresIn * 1000);
}

export function isIpOrCidr(text: string): boolean {
  if (!text.includes("/")) return ipaddr.isValid(text);
  try {
    ipaddr.parseCIDR(text);
    return true;
  } catch {
    return false;
  }
}

export async function createIpBlock(
  sql: Db,
  input: { ip: string; severity: store.IpBlockSeverity; comment?: string; expiresIn?: number | null },
): Promise<store.IpBlockRow> {
  const row = await store.insertIpBlock(sql, { ip: normaliseCidr(input.ip), severity: input.severity, comment: input.comment ?? "", expires_at: expiresAt(input.expiresIn) ?? null });
  if (!row) throw ApiError.unprocessable("Validation failed: Ip has already been taken");
  return row;
}

export async function updateIpBlock(
  sql: Db,
  id: string,
  input: { ip?: string; severity?: store.IpBlockSeverity; comment?: string; expiresIn?: number | null },
): Promise<store.IpBlockRow> {
  try {
    const row = await store.updateIpBlock(sql, id, {
      ip: input.ip === undefined ? undefined : normaliseCidr(input.ip),
      severity: input.severity,
      comment: input.comment,
      expires_at: expiresAt(input.expiresIn),
    });
    if (!row) throw ApiError.notFound();
    return row;
  } catch (error) {
    if ((error as { code?: string }).code === "23505") throw ApiError.unprocessable("Validation failed: Ip has already been taken");
    throw error;
  }
}

export async function findIpBlock(sql: Db, id: string): Promise<store.IpBlockRow> {
  const row = await store.findIpBlock(sql, id);
  if (!row) throw ApiError.notFound();
  return row;
}

export async function deleteIpBlock(sql: Db, id: string): Promise<void> {
  if (!(await store.deleteIpBlock(sql, id))) throw ApiError.notFound();
}

export const listIpBlocks = store.listIpBlocks;

// ---- accounts ----

export interface AdminAccountView {
  account: AccountWithUser;
  details: store.ModerationRow;
}

async function views(sql: Db, ids: string[]): Promise<AdminAccountView[]> {
  const [accounts, details] = await Promise.all([findAccountsByIds(sql, ids), store.moderationDetails(sql, ids)]);
  const byId = new Map(accounts.map((a) => [a.id, a]));
  return ids.flatMap((id) => {
    const account = byId.get(id);
    const detail = details.get(id);
    return account && detail ? [{ account, details: detail }] : [];
  });
}

export async function listAccountsByIds(sql: Db, ids: string[]): Promise<AdminAccountView[]> {
  return views(sql, ids.filter(isAccountId));
}

export async function listAccounts(sql: Db, filter: store.AccountFilter, page: { where: unknown; order: unknown; limit: number }): Promise<AdminAccountView[]> {
  return views(sql, await store.filterAccountIds(sql, filter, page));
}

export async function findAccount(sql: Db, id: string): Promise<AdminAccountView> {
  if (!isAccountId(id)) throw ApiError.notFound();
  const [view] = await views(sql, [id]);
  if (!view) throw ApiError.notFound();
  return view;
}

const RANK: Record<RoleName, number> = { User: 0, Moderator: 1, Admin: 2, Owner: 3 };

/** Staff can only act on accounts ranked below them (a moderator cannot suspend an admin), never on themselves. */
function assertMayModerate(actor: LocalAccountRow, target: AccountWithUser): void {
  if (actor.id === target.id) throw ApiError.forbidden("This action is not allowed");
  if (target.user && RANK[target.user.role] >= RANK[actor.user.role]) throw ApiError.forbidden("This action is not allowed");
}

export const ACTION_TYPES = ["none", "sensitive", "disable", "silence", "suspend"] as const;
export type ActionType = (typeof ACTION_TYPES)[number];

export interface ActionInput {
  type: ActionType;
  text: string;
  reportId?: string;
  /** Mastodon's AccountWarningPreset: its text goes before the moderator's own (unknown id → 404). */
  warningPresetId?: string;
}

/**
 * POST /api/v1/admin/accounts/:id/action: apply the action and record the strike, in one transaction.
 * "none" is a warning only; "disable" freezes a local login (sign-in and tokens refused, api/caller.ts);
 * "silence" limits; "suspend" also blocks the account's canonical e-mail address against new sign-ups.
 * Any action but "none" resolves every open report about the account; the strike keeps the named
 * report and its posts.
 */
export async function performAction(sql: Sql, actor: LocalAccountRow, targetId: string, input: ActionInput): Promise<void> {
  const { account } = await findAccount(sql, targetId);
  assertMayModerate(actor, account);
  if (input.type === "disable" && !account.user) throw ApiError.unprocessable("Only local accounts can be disabled");
  let text = input.text;
  if (input.warningPresetId !== undefined) {
    const preset = isAccountId(input.warningPresetId) ? await store.findWarningPreset(sql, input.warningPresetId) : undefined;
    if (!preset) throw ApiError.notFound();
    text = [preset.text, text].filter((t) => t.trim() !== "").join("\n\n").slice(0, 5000);
  }
  await sql.begin(async (tx) => {
    if (input.type === "sensitive") await store.setAccountFlag(tx, account.id, "sensitized_at", true);
    if (input.type === "silence") await store.setAccountFlag(tx, account.id, "silenced_at", true);
    if (input.type === "suspend") await store.setAccountFlag(tx, account.id, "suspended_at", true);
    if (input.type === "suspend" && account.user) await blockForSuspension(tx, account.id, account.user.email);
    if (input.type === "disable") await store.setUserFlag(tx, account.id, "disabled", true);
    if (input.reportId && !(await store.resolveReport(tx, input.reportId, account.id, actor.id))) throw ApiError.notFound();
    // As Mastodon: a warning resolves only the report it names; any other action answers every open report about the account.
    if (input.type !== "none") await store.resolveOpenReports(tx, account.id, actor.id);
    const statusIds = input.reportId ? await store.reportStatusIds(tx, input.reportId) : [];
    await store.insertWarning(tx, { accountId: account.id, byAccountId: actor.id, action: input.type, text, reportId: input.reportId, statusIds });
  });
}

export type Undo = "enable" | "unsilence" | "unsuspend" | "unsensitive" | "approve" | "reject";

/** The one-word endpoints; each answers with the account afterwards (reject: the account before). */
export async function undo(sql: Sql, actor: LocalAccountRow, targetId: string, what: Undo): Promise<AdminAccountView> {
  const view = await findAccount(sql, targetId);
  assertMayModerate(actor, view.account);
  switch (what) {
    case "enable":
      await store.setUserFlag(sql, view.account.id, "disabled", false);
      break;
    case "unsilence":
      await store.setAccountFlag(sql, view.account.id, "silenced_at", false);
      break;
    case "unsuspend":
      await sql.begin(async (tx) => {
        await store.setAccountFlag(tx, view.account.id, "suspended_at", false);
        await unblockForSuspension(tx, view.account.id);
      });
      break;
    case "unsensitive":
      await store.setAccountFlag(sql, view.account.id, "sensitized_at", false);
      break;
    case "approve":
      if (!view.account.user || view.account.user.approved) throw ApiError.forbidden("This action is not allowed");
      await store.setUserFlag(sql, view.account.id, "approved", true);
      break;
    case "reject":
      if (!view.account.user || view.account.user.approved) throw ApiError.forbidden("This action is not allowed");
      await store.deletePendingLocalAccount(sql, view.account.id);
      return view;
  }
  return findAccount(sql, targetId);
}

/**
 * DELETE /api/v1/admin/accounts/:id: permanently remove a suspended account's data (Mastodon requires the
 * suspension first, so a slip of the finger cannot erase an active account). Local accounts go through the
 * accounts feature; media files are removed after the rows.
 */
export async function deleteSuspendedAccount(context: Pick<AppContext, "sql" | "config">, actor: LocalAccountRow, targetId: string): Promise<AdminAccountView> {
  const view = await findAccount(context.sql, targetId);
  assertMayModerate(actor, view.account);
  if (!view.account.suspended_at) throw ApiError.forbidden("This action is not allowed");
  const keys = await store.accountStorageKeys(context.sql, view.account.id);
  if (view.account.domain === null) await deleteLocalAccount(context.sql, view.account.username);
  else await store.deleteSuspendedRemoteAccount(context.sql, view.account.id);
  await deleteQuietly(storageFor(context.config), keys);
  return view;
}

// ---- measures ----

export const MEASURE_KEYS = ["active_users", "new_users", "interactions", "opened_reports", "resolved_reports"] as const;
export type MeasureKey = (typeof MEASURE_KEYS)[number];

export interface Measure {
  key: MeasureKey;
  total: number;
  previousTotal: number;
  data: { day: string; value: number }[];
}

/** Daily counts over [start, end] and the total of the same-length period just before, as Mastodon. */
export async function measures(sql: Db, keys: MeasureKey[], start: Date, end: Date): Promise<Measure[]> {
  const days = Math.round((end.getTime() - start.getTime()) / 86_400_000) + 1;
  const previousEnd = new Date(start.getTime() - 86_400_000);
  const previousStart = new Date(previousEnd.getTime() - (days - 1) * 86_400_000);
  return Promise.all(
    keys.map(async (key) => {
      const [data, previous] = await Promise.all([store.dailyCounts(sql, key, start, end), store.dailyCounts(sql, key, previousStart, previousEnd)]);
      const sum = (rows: { value: number }[]) => rows.reduce((n, r) => n + r.value, 0);
      return { key, total: sum(data), previousTotal: sum(previous), data };
    }),
  );
}

// ---- moderation notes and strikes (staff-only, shown on the admin pages) ----

export type { NoteRow, NoteSubject, StrikeRow } from "./store";
/** Mastodon's limits: AccountModerationNote 2,000 characters, ReportNote 500. */
export const NOTE_LIMITS = { account: 2000, report: 500 } as const;

export interface NoteView {
  note: store.NoteRow;
  author: AccountWithUser | undefined;
}

export async function notesFor(sql: Db, subject: store.NoteSubject): Promise<NoteView[]> {
  const notes = await store.listNotes(sql, subject);
  const authors = new Map((await findAccountsByIds(sql, [...new Set(notes.flatMap((n) => (n.account_id ? [n.account_id] : [])))])).map((a) => [a.id, a]));
  return notes.map((note) => ({ note, author: note.account_id ? authors.get(note.account_id) : undefined }));
}

/** The subject must exist (404 otherwise); the text is trimmed, must not be empty and stays within the limit (422). */
export async function addNote(sql: Db, actor: LocalAccountRow, subject: store.NoteSubject, content: string): Promise<store.NoteRow> {
  const text = content.replace(/\r\n/g, "\n").trim();
  if (text === "") throw ApiError.unprocessable("Validation failed: Content can't be blank");
  if ([...text].length > NOTE_LIMITS[subject.kind]) throw ApiError.unprocessable(`Validation failed: Content is too long (maximum is ${NOTE_LIMITS[subject.kind]} characters)`);
  if (!isAccountId(subject.id)) throw ApiError.notFound();
  const exists =
    subject.kind === "account" ? (await findAccountsByIds(sql, [subject.id])).length > 0 : (await sql`select 1 from reports where id = ${subject.id}`).length > 0;
  if (!exists) throw ApiError.notFound();
  return store.insertNote(sql, subject, actor.id, text);
}

/** Its author or an admin may delete a note (Mastodon's note policy); anyone else gets 403. */
export async function removeNote(sql: Db, actor: LocalAccountRow, subject: store.NoteSubject, noteId: string): Promise<void> {
  if (!isAccountId(subject.id) || !isAccountId(noteId)) throw ApiError.notFound();
  const note = (await store.listNotes(sql, subject)).find((n) => n.id === noteId);
  if (!note) throw ApiError.notFound();
  if (note.account_id !== actor.id && RANK[actor.user.role] < RANK.Admin) throw ApiError.forbidden();
  await store.deleteNote(sql, subject, noteId);
}

export const strikesFor = (sql: Db, accountId: string, limit = 50) => store.listWarnings(sql, accountId, limit);

// ---- acting on a report (the admin web UI's report page) ----

export const REPORT_ACTIONS = [...ACTION_TYPES, "delete_statuses"] as const;
export type ReportAction = (typeof REPORT_ACTIONS)[number];

/**
 * Act on a report's target and resolve the report, recording the strike against it. `delete_statuses`
 * (Mastodon's report action) removes the reported posts of the target, with the same events as their
 * author deleting them (local) or their server sending Delete (remote), and records which posts they were.
 */
export async function actOnReport(context: AppContext, actor: LocalAccountRow, reportId: string, input: { type: ReportAction; text: string }): Promise<void> {
  const report = await findReport(context.sql, reportId);
  if (input.type !== "delete_statuses") {
    await performAction(context.sql, actor, report.target_account_id, { type: input.type, text: input.text, reportId: report.id });
    return;
  }
  const { account } = await findAccount(context.sql, report.target_account_id);
  assertMayModerate(actor, account);
  const statusIds = await store.reportedStatusesOf(context.sql, report.id, account.id);
  for (const id of statusIds) {
    if (account.user) await deleteStatus(context, account as LocalAccountRow, id).catch((error) => {
      // Already gone (deleted meanwhile): nothing left to remove.
      if (!(error instanceof ApiError && error.status === 404)) throw error;
    });
    else await removeStatus(context, id);
  }
  await context.sql.begin(async (tx) => {
    await store.resolveReport(tx, report.id, account.id, actor.id);
    await store.insertWarning(tx, { accountId: account.id, byAccountId: actor.id, action: "delete_statuses", text: input.text, reportId: report.id, statusIds });
  });
}
