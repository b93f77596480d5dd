/**
 * /api/v1/push/subscription: the Web Push subscription of the calling access token (one per token, as
 * Mastodon). POST replaces it, GET shows it, PUT changes alerts and policy, DELETE ends it. Scope `push`.
 */
import * as v from "valibot";
import { ALERT_TYPES, changeSubscription, currentSubscription, POLICIES, subscribe, unsubscribe, vapidPublicKey, type AlertType } from "../../features/push/service";
import type { AppContext } from "../../infra/context";
import { ApiError } from "../../infra/errors";
import { bearerToken } from "../caller";
import { routes } from "../endpoint";
import { renderWebPushSubscription } from "../entities/web-push-subscription";
import { flag } from "./statuses-input";

const opt = <S extends v.GenericSchema>(schema: S) => v.pipe(v.nullish(schema), v.transform((value) => value ?? undefined));
const base64url = (max: number) => v.pipe(v.string("must be a string"), v.trim(), v.maxLength(max, "is too long"), v.regex(/^[A-Za-z0-9_-]+=*$/, "must be base64url"));

const alerts = v.object(Object.fromEntries(ALERT_TYPES.map((type) => [type, opt(flag)])) as Record<AlertType, ReturnType<typeof opt<typeof flag>>>);
const data = opt(v.object({ alerts: opt(alerts), policy: opt(v.picklist(POLICIES, `must be one of ${POLICIES.join(", ")}`)) }));

const createBody = v.object({
  subscription: v.object({
    endpoint: v.pipe(
      v.string("must be a string"),
      v.trim(),
      v.maxLength(2048, "is too long"),
      v.check((s) => URL.canParse(s) && ["https:", "http:"].includes(new URL(s).protocol), "must be an https URL"),
    ),
    keys: v.object({ p256dh: base64url(200), auth: base64url(100) }),
    standard: opt(flag),
  }),
  data,
  // masto.js sends the policy beside `data` rather than in it: accepted there too.
  policy: opt(v.picklist(POLICIES, `must be one of ${POLICIES.join(", ")}`)),
});

const updateBody = v.object({ data, policy: createBody.entries.policy });

export function pushRoutes(context: AppContext) {
  const spec = { auth: "user" as const, scopes: ["push"], tags: ["push"] };
  const entity = (row: Parameters<typeof renderWebPushSubscription>[0]) => renderWebPushSubscription(row, vapidPublicKey(context.config));
  return routes(context, "push", (r) => {
    r.post("/api/v1/push/subscription", { ...spec, body: createBody, summary: "Subscribe to push notifications" }, async ({ input, caller, request }) => {
      const token = bearerToken(request, new URL(request.url));
      if (!token) throw ApiError.unauthorized();
      const { subscription, data } = input.body;
      const row = await subscribe(context, caller.token.id, caller.account!.id, token, {
        endpoint: subscription.endpoint,
        p256dh: subscription.keys.p256dh,
        auth: subscription.keys.auth,
        standard: subscription.standard ?? false,
        alerts: data?.alerts ?? {},
        policy: data?.policy ?? input.body.policy,
      });
      return entity(row);
    });
    r.get("/api/v1/push/subscription", { ...spec, summary: "Get current subscription" }, async ({ caller }) => entity(await currentSubscription(context, caller.token.id)));
    r.put("/api/v1/push/subscription", { ...spec, body: updateBody, summary: "Change types of notifications" }, async ({ input, caller }) =>
      entity(await changeSubscription(context, caller.token.id, input.body.data?.alerts ?? {}, input.body.data?.policy ?? input.body.policy)),
    );
    r.delete("/api/v1/push/subscription", { ...spec, summary: "Remove current subscription" }, async ({ caller }) => {
      await unsubscribe(context, caller.token.id);
      return {};
    });
  });
}
