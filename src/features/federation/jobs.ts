/**
 * activitypub.process, on `ingress`: one inbound activity, already signature-checked at the inbox.
 * 8 tries from 30 s doubling (Mastodon's ProcessingWorker retries 8 times); a permanently bad activity ends
 * in the failed set with its reason. The job id is derived from the activity id (see the inbox edge), so a
 * replay that arrives while the first is queued or recently done is not queued again.
 */
import { UnrecoverableError } from "bullmq";
import * as v from "valibot";
import { defineJob } from "../../infra/queues/registry";
import { FetchFailed } from "./fetch";
import { processActivity } from "./inbox";

export const processActivityJob = defineJob({
  name: "activitypub.process",
  queue: "ingress",
  schema: v.object({
    key: v.pipe(v.string(), v.regex(/^[0-9a-f]{40}$/)),
    activity: v.looseObject({ actor: v.union([v.string(), v.looseObject({ id: v.string() })]) }),
    /** The inbox it arrived at (shared or personal), for handlers that care. */
    inbox: v.pipe(v.string(), v.maxLength(2048)),
  }),
  attempts: 8,
  backoffMs: 30_000,
  async handler(payload, context) {
    try {
      await processActivity(context, payload.activity, payload.key);
    } catch (error) {
      // The other side said something that will not change on a retry (not an actor, 404, 410…): straight
      // to the failed set with the reason, instead of eight pointless tries.
      if (error instanceof FetchFailed && !error.transient) throw new UnrecoverableError(error.message);
      throw error;
    }
  },
});
