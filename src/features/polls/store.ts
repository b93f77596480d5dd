/**
 * SQL for voting on polls and closing them. The polls and poll_votes tables come with statuses (a poll is
 * created with its post); this feature owns what happens to them afterwards.
 */
import type { Db } from "../../infra/db";
import type { PollRow } from "../statuses/store";

export type { PollRow };

export async function findPoll(db: Db, id: string): Promise<PollRow | undefined> {
  const [row] = await db<PollRow[]>`select * from polls where id = ${id}`;
  return row;
}

/** The poll, locked for the vote's transaction (concurrent votes serialise on it). */
export async function lockPoll(db: Db, id: string): Promise<PollRow | undefined> {
  const [row] = await db<PollRow[]>`select * from polls where id = ${id} for update`;
  return row;
}

export async function votesOf(db: Db, pollId: string, accountId: string): Promise<number[]> {
  const rows = await db<{ choice: number }[]>`select choice from poll_votes where poll_id = ${pollId} and account_id = ${accountId} order by choice`;
  return rows.map((r) => r.choice);
}

export async function insertVotes(db: Db, pollId: string, accountId: string, choices: number[]): Promise<void> {
  await db`insert into poll_votes (poll_id, account_id, choice) select ${pollId}, ${accountId}, unnest(${choices}::int[])`;
}

/** Tallies move with the votes in the same transaction: votes_count per choice, voters_count per voter. */
export async function addToTallies(db: Db, pollId: string, choices: number[]): Promise<void> {
  await db`
    update polls set
      cached_tallies = (select array_agg(t.n + (case when (t.i - 1) = any(${choices}::int[]) then 1 else 0 end) order by t.i)
                        from unnest(cached_tallies) with ordinality as t(n, i)),
      votes_count = votes_count + ${choices.length},
      voters_count = voters_count + 1,
      updated_at = now()
    where id = ${pollId}`;
}

/** Up to `limit` polls that have ended and were not closed yet, oldest first. */
/** One more vote by a voter already counted (multiple-choice polls voted option by option). */
export async function addChoiceToTallies(db: Db, pollId: string, choice: number): Promise<void> {
  await db`
    update polls set
      cached_tallies = (select array_agg(t.n + (case when (t.i - 1) = ${choice} then 1 else 0 end) order by t.i)
                        from unnest(cached_tallies) with ordinality as t(n, i)),
      votes_count = votes_count + 1,
      updated_at = now()
    where id = ${pollId}`;
}

export async function dueForClosing(db: Db, limit: number): Promise<{ id: string; account_id: string; status_id: string | null; local: boolean }[]> {
  return db`
    select p.id, p.account_id, p.status_id, (a.domain is null) as local
    from polls p join accounts a on a.id = p.account_id
    where p.expiry_processed_at is null and p.expires_at is not null and p.expires_at <= now()
    order by p.expires_at limit ${limit}`;
}

export async function markClosed(db: Db, pollId: string): Promise<void> {
  await db`update polls set expiry_processed_at = now() where id = ${pollId} and expiry_processed_at is null`;
}

export async function localVoters(db: Db, pollId: string): Promise<string[]> {
  const rows = await db<{ account_id: string }[]>`
    select distinct v.account_id from poll_votes v join accounts a on a.id = v.account_id
    where v.poll_id = ${pollId} and a.domain is null`;
  return rows.map((r) => r.account_id);
}
