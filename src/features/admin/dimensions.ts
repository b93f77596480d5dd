/**
 * The dashboard's dimensions and retention cohorts (Mastodon's Admin::Metrics::Dimension and ::Retention),
 * computed from what Woolly stores: each dimension is one grouped query over the date range.
 *
 * Retention follows Mastodon: users are grouped by the day (or month) they signed up, and a user counts
 * as retained in a later period when their last activity — the later of their last sign-in and the last
 * use of any of their tokens, or signing up when neither happened since — falls in or after that period.
 */
import { mediaUsage } from "../media/service";
import { idAt } from "../trends/service";
import type { AppContext } from "../../infra/context";
import type { Db } from "../../infra/db";
import { buildVersion } from "../../infra/build-info";

export const DIMENSION_KEYS = [
  "languages",
  "sources",
  "servers",
  "space_usage",
  "software_versions",
  "tag_servers",
  "tag_languages",
  "instance_accounts",
  "instance_languages",
] as const;
export type DimensionKey = (typeof DIMENSION_KEYS)[number];

export interface DimensionItem {
  key: string;
  human_key: string;
  value: string;
  unit?: string;
  human_value?: string;
  /** Set for bytes (space_usage) and versions; the edge formats bytes for people. */
  bytes?: number;
}

export interface Dimension {
  key: DimensionKey;
  data: DimensionItem[];
}

export interface DimensionParams {
  start: Date;
  /** Inclusive: the whole end day counts. */
  end: Date;
  limit: number;
  tagId?: string;
  domain?: string;
}

const languageNames = new Intl.DisplayNames(["en"], { type: "language", fallback: "code" });
/** "en" → "English"; codes Intl does not know (and "und") are shown as they are. */
function humanLanguage(code: string): string {
  try {
    return languageNames.of(code) ?? code;
  } catch {
    return code;
  }
}

type Counted = { key: string | null; value: number }[];

function countsToItems(rows: Counted, human: (key: string) => string = (k) => k): DimensionItem[] {
  return rows.map((r) => {
    const key = r.key ?? "und";
    return { key, human_key: human(key), value: String(r.value) };
  });
}

async function redisInfo(context: Pick<AppContext, "redis">): Promise<Record<string, string>> {
  try {
    const text = await context.redis.info();
    return Object.fromEntries(
      text
        .split(/\r?\n/)
        .filter((line) => line.includes(":") && !line.startsWith("#"))
        .map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 1)]),
    );
  } catch {
    return {};
  }
}

async function dimension(context: Pick<AppContext, "sql" | "redis" | "config">, key: DimensionKey, p: DimensionParams): Promise<DimensionItem[]> {
  const sql = context.sql;
  const from = p.start;
  const until = new Date(p.end.getTime() + 86_400_000);
  // Ids are time-sortable: the range is a primary-key range (Mastodon's dimensions use snowflake ids the same way).
  const inRange = sql`s.id >= ${idAt(from)} and s.id < ${idAt(until)} and s.deleted_at is null`;
  switch (key) {
    case "languages":
      return countsToItems(
        await sql<Counted>`select s.language as key, count(*)::int as value from statuses s join accounts a on a.id = s.account_id
          where a.domain is null and ${inRange} group by 1 order by 2 desc, 1 limit ${p.limit}`,
        humanLanguage,
      );
    case "sources": {
      // Posts made without an OAuth application come from Woolly's own pages: Mastodon's "Website".
      const rows = await sql<Counted>`select coalesce(o.name, '') as key, count(*)::int as value from statuses s
          join accounts a on a.id = s.account_id left join oauth_applications o on o.id = s.application_id
          where a.domain is null and ${inRange} group by 1 order by 2 desc, 1 limit ${p.limit}`;
      return rows.map((r) => (r.key ? { key: r.key, human_key: r.key, value: String(r.value) } : { key: "web", human_key: "Website", value: String(r.value) }));
    }
    case "servers":
      return countsToItems(
        await sql<Counted>`select a.domain as key, count(*)::int as value from statuses s join accounts a on a.id = s.account_id
          where a.domain is not null and ${inRange} group by 1 order by 2 desc, 1 limit ${p.limit}`,
      );
    case "tag_servers":
      if (!p.tagId) return [];
      return countsToItems(
        await sql<Counted>`select coalesce(a.domain, ${context.config.localDomain}) as key, count(*)::int as value
          from statuses_tags st join statuses s on s.id = st.status_id join accounts a on a.id = s.account_id
          where st.tag_id = ${p.tagId} and ${inRange} group by 1 order by 2 desc, 1 limit ${p.limit}`,
      );
    case "tag_languages":
      if (!p.tagId) return [];
      return countsToItems(
        await sql<Counted>`select s.language as key, count(*)::int as value
          from statuses_tags st join statuses s on s.id = st.status_id
          where st.tag_id = ${p.tagId} and ${inRange} group by 1 order by 2 desc, 1 limit ${p.limit}`,
        humanLanguage,
      );
    case "instance_accounts":
      if (!p.domain) return [];
      return countsToItems(
        await sql<Counted>`select username as key, followers_count::int as value from accounts
          where lower(domain) = ${p.domain} order by followers_count desc, username limit ${p.limit}`,
      );
    case "instance_languages":
      if (!p.domain) return [];
      return countsToItems(
        await sql<Counted>`select s.language as key, count(*)::int as value from statuses s join accounts a on a.id = s.account_id
          where lower(a.domain) = ${p.domain} and ${inRange} group by 1 order by 2 desc, 1 limit ${p.limit}`,
        humanLanguage,
      );
    case "space_usage": {
      const [[db], info, media] = await Promise.all([
        sql<{ bytes: string }[]>`select pg_database_size(current_database())::text as bytes`,
        redisInfo(context),
        mediaUsage(sql),
      ]);
      const bytes = (n: number, k: string, human: string): DimensionItem => ({ key: k, human_key: human, value: String(n), unit: "bytes", bytes: n });
      return [
        bytes(Number(db?.bytes ?? 0), "postgresql", "PostgreSQL"),
        bytes(Number(info.used_memory ?? 0), "redis", "Redis"),
        bytes(
          media.reduce((sum, m) => sum + m.bytes, 0),
          "media",
          "Media storage",
        ),
      ];
    }
    case "software_versions": {
      const [[pg], info] = await Promise.all([sql<{ v: string }[]>`select current_setting('server_version') as v`, redisInfo(context)]);
      const version = (k: string, human: string, v: string): DimensionItem => ({ key: k, human_key: human, value: v, human_value: v });
      return [
        version("woolly", "Woolly", buildVersion()),
        version("bun", "Bun", Bun.version),
        version("postgresql", "PostgreSQL", pg?.v ?? ""),
        version("redis", "Redis", info.redis_version ?? ""),
      ];
    }
  }
}

/** Each requested key once, in the order asked; keys Mastodon does not define are left out (as Mastodon does). */
export async function dimensions(context: Pick<AppContext, "sql" | "redis" | "config">, keys: DimensionKey[], params: DimensionParams): Promise<Dimension[]> {
  return Promise.all(keys.map(async (key) => ({ key, data: await dimension(context, key, params) })));
}

// ---- retention ----

export type CohortFrequency = "day" | "month";

export interface Cohort {
  period: Date;
  frequency: CohortFrequency;
  data: { date: Date; rate: number; value: number }[];
}

/**
 * Sign-up cohorts between start and end (truncated to the frequency) and, for each, the share of its users
 * still active in each later period up to end. One grouped query: users by (cohort, last active period).
 */
export async function retention(db: Db, start: Date, end: Date, frequency: CohortFrequency): Promise<Cohort[]> {
  const unit = frequency === "month" ? "month" : "day";
  const rows = await db<{ cohort: Date; active: Date | null; n: number }[]>`
    select date_trunc(${unit}, u.created_at at time zone 'UTC') as cohort,
           date_trunc(${unit}, coalesce(greatest(u.last_sign_in_at, t.last_used_at), u.created_at) at time zone 'UTC') as active,
           count(*)::int as n
    from users u
    -- One grouped pass over the tokens (a per-user subquery would scan them once per user).
    left join (select user_id, max(last_used_at) as last_used_at from oauth_access_tokens where user_id is not null group by user_id) t on t.user_id = u.id
    where u.created_at >= date_trunc(${unit}, ${start}::timestamptz at time zone 'UTC') at time zone 'UTC'
      and u.created_at < (date_trunc(${unit}, ${end}::timestamptz at time zone 'UTC') + ${"1 " + unit}::interval) at time zone 'UTC'
    group by 1, 2`;
  const periods = periodsBetween(start, end, frequency);
  const utcKey = (d: Date) => Date.UTC(d.getFullYear(), d.getMonth(), d.getDate());
  return periods.map((period, index) => {
    const mine = rows.filter((r) => utcKey(r.cohort) === period.getTime());
    const total = mine.reduce((sum, r) => sum + r.n, 0);
    const data = periods.slice(index).map((date) => {
      const value = mine.filter((r) => r.active !== null && utcKey(r.active) >= date.getTime()).reduce((sum, r) => sum + r.n, 0);
      return { date, value, rate: total === 0 ? 0 : value / total };
    });
    return { period, frequency, data };
  });
}

/** Midnight UTC of each day (or first of each month) from start's period to end's, at most 400 of them. */
function periodsBetween(start: Date, end: Date, frequency: CohortFrequency): Date[] {
  const out: Date[] = [];
  let t = frequency === "month" ? Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), 1) : Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate());
  while (t <= end.getTime() && out.length < 400) {
    out.push(new Date(t));
    const d = new Date(t);
    t = frequency === "month" ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) : t + 86_400_000;
  }
  return out;
}
