/**
 * The one read a group of status subscribers shares (publish.ts): the status row's few facts, and whether
 * anyone local could be notified — the same conditions as notifications/store.ts mentionedLocalAccounts and
 * notifyingFollowers, as yes/no. Lets a remote post nobody here is mentioned in skip those subscribers with
 * one statement instead of each one's own (and a transaction).
 */
import type { Db } from "../../infra/db";
import type { Visibility } from "../statuses/visibility";

export interface StatusFacts {
  visibility: Visibility;
  reblog_of_id: string | null;
  content: string;
  /** A local account is mentioned (not silently). */
  local_mentions: boolean;
  /** A local follower of the author rang the bell (follow with notify). */
  bell_followers: boolean;
}

/** Undefined when the status is gone. */
export async function statusFacts(db: Db, statusId: string): Promise<StatusFacts | undefined> {
  const [row] = await db<StatusFacts[]>`
    select s.visibility, s.reblog_of_id, s.content,
      exists (select 1 from mentions m join users u on u.account_id = m.account_id where m.status_id = s.id and not m.silent) as local_mentions,
      exists (select 1 from follows f join users u on u.account_id = f.account_id where f.target_account_id = s.account_id and f.notify) as bell_followers
    from statuses s where s.id = ${statusId} and s.deleted_at is null`;
  return row;
}
