/**
 * Rate limits as Mastodon's rack-attack rules set them, counted in Redis with fixed windows so every web
 * process shares the counts. Every API request counts against `api` (per token, or per IP without one) and,
 * for user tokens, `api_user`; endpoints add their own families (sign-ups, app registrations, media…).
 * Responses carry X-RateLimit-Limit/Remaining/Reset for the most constrained limit; beyond it, 429.
 * If Redis is down the limits fail open: better to serve than to refuse everyone.
 */
import type { AppContext } from "../infra/context";
import { ApiError } from "../infra/errors";
import { log } from "../infra/log";
import type { RequestMeta } from "./app";
import type { Caller } from "./caller";

export type RateLimitFamily =
  | "api"
  | "api_user"
  | "sign_up"
  | "app_registration"
  | "media"
  | "follow"
  | "login_ip"
  | "login_email"
  | "password_reset"
  | "confirmation";

export interface Limit {
  limit: number;
  periodSeconds: number;
}

/** Mastodon's defaults; RATE_LIMITS overrides any of them, e.g. `sign_up=10/1800,api=600/300`. */
export const DEFAULT_LIMITS: Record<RateLimitFamily, Limit> = {
  api: { limit: 300, periodSeconds: 300 },
  api_user: { limit: 1500, periodSeconds: 300 },
  sign_up: { limit: 5, periodSeconds: 1800 },
  app_registration: { limit: 5, periodSeconds: 600 },
  media: { limit: 30, periodSeconds: 1800 },
  // Mastodon's RateLimiter `follows` family: 400 a day per account (counted here per follow request).
  follow: { limit: 400, periodSeconds: 86_400 },
  login_ip: { limit: 25, periodSeconds: 300 },
  login_email: { limit: 25, periodSeconds: 3600 },
  password_reset: { limit: 5, periodSeconds: 1800 },
  confirmation: { limit: 5, periodSeconds: 1800 },
};

export function limitsFromConfig(context: AppContext): Record<RateLimitFamily, Limit> {
  return { ...DEFAULT_LIMITS, ...context.config.rateLimits.overrides } as Record<RateLimitFamily, Limit>;
}

export interface HitResult {
  family: RateLimitFamily;
  limit: number;
  remaining: number;
  resetAt: Date;
  exceeded: boolean;
}

/** Count one request for `family` and `who`; does not throw on excess (see enforce). */
export async function hit(context: AppContext, family: RateLimitFamily, who: string): Promise<HitResult | undefined> {
  if (!context.config.rateLimits.enabled) return undefined;
  const { limit, periodSeconds } = limitsFromConfig(context)[family];
  const window = Math.floor(Date.now() / 1000 / periodSeconds);
  const prefix = context.config.redis.namespace ? `${context.config.redis.namespace}:` : "";
  const key = `${prefix}woolly:rl:${family}:${who}:${window}`;
  try {
    const [[, count]] = (await context.redis.multi().incr(key).expire(key, periodSeconds + 1).exec()) as [[unknown, number]];
    return { family, limit, remaining: Math.max(0, limit - count), resetAt: new Date((window + 1) * periodSeconds * 1000), exceeded: count > limit };
  } catch (error) {
    log.warn("rate limit check skipped", { family, error: (error as Error).message });
    return undefined;
  }
}

function setHeaders(set: { headers: Record<string, string | number> }, result: HitResult): void {
  set.headers["x-ratelimit-limit"] = String(result.limit);
  set.headers["x-ratelimit-remaining"] = String(result.remaining);
  set.headers["x-ratelimit-reset"] = result.resetAt.toISOString();
}

/** Throw 429 (with the headers) when any result is over its limit; otherwise set headers for the tightest. */
export function applyResults(set: { headers: Record<string, string | number> }, results: (HitResult | undefined)[]): void {
  const counted = results.filter((r): r is HitResult => r !== undefined);
  if (counted.length === 0) return;
  const exceeded = counted.find((r) => r.exceeded);
  const tightest = exceeded ?? counted.reduce((a, b) => (b.remaining / b.limit < a.remaining / a.limit ? b : a));
  setHeaders(set, tightest);
  if (exceeded) throw new ApiError(429, "Too many requests");
}

/** Families counted per signed-in user (the others per IP). */
const PER_USER = new Set<RateLimitFamily>(["media", "follow"]);

export async function enforceRateLimits(
  context: AppContext,
  request: { caller: Caller | undefined; meta: RequestMeta; families: RateLimitFamily[]; path: string },
  set: { headers: Record<string, string | number> },
): Promise<void> {
  const { caller, meta } = request;
  const byIp = `ip:${meta.clientIp}`;
  const hits: Promise<HitResult | undefined>[] = [hit(context, "api", caller ? `token:${caller.token.id}` : byIp)];
  if (caller?.account) hits.push(hit(context, "api_user", `user:${caller.account.user.id}`));
  for (const family of request.families) {
    const who = PER_USER.has(family) && caller?.account ? `user:${caller.account.user.id}` : byIp;
    hits.push(hit(context, family, who));
  }
  applyResults(set, await Promise.all(hits));
}
