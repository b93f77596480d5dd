/**
 * E-mail confirmation for API sign-ups (a client that registered through POST /api/v1/accounts holds a
 * token for a user who cannot sign in yet): POST /api/v1/emails/confirmations mails a fresh link, GET
 * /api/v1/emails/check_confirmation says whether the address is confirmed. Both take the unconfirmed
 * user's own token, so auth is "app" (a "user" endpoint would refuse the unconfirmed user).
 */
import * as v from "valibot";
import { renewConfirmationToken } from "../../features/accounts/service";
import { confirmationLink } from "../../features/accounts/registration";
import { enqueueMail } from "../../features/mail/service";
import type { AppContext } from "../../infra/context";
import { ApiError } from "../../infra/errors";
import type { Caller } from "../caller";
import { routes } from "../endpoint";

const body = v.object({ email: v.optional(v.pipe(v.string(), v.trim(), v.maxLength(320, "is too long"))) });

function signedUpUser(caller: Caller) {
  if (!caller.account) throw ApiError.unprocessable("This method requires an authenticated user");
  return caller.account;
}

export function emailRoutes(context: AppContext) {
  return routes(context, "emails", (r) => {
    r.post(
      "/api/v1/emails/confirmations",
      { auth: "app", scopes: ["write", "write:accounts"], body, rateLimit: ["confirmation"], summary: "Resend confirmation email", tags: ["emails"] },
      async ({ input, caller }) => {
        const account = signedUpUser(caller);
        if (account.user.confirmed_at) throw ApiError.forbidden("This method is only available while the e-mail is awaiting confirmation");
        // Mastodon can also change the address here; Woolly does not (yet), and says so rather than mail the old one.
        if (input.body.email && input.body.email.toLowerCase() !== account.user.email.toLowerCase()) {
          throw ApiError.unprocessable("Changing the e-mail address is not supported on this server");
        }
        const renewed = await renewConfirmationToken(context.sql, account.user.email);
        if (renewed) {
          await enqueueMail(context, {
            template: "confirmation",
            to: renewed.account.user.email,
            locale: renewed.account.user.locale,
            username: renewed.account.username,
            link: confirmationLink(context, renewed.token),
          });
        }
        return {};
      },
    );

    r.get("/api/v1/emails/check_confirmation", { auth: "app", scopes: ["read", "read:accounts"], summary: "Check email confirmation", tags: ["emails"] }, ({ caller }) =>
      Boolean(signedUpUser(caller).user.confirmed_at),
    );
  });
}
