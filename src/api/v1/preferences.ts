/** GET /api/v1/preferences: the signed-in user's posting defaults and reading choices (features/preferences). */
import { preferencesOf } from "../../features/preferences/service";
import type { AppContext } from "../../infra/context";
import { routes } from "../endpoint";

export function preferenceRoutes(context: AppContext) {
  return routes(context, "preferences", (r) => {
    r.get("/api/v1/preferences", { auth: "user", scopes: ["read", "read:accounts"], summary: "View user preferences", tags: ["preferences"] }, ({ caller }) =>
      preferencesOf(caller.account!.user),
    );
  });
}
