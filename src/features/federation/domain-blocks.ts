/**
 * Instance-level domain blocks (Mastodon's DomainBlock): silence or suspend a whole domain, optionally
 * rejecting its media and reports. A suspended domain's activities are dropped at the inbox (202, not
 * processed) and the outbound client refuses to fetch from it.
 */
import type { Db } from "../../infra/db";
import { ApiError } from "../../infra/errors";
import * as store from "./store";

export type { DomainBlockRow } from "./store";
export type Severity = "noop" | "silence" | "suspend";

/** Lower-case, no scheme, no path, no trailing dot; IDNs as given (punycode is the operator's job). */
export function normaliseDomain(input: string): string {
  const domain = input.trim().toLowerCase().replace(/\.$/, "");
  if (!/^[a-z0-9.-]+(:\d{1,5})?$/.test(domain) || domain.startsWith(".") || domain.includes(".."))
    throw ApiError.unprocessable(`${JSON.stringify(input)} is not a domain name`);
  return domain;
}

export async function blockDomain(
  sql: Db,
  input: { domain: string; severity?: Severity; rejectMedia?: boolean; rejectReports?: boolean; comment?: string | null },
) {
  return store.upsertDomainBlock(sql, {
    domain: normaliseDomain(input.domain),
    severity: input.severity ?? "silence",
    reject_media: input.rejectMedia ?? false,
    reject_reports: input.rejectReports ?? false,
    private_comment: input.comment ?? null,
  });
}

export async function unblockDomain(sql: Db, domain: string): Promise<boolean> {
  return store.deleteDomainBlock(sql, normaliseDomain(domain));
}

export const listDomainBlocks = store.listDomainBlocks;

export async function isSuspendedHost(sql: Db, host: string): Promise<boolean> {
  return (await store.findDomainBlockCovering(sql, host))?.severity === "suspend";
}
