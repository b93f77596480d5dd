/**
 * The `Idempotency-Key` header on POST /api/v1/statuses: the same key from the same account within an hour
 * answers with the first post instead of posting again (a client retrying after a lost response). The
 * result id lives in Redis for an hour; a short lock makes two concurrent requests with one key post once —
 * the second waits for the first's result.
 */
import type { AppContext } from "../../infra/context";
import { ApiError } from "../../infra/errors";

const RESULT_TTL_SECONDS = 3600;
const LOCK_TTL_MS = 15_000;
const WAIT_STEP_MS = 50;

function keys(context: AppContext, accountId: string, key: string) {
  const prefix = context.config.redis.namespace ? `${context.config.redis.namespace}:` : "";
  // Hash the client's key: it is arbitrary text of arbitrary length.
  const digest = new Bun.CryptoHasher("sha256").update(key).digest("hex");
  const result = `${prefix}idempotency:status:${accountId}:${digest}`;
  return { result, lock: `${result}:lock` };
}

/** Run `post` once per (account, key) per hour; later calls with the key get the first call's result. */
export async function once(context: AppContext, accountId: string, key: string, post: () => Promise<{ statusId: string }>): Promise<{ statusId: string }> {
  const { result, lock } = keys(context, accountId, key);
  const deadline = Date.now() + LOCK_TTL_MS;
  for (;;) {
    const done = await context.redis.get(result);
    if (done) return { statusId: done };
    const token = crypto.randomUUID();
    if (await context.redis.set(lock, token, "PX", LOCK_TTL_MS, "NX")) {
      try {
        // Checked again under the lock: the holder before us may have finished between our two reads.
        const finished = await context.redis.get(result);
        if (finished) return { statusId: finished };
        const posted = await post();
        await context.redis.set(result, posted.statusId, "EX", RESULT_TTL_SECONDS);
        return posted;
      } finally {
        // Release only our own lock (it may have expired and been taken by someone else).
        await context.redis.eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0", 1, lock, token);
      }
    }
    if (Date.now() > deadline) throw ApiError.unprocessable("A request with this Idempotency-Key is still being processed");
    await Bun.sleep(WAIT_STEP_MS);
  }
}
