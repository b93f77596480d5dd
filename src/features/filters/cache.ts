/**
 * Compiled filters per account, kept in process memory because they are read on every timeline page and
 * every streamed status.
 *
 * How the web role knows its copy is current, without a round trip per read:
 * - a change (service.ts, after its commit) bumps a per-account version number in Redis (one INCR) and sends
 *   a Postgres NOTIFY on FILTERS_CHANNEL with the account id; every process listens (once per pool) and drops
 *   that account's copy when it hears it, and drops every copy when its listener (re)connects (it may have
 *   missed some);
 * - so while the listener is up, a copy is used as it is — no Redis, no SQL — for up to TRUST_MS after it was
 *   loaded or checked; after that (a backstop for a notification that never arrives, e.g. behind pgbouncer in
 *   transaction mode), and whenever the listener is not up, the Redis version is read (one GET) first;
 * - a copy loaded while a notification arrived is not trusted (it may predate the change it announced).
 * A change made in this process drops the copy at once; other processes hear it within milliseconds.
 * The streaming role trusts its copy instead and drops it when the account's system channel says
 * `filters_changed`, or when the account's last connection goes.
 */
import type { AppContext } from "../../infra/context";
import type { Sql } from "../../infra/db";
import { compileFilters, type CompiledFilter } from "./match";
import { filtersOf } from "./store";

/** The NOTIFY channel of filter changes; the payload is the account id. */
export const FILTERS_CHANNEL = "woolly_filters";
/** How long a copy is used without a check while notifications are heard. */
export const TRUST_MS = 5_000;

/** Enough for every active account of a big instance; the oldest entries go first beyond it. */
const MAX_ENTRIES = 20_000;

interface Entry {
  version: string;
  compiled: CompiledFilter[];
  /** Until when it may be used without reading the version (0: check it first). */
  trustedUntil: number;
}

const entries = new Map<string, Entry>();
/** Bumped by every notification heard and every listener (re)connect: a read that saw it change trusts nothing. */
let heard = 0;

/** Pools with a listener started (value: when), and those whose listener is up. */
const listening = new WeakMap<object, number>();
const listenerUp = new WeakSet<object>();
const RETRY_LISTEN_MS = 30_000;

/** Whether `sql`'s listener is up; starts it (again, after RETRY_LISTEN_MS) when it is not. */
function listenerReady(sql: Sql): boolean {
  if (listenerUp.has(sql)) return true;
  const started = listening.get(sql);
  if (started !== undefined && Date.now() - started < RETRY_LISTEN_MS) return false;
  listening.set(sql, Date.now());
  sql
    .listen(
      FILTERS_CHANNEL,
      (accountId) => {
        heard++;
        entries.delete(accountId);
      },
      () => {
        // Also on every reconnect: changes made while the listener was down were not heard.
        heard++;
        entries.clear();
        listenerUp.add(sql);
      },
    )
    .catch(() => {});
  return false;
}

function versionKey(context: AppContext, accountId: string): string {
  const ns = context.config.redis.namespace;
  return `${ns ? `${ns}:` : ""}woolly:filters:version:${accountId}`;
}

function remember(accountId: string, entry: Entry): void {
  entries.delete(accountId);
  entries.set(accountId, entry);
  if (entries.size > MAX_ENTRIES) entries.delete(entries.keys().next().value!);
}

/** The account's compiled filters, current as of the last change any process made (web role). */
export async function compiledFiltersFor(context: AppContext, accountId: string): Promise<CompiledFilter[]> {
  const entry = entries.get(accountId);
  const trusting = listenerReady(context.sql);
  if (entry && trusting && entry.trustedUntil > Date.now()) return entry.compiled;
  const before = heard;
  const version = (await context.redis.get(versionKey(context, accountId))) ?? "0";
  const current = entry && entry.version === version ? entry.compiled : compileFilters(await filtersOf(context.sql, accountId));
  // Trusted only if nothing was heard meanwhile: a notification may have announced a change this read missed.
  remember(accountId, { version, compiled: current, trustedUntil: trusting && heard === before ? Date.now() + TRUST_MS : 0 });
  return current;
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

/** After a change has committed: every process's copy is stale from now on (the version first, then the news). */
export async function bumpFiltersVersion(context: AppContext, accountId: string): Promise<void> {
  heard++; // a read of this process under way may have loaded the old filters: it must not trust them
  entries.delete(accountId);
  await context.redis.incr(versionKey(context, accountId));
  await context.sql`select pg_notify(${FILTERS_CHANNEL}, ${accountId})`;
}

/** The copy held now, if any (no I/O): the streaming role's per-event read after its connect-time load. */
export function peekCompiledFilters(accountId: string): CompiledFilter[] | undefined {
  return entries.get(accountId)?.compiled;
}
