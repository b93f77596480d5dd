/**
 * Flag → a report about one of our accounts from another server (Mastodon's ActivityPub::Activity::Flag).
 * The object lists the reported account and, optionally, statuses: the first local account found is the
 * target; local statuses by the target are attached (the reports service drops the rest). A domain blocked
 * with reject_reports is not heard. A redelivered Flag (same id) makes no second report.
 */
import { createReportFromRemote } from "../../reports/service";
import { findDomainBlockCovering } from "../store";
import { htmlToText } from "../sanitize";
import { objectId } from "../remote-statuses";
import * as inbound from "./store";
import type { Inbound, Outcome } from "./types";

const MAX_OBJECTS = 200;

export async function handleFlag({ context, activity, actor }: Inbound): Promise<Outcome> {
  const flagId = objectId(activity.id);
  if (!flagId) return "ignored: no id";
  if ((await findDomainBlockCovering(context.sql, actor.domain ?? ""))?.reject_reports) return "ignored: reports rejected from this domain";
  const uris = (Array.isArray(activity.object) ? activity.object : [activity.object])
    .slice(0, MAX_OBJECTS)
    .map((o) => objectId(o))
    .filter((u): u is string => u !== undefined);
  const [target] = await inbound.localAccountsByUris(context.sql, uris);
  if (!target) return "ignored: no local account reported";
  const statusIds: string[] = [];
  for (const uri of uris) {
    if (uri === target.uri) continue;
    const status = await inbound.statusByUri(context.sql, uri);
    if (status?.local && !status.deleted_at) statusIds.push(status.id);
  }
  const comment = typeof activity.content === "string" ? htmlToText(activity.content.slice(0, 20_000)) : "";
  const { created } = await createReportFromRemote(context, { uri: flagId, reporterAccountId: actor.id, targetAccountId: target.id, statusIds, comment });
  return created ? "reported" : "duplicate";
}
