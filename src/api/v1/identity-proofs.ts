/**
 * Deprecated account routes Mastodon still answers so old clients do not break: GET
 * /api/v1/accounts/:id/identity_proofs (Keybase proofs, always an empty list since Mastodon 3.5).
 */
import type { AppContext } from "../../infra/context";
import { routes } from "../endpoint";
import { idParams, targetAccount } from "./graph";

export function identityProofRoutes(context: AppContext) {
  return routes(context, "identity-proofs", (r) => {
    r.get(
      "/api/v1/accounts/:id/identity_proofs",
      { auth: "optional", scopes: ["read", "read:accounts"], params: idParams, summary: "Identity proofs (deprecated)", tags: ["accounts"] },
      async ({ input }) => {
        await targetAccount(context, input.params.id);
        return [];
      },
    );
  });
}
