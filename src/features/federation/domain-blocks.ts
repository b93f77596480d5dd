/**
 * Instance-level domain blocks (Mastodon's DomainBlock): silence or suspend a whole domain, optionally
 * rejecting its media and reports. A suspended domain's activities are dropped at the inbox (202, not
 * processed), the outbound client refuses to fetch from it, and its cached accounts and posts are purged
 * in the background (features/admin/jobs.ts). Also: CSV import/export in Mastodon's format, and domain
 * allows for limited federation mode.
 */
import type { AppContext } from "../../infra/context";
import type { Db } from "../../infra/db";
import { ApiError } from "../../infra/errors";
import { purgeDomainJob } from "../admin/jobs";
import * as store from "./store";

export type { DomainAllowRow, DomainBlockFields, DomainBlockRow } from "./store";
export type Severity = "noop" | "silence" | "suspend";
export const SEVERITIES: readonly Severity[] = ["noop", "silence", "suspend"];

/** Lower-case, no scheme, no path, no trailing dot; IDNs as given (punycode is the operator's job). */
export function normaliseDomain(input: string): string {
  const domain = input.trim().toLowerCase().replace(/\.$/, "");
  if (!/^[a-z0-9.-]+(:\d{1,5})?$/.test(domain) || domain.startsWith(".") || domain.includes("..") || domain.length > 253)
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

/** Start purging a suspended domain's cached content; idempotent (one pending purge per domain). */
export async function purgeSuspendedDomain(context: Pick<AppContext, "queues">, domain: string): Promise<void> {
  await context.queues.enqueue(purgeDomainJob, { domain }, { jobId: `purge-domain:${domain}:${Date.now()}`, priority: 100 });
}

/** Create or replace a block with every field; a block that is now a suspension starts the purge. */
export async function putDomainBlock(context: Pick<AppContext, "sql" | "queues">, fields: store.DomainBlockFields): Promise<store.DomainBlockRow> {
  const block = await store.putDomainBlock(context.sql, { ...fields, domain: normaliseDomain(fields.domain) });
  if (block.severity === "suspend") await purgeSuspendedDomain(context, block.domain);
  return block;
}

export async function unblockDomain(sql: Db, domain: string): Promise<boolean> {
  return store.deleteDomainBlock(sql, normaliseDomain(domain));
}

export const listDomainBlocks = store.listDomainBlocks;
export const findDomainBlockById = store.findDomainBlockById;
export const findDomainBlock = store.findDomainBlock;
export const pageDomainBlocks = store.pageDomainBlocks;
export const pageDomainAllows = store.pageDomainAllows;
export const deleteDomainBlockById = store.deleteDomainBlockById;

export async function isSuspendedHost(sql: Db, host: string): Promise<boolean> {
  return (await store.findDomainBlockCovering(sql, host))?.severity === "suspend";
}

/**
 * May we not federate with this host at all? Suspended, or — in LIMITED_FEDERATION_MODE — not on the
 * allow-list. Every federation door asks this one question (inbox, signed fetches, outbound requests).
 */
export async function isRefusedHost(context: Pick<AppContext, "sql" | "config">, host: string): Promise<boolean> {
  if (context.config.limitedFederationMode && !(await isAllowedHost(context.sql, host))) return true;
  return isSuspendedHost(context.sql, host);
}

// ---- CSV (Mastodon's export format) ----

export const CSV_HEADER = "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate";
const MAX_CSV_ROWS = 100_000;
const MAX_COMMENT = 1000;

export class CsvError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
  }
}

/** RFC 4180 fields of one record; quoted fields may hold commas and doubled quotes (not newlines). */
function splitCsvLine(text: string, line: number): string[] {
  const fields: string[] = [];
  let i = 0;
  while (i <= text.length) {
    if (text[i] === '"') {
      let value = "";
      i++;
      for (;;) {
        if (i >= text.length) throw new CsvError(line, "unterminated quoted field");
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            value += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += text[i++];
      }
      if (i < text.length && text[i] !== ",") throw new CsvError(line, "text after a closing quote");
      fields.push(value);
      i++;
    } else {
      const end = text.indexOf(",", i);
      const stop = end === -1 ? text.length : end;
      fields.push(text.slice(i, stop));
      i = stop + 1;
    }
  }
  return fields;
}

function csvBool(value: string | undefined, line: number, column: string): boolean {
  const v = (value ?? "").trim().toLowerCase();
  if (v === "" || v === "false") return false;
  if (v === "true") return true;
  throw new CsvError(line, `${column} must be true or false, got ${JSON.stringify(value)}`);
}

/**
 * Parse a Mastodon blocklist CSV. The header row is required (its columns may come in any order; #domain is
 * required, the rest default as Mastodon's importer does). Any malformed row throws a CsvError naming its
 * line, so nothing is ever applied from a half-understood file.
 */
export function parseBlocklistCsv(text: string): store.DomainBlockFields[] {
  // NUL and lone surrogates cannot be stored (Postgres refuses them): drop them as the API input does.
  const lines = text.replace(/^\uFEFF/, "").replace(/\u0000/g, "").toWellFormed().split(/\r?\n/);
  const header = splitCsvLine(lines[0] ?? "", 1).map((h) => h.trim().replace(/^#/, "").toLowerCase());
  if (!header.includes("domain")) throw new CsvError(1, `the header must name the columns (${CSV_HEADER})`);
  const column = (name: string) => header.indexOf(name);
  const known = new Set(["domain", "severity", "reject_media", "reject_reports", "public_comment", "obfuscate", "private_comment"]);
  const unknown = header.find((h) => !known.has(h));
  if (unknown !== undefined) throw new CsvError(1, `unknown column ${JSON.stringify(unknown)}`);

  const rows: store.DomainBlockFields[] = [];
  const seen = new Map<string, number>();
  for (let index = 1; index < lines.length; index++) {
    const line = index + 1;
    const raw = lines[index]!;
    if (raw.trim() === "") continue;
    if (rows.length >= MAX_CSV_ROWS) throw new CsvError(line, `more than ${MAX_CSV_ROWS} rows`);
    const fields = splitCsvLine(raw, line);
    if (fields.length > header.length) throw new CsvError(line, `${fields.length} fields, the header has ${header.length}`);
    const get = (name: string) => (column(name) === -1 ? undefined : fields[column(name)]);
    let domain: string;
    try {
      domain = normaliseDomain(get("domain") ?? "");
    } catch {
      throw new CsvError(line, `${JSON.stringify(get("domain") ?? "")} is not a domain name`);
    }
    const severity = ((get("severity") ?? "").trim().toLowerCase() || "suspend") as Severity;
    if (!SEVERITIES.includes(severity)) throw new CsvError(line, `severity must be one of ${SEVERITIES.join(", ")}, got ${JSON.stringify(get("severity"))}`);
    const publicComment = (get("public_comment") ?? "").trim();
    const privateComment = (get("private_comment") ?? "").trim();
    if (publicComment.length > MAX_COMMENT || privateComment.length > MAX_COMMENT) throw new CsvError(line, `a comment is longer than ${MAX_COMMENT} characters`);
    if (seen.has(domain)) throw new CsvError(line, `${domain} is already on line ${seen.get(domain)}`);
    seen.set(domain, line);
    rows.push({
      domain,
      severity,
      reject_media: csvBool(get("reject_media"), line, "#reject_media"),
      reject_reports: csvBool(get("reject_reports"), line, "#reject_reports"),
      public_comment: publicComment || null,
      private_comment: privateComment || null,
      obfuscate: csvBool(get("obfuscate"), line, "#obfuscate"),
    });
  }
  return rows;
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""').replace(/[\r\n]+/g, " ")}"` : value;
}

export function formatBlocklistCsv(blocks: store.DomainBlockFields[]): string {
  const rows = blocks.map((b) =>
    [b.domain, b.severity, String(b.reject_media), String(b.reject_reports), csvField(b.public_comment ?? ""), String(b.obfuscate)].join(","),
  );
  return [CSV_HEADER, ...rows].join("\n") + "\n";
}

export interface ImportPlan {
  added: store.DomainBlockFields[];
  changed: { before: store.DomainBlockRow; after: store.DomainBlockFields }[];
  unchanged: store.DomainBlockFields[];
}

/** What an import would do, compared with the blocks stored now. Private comments already stored are kept
 *  when the file has none (Mastodon's export never carries them). */
export async function planImport(sql: Db, rows: store.DomainBlockFields[]): Promise<ImportPlan> {
  const current = new Map((await store.listDomainBlocks(sql)).map((b) => [b.domain, b]));
  const plan: ImportPlan = { added: [], changed: [], unchanged: [] };
  for (const row of rows) {
    const before = current.get(row.domain);
    if (!before) {
      plan.added.push(row);
      continue;
    }
    const after = { ...row, private_comment: row.private_comment ?? before.private_comment };
    const same =
      before.severity === after.severity &&
      before.reject_media === after.reject_media &&
      before.reject_reports === after.reject_reports &&
      (before.public_comment ?? null) === after.public_comment &&
      before.obfuscate === after.obfuscate &&
      before.private_comment === after.private_comment;
    if (same) plan.unchanged.push(after);
    else plan.changed.push({ before, after });
  }
  return plan;
}

/** Apply a plan in one transaction; purges of newly suspended domains are enqueued after the commit. */
export async function applyImport(context: Pick<AppContext, "sql" | "queues">, plan: ImportPlan): Promise<void> {
  const writes = [...plan.added, ...plan.changed.map((c) => c.after)];
  await context.sql.begin((tx) => store.putDomainBlocks(tx, writes));
  const newlySuspended = [...plan.added.filter((r) => r.severity === "suspend"), ...plan.changed.filter((c) => c.after.severity === "suspend" && c.before.severity !== "suspend").map((c) => c.after)];
  // Only domains we hold something from need a purge (most of a shared blocklist we never heard of), and
  // those are enqueued 100 at a time in parallel rather than one Redis round trip after another.
  const toPurge = await store.domainsWithAccounts(context.sql, newlySuspended.map((row) => row.domain));
  for (let i = 0; i < toPurge.length; i += 100) {
    await Promise.all(toPurge.slice(i, i + 100).map((domain) => purgeSuspendedDomain(context, domain)));
  }
}

// ---- domain allows (LIMITED_FEDERATION_MODE) ----

export const listDomainAllows = store.listDomainAllows;
export const findDomainAllowById = store.findDomainAllowById;

export async function allowDomain(sql: Db, domain: string): Promise<store.DomainAllowRow> {
  return store.insertDomainAllow(sql, normaliseDomain(domain));
}

export async function disallowDomain(sql: Db, where: { id: string } | { domain: string }): Promise<boolean> {
  return store.deleteDomainAllow(sql, "domain" in where ? { domain: normaliseDomain(where.domain) } : where);
}

/** In limited federation mode, may this host federate? (An allowed domain covers its subdomains.) */
export async function isAllowedHost(sql: Db, host: string): Promise<boolean> {
  const bare = host.toLowerCase().replace(/:\d+$/, "");
  const parts = bare.split(".");
  const candidates = parts.map((_, i) => parts.slice(i).join(".")).filter(Boolean);
  return store.isDomainAllowed(sql, [host.toLowerCase(), ...candidates]);
}
