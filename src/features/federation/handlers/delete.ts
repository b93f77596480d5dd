/**
 * Delete(Note | Tombstone | a URI) → the actor's status (or boost) is removed, with the same events as a
 * local deletion so home feeds, notifications and streams drop it (Mastodon's RemoveStatusService).
 * Deleting an actor is handled in inbox.ts. A Delete for something we do not have is remembered for a day,
 * so a Create that arrives after it does not bring the status back.
 */
import { publishEvent } from "../../events/publish";
import type { DomainEvent } from "../../events/types";
import * as statuses from "../../statuses/store";
import type { AppContext } from "../../../infra/context";
import { objectId, rememberDeleted, sameHost } from "../remote-statuses";
import * as inbound from "./store";
import type { Inbound, Outcome } from "./types";

/** Soft-delete a status and the boosts of it, with counters; publishes status.deleted for each. */
export async function removeStatus(context: AppContext, statusId: string): Promise<boolean> {
  const events: DomainEvent[] = [];
  await context.sql.begin(async (tx) => {
    const row = await statuses.findLiveForUpdate(tx, statusId);
    if (!row) return;
    await statuses.markDeleted(tx, row.id);
    if (row.visibility !== "direct") await statuses.bumpAccountStatuses(tx, row.account_id, -1);
    if (row.in_reply_to_id && (row.visibility === "public" || row.visibility === "unlisted")) await statuses.bumpRepliesCount(tx, row.in_reply_to_id, -1);
    if (row.reblog_of_id) await statuses.bumpReblogsCount(tx, row.reblog_of_id, -1);
    events.push({ type: "status.deleted", statusId: row.id, accountId: row.account_id, visibility: row.visibility, reblogOfId: row.reblog_of_id });
    for (const boost of await statuses.markReblogsDeleted(tx, row.id)) {
      await statuses.bumpAccountStatuses(tx, boost.account_id, -1);
      events.push({ type: "status.deleted", statusId: boost.id, accountId: boost.account_id, visibility: row.visibility, reblogOfId: row.id });
    }
  });
  for (const event of events) await publishEvent(context, event);
  return events.length > 0;
}

export async function handleDeleteObject({ context, activity, actor }: Inbound): Promise<Outcome> {
  const uri = objectId(activity.object);
  if (!uri) return "ignored: no object id";
  if (!sameHost(uri, actor.uri)) return "ignored: object not on the actor's host";
  const status = await inbound.statusByUri(context.sql, uri);
  if (!status) {
    await rememberDeleted(context, uri);
    return "ignored: unknown object";
  }
  if (status.account_id !== actor.id || status.local) return "ignored: object not the actor's";
  if (status.deleted_at) return "duplicate";
  return (await removeStatus(context, status.id)) ? "deleted" : "duplicate";
}
