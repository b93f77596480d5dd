/**
 * auth.cleanup (scheduler queue, hourly): remove expired browser sessions and authorization codes nobody can
 * exchange any more. Deleting what is already dead is safe to run twice.
 */
import * as v from "valibot";
import { log } from "../../infra/log";
import { defineJob } from "../../infra/queues/registry";
import { deleteExpiredWebSessions, deleteStaleGrants } from "./store";

export const authCleanupJob = defineJob({
  name: "auth.cleanup",
  queue: "scheduler",
  schema: v.object({}),
  attempts: 3,
  backoffMs: 60_000,
  async handler(_payload, { sql }) {
    const [sessions, grants] = [await deleteExpiredWebSessions(sql), await deleteStaleGrants(sql)];
    if (sessions || grants) log.info("auth cleanup", { sessions, grants });
  },
});
