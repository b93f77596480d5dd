/**
 * Teardown shared by the test files that subscribe to a Fedify relay: relays, the relay cache, this file's
 * workers, queued jobs that name the peer (so no later file's worker retries them against a closed port),
 * the peer's accounts, our server, the peer, the context — each step tolerant of a beforeAll that failed.
 */
import { forgetRelayCache } from "../../src/features/relays/service";
import type { RunningWorkers } from "../../src/infra/queues/worker";
import type { TestContext } from "./context";
import type { FedifyPeer } from "./fedify-peer";

export async function tearDownRelayTest(parts: {
  context?: TestContext;
  workers?: RunningWorkers;
  peer?: FedifyPeer;
  server?: ReturnType<typeof Bun.serve>;
}): Promise<void> {
  const { context, workers, peer, server } = parts;
  if (context) await context.sql`delete from relays`;
  forgetRelayCache();
  await workers?.close(5000);
  for (const name of ["push", "pull", "ingress"] as const) {
    for (const job of (await context?.queues.queue(name).getJobs(["delayed", "waiting", "failed", "prioritized"])) ?? []) {
      if (peer && JSON.stringify(job?.data ?? {}).includes(peer.base)) await job.remove().catch(() => {});
    }
  }
  if (peer && context) await context.sql`delete from accounts where domain = ${peer.host}`;
  server?.stop(true);
  peer?.close();
  await context?.close();
}
