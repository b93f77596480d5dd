/**
 * Compiled filters per account, kept in process memory because they are read on every timeline page and
 * every streamed status. A change bumps a per-account version number in Redis (one INCR); the web role reads
 * that number (one GET, no database query) before using its copy, so every process sees a change at once.
 * The streaming role trusts its copy instead and drops it when the account's system channel says
 * `filters_changed`, or when the account's last connection goes.
 */
import type { AppContext } from "../../infra/context";
import { compileFilters, type CompiledFilter } from "./match";
import { filtersOf } from "./store";

/** Enough for every active account of a big instance; the oldest entries go first beyond it. */
const MAX_ENTRIES = 20_000;

interface Entry {
  version: string;
  compiled: CompiledFilter[];
}

const entries = new Map<string, Entry>();

function versionKey(context: AppContext, accountId: string): string {
  const ns = context.config.redis.namespace;
  return `${ns ? `${ns}:` : ""}woolly:filters:version:${accountId}`;
}

function remember(accountId: string, entry: Entry): void {
  entries.delete(accountId);
  entries.set(accountId, entry);
  if (entries.size > MAX_ENTRIES) entries.delete(entries.keys().next().value!);
}

async function load(context: AppContext, accountId: string, version: string): Promise<CompiledFilter[]> {
  const compiled = compileFilters(await filtersOf(context.sql, accountId));
  remember(accountId, { version, compiled });
  return compiled;
}

/** The account's compiled filters, current as of the Redis version (web role). */
export async function compiledFiltersFor(context: AppContext, accountId: string): Promise<CompiledFilter[]> {
  const version = (await context.redis.get(versionKey(context, accountId))) ?? "0";
  const entry = entries.get(accountId);
  if (entry && entry.version === version) return entry.compiled;
  return load(context, accountId, version);
}

/** The streaming role's read: its copy until told otherwise (see forgetCompiledFilters). */
export async function trustedFiltersFor(context: AppContext, accountId: string): Promise<CompiledFilter[]> {
  const entry = entries.get(accountId);
  if (entry) return entry.compiled;
  return compiledFiltersFor(context, accountId);
}

export function forgetCompiledFilters(accountId: string): void {
  entries.delete(accountId);
}

/** After a change has committed: every process's copy is stale from now on. */
export async function bumpFiltersVersion(context: AppContext, accountId: string): Promise<void> {
  entries.delete(accountId);
  await context.redis.incr(versionKey(context, accountId));
}

/** The copy held now, if any (no I/O): the streaming role's per-event read after its connect-time load. */
export function peekCompiledFilters(accountId: string): CompiledFilter[] | undefined {
  return entries.get(accountId)?.compiled;
}
