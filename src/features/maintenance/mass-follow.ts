/**
 * `woolly admin accounts follow|unfollow NAME` (tootctl accounts follow / unfollow): every local account
 * follows (or stops following) the local account NAME, e.g. an instance announcements account. Each change
 * goes through the graph service, one short transaction each, so counters, home feeds and events follow as if
 * each person had clicked; suspended and disabled accounts are skipped, as tootctl skips them.
 */
import { findLocalAccount } from "../accounts/service";
import { follow, unfollow } from "../graph/service";
import type { AppContext } from "../../infra/context";
import { ApiError } from "../../infra/errors";

const BATCH = 500;

export interface MassFollowReport {
  changed: number;
  /** Accounts the change was refused for (a block between them), by username. */
  refused: string[];
}

export async function massFollow(context: AppContext, username: string, direction: "follow" | "unfollow"): Promise<MassFollowReport> {
  const target = await findLocalAccount(context.sql, username);
  const report: MassFollowReport = { changed: 0, refused: [] };
  for (let after = "0"; ; ) {
    const rows = await context.sql<{ id: string; username: string; following: boolean }[]>`
      select a.id::text, a.username,
        exists (select 1 from follows f where f.account_id = a.id and f.target_account_id = ${target.id}) as following
      from accounts a join users u on u.account_id = a.id
      where a.domain is null and a.id > ${after}::bigint and a.id <> ${target.id}
        and a.suspended_at is null and not u.disabled
      order by a.id limit ${BATCH}`;
    if (rows.length === 0) return report;
    for (const row of rows) {
      if ((direction === "follow") === row.following) continue;
      try {
        if (direction === "follow") await follow(context, row, target, {});
        else await unfollow(context, row, target.id);
        report.changed++;
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        report.refused.push(row.username);
      }
    }
    after = rows[rows.length - 1]!.id;
    if (rows.length < BATCH) return report;
  }
}
