/**
 * Relay admission: each accepted relay may push at most `max_per_minute` activities (relays.max_per_minute,
 * default 6,000 ≈ 100/s, 200× what a small instance gets from its relays, twice the firehose) into our ingress queue per
 * clock minute; the excess is acknowledged (202) and dropped, and counted in woolly_relay_activities_total
 * {outcome="throttled"}. A firehose then costs one Redis round trip per activity, never a job, a fetch or a
 * row. Dropping is what Mastodon's relays expect of a busy server anyway: relay traffic is best-effort.
 *
 * A fixed window per minute in Redis (shared by all web processes): simple, and at worst lets 2× the limit
 * through across a window boundary, which the limit's headroom covers. Not src/api/rate-limit.ts: that one
 * is the HTTP API's per-family limits, switched off with RATE_LIMITS_ENABLED, which must not lift this.
 */
import type { AppContext } from "../../infra/context";
import { recordRelayActivity } from "../../infra/metrics";
import type { AcceptedRelay } from "./service";

function windowKey(context: Pick<AppContext, "config">, relayId: string, minute: number): string {
  const prefix = context.config.redis.namespace ? `${context.config.redis.namespace}:` : "";
  return `${prefix}woolly:relay-in:${relayId}:${minute}`;
}

/** Count one activity from `relay`; false when it is over this minute's allowance (drop it). */
export async function admitRelayed(context: Pick<AppContext, "config" | "redis">, relay: AcceptedRelay, signer: string): Promise<boolean> {
  const key = windowKey(context, relay.id, Math.floor(Date.now() / 60_000));
  const [[, count]] = (await context.redis.multi().incr(key).expire(key, 120).exec()) as [[unknown, number], unknown];
  const admitted = count <= relay.maxPerMinute;
  recordRelayActivity(signer, admitted ? "admitted" : "throttled");
  return admitted;
}

/** This minute so far for the admin page: activities received and how many of them were dropped. */
export async function relayMinute(context: Pick<AppContext, "config" | "redis">, relayId: string, maxPerMinute: number): Promise<{ received: number; dropped: number }> {
  const received = Number((await context.redis.get(windowKey(context, relayId, Math.floor(Date.now() / 60_000)))) ?? 0);
  return { received, dropped: Math.max(0, received - maxPerMinute) };
}
