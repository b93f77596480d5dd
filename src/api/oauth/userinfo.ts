/**
 * GET/POST /oauth/userinfo (Mastodon 4.4+): OpenID-Connect-style claims about the token's account. Needs the
 * `profile` scope. No email: Mastodon returns it only for its `email` scope, which Woolly does not offer.
 */
import type { AppContext } from "../../infra/context";
import { routes } from "../endpoint";
import { renderAccount } from "../entities/account";

export function userinfoRoutes(context: AppContext) {
  return routes(context, "oauth-userinfo", (r) => {
    const spec = { auth: "user" as const, scopes: ["profile"], summary: "Claims about the signed-in account", tags: ["oauth"] };
    const claims = ({ caller }: { caller: { account?: Parameters<typeof renderAccount>[1] } }) => {
      const account = caller.account!;
      const entity = renderAccount(context.config, account);
      return {
        iss: `${context.config.baseUrl}/`,
        sub: account.uri,
        name: account.display_name,
        preferred_username: account.username,
        profile: account.url ?? account.uri,
        picture: entity.avatar,
      };
    };
    r.get("/oauth/userinfo", spec, claims);
    r.post("/oauth/userinfo", spec, claims);
  });
}
