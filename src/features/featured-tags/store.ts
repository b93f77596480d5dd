/** SQL for featured tags: the hashtags an account shows on its profile, with its own use of each. */
import type { Db } from "../../infra/db";

export interface FeaturedTagRow {
  id: string;
  account_id: string;
  tag_id: string;
  name: string;
  display_name: string;
  statuses_count: number;
  last_status_at: Date | null;
}

/** With the account's public and unlisted posts using the tag, counted now (a profile's handful of tags). */
export async function featuredOf(db: Db, accountId: string, id?: string): Promise<FeaturedTagRow[]> {
  return db<FeaturedTagRow[]>`
    select f.id, f.account_id, f.tag_id, t.name, t.display_name, u.n::int as statuses_count, u.last as last_status_at
    from featured_tags f join tags t on t.id = f.tag_id
    cross join lateral (
      select count(*) as n, max(s.created_at) as last from statuses_tags st join statuses s on s.id = st.status_id
      where st.tag_id = f.tag_id and s.account_id = f.account_id and s.deleted_at is null
        and s.visibility in ('public', 'unlisted') and s.reblog_of_id is null
    ) u
    where f.account_id = ${accountId} ${id ? db`and f.id = ${id}` : db``}
    order by u.last desc nulls last, f.id`;
}

export async function countFeatured(db: Db, accountId: string): Promise<number> {
  const [row] = await db<{ n: number }[]>`select count(*)::int as n from featured_tags where account_id = ${accountId}`;
  return row!.n;
}

export async function insertFeatured(db: Db, accountId: string, tagId: string): Promise<string | undefined> {
  const [row] = await db<{ id: string }[]>`
    insert into featured_tags (account_id, tag_id) values (${accountId}, ${tagId}) on conflict (account_id, tag_id) do nothing returning id`;
  return row?.id;
}

export async function deleteFeatured(db: Db, accountId: string, id: string): Promise<boolean> {
  const rows = await db`delete from featured_tags where account_id = ${accountId} and id = ${id} returning id`;
  return rows.length > 0;
}

/** The tags the account used most in its recent posts, not featured yet (Mastodon's suggestions). */
export async function suggestions(db: Db, accountId: string, limit: number): Promise<{ id: string; name: string; display_name: string }[]> {
  return db`
    select t.id, t.name, t.display_name from (
      select st.tag_id, count(*) as n from statuses s join statuses_tags st on st.status_id = s.id
      where s.account_id = ${accountId} and s.deleted_at is null
      group by st.tag_id order by n desc limit ${limit * 2}
    ) used join tags t on t.id = used.tag_id
    where not exists (select 1 from featured_tags f where f.account_id = ${accountId} and f.tag_id = t.id)
    order by used.n desc, t.name limit ${limit}`;
}
