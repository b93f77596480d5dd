/**
 * /api/v1/accounts: sign-up through the API, the signed-in account (verify_credentials, update_credentials),
 * and reading accounts by id, by handle (lookup; remote handles are resolved by WebFinger) and several at once.
 */
import * as v from "valibot";
import { pendingFollowRequestCount } from "../../features/graph/service";
import type { LocalAccountRow } from "../../features/accounts/store";
import {
  findVisibleAccount,
  findVisibleAccounts,
  findVisibleLocalAccount,
  checkProfileChanges,
  findLocalAccountByUserId,
  setProfileImage,
  updateCredentials,
  VISIBILITIES,
} from "../../features/accounts/service";
import { register } from "../../features/accounts/registration";
import { issueToken } from "../../features/auth/tokens";
import { FetchFailed } from "../../features/federation/fetch";
import { publishEvent } from "../../features/events/publish";
import { resolveRemoteAccount } from "../../features/federation/remote-accounts";
import type { AppContext } from "../../infra/context";
import { ApiError } from "../../infra/errors";
import { routes } from "../endpoint";
import { fieldsAttributes, flag, profileText, TRUE_VALUES } from "../form-inputs";
import { renderAccountsWithMoved, renderAccountWithMoved, renderCredentialAccount } from "../entities/account";

/** Mastodon's GET /api/v1/accounts?id[]= limit (DEFAULT_ACCOUNTS_LIMIT). */
const MAX_ACCOUNTS_PER_REQUEST = 40;

// ---- input schemas ----

/** ISO 639-1 (two letters); blank or null clears the default. */
const language = v.pipe(
  v.nullable(v.string()),
  v.transform((s) => (s === null || s.trim() === "" ? null : s.trim().toLowerCase())),
  v.nullable(v.pipe(v.string(), v.regex(/^[a-z]{2}$/, "must be an ISO 639-1 language code"))),
);

const registrationBody = v.object({
  // Missing values become "" so the feature answers with Mastodon's ERR_BLANK details rather than a 400.
  username: v.optional(v.string(), ""),
  email: v.optional(v.string(), ""),
  password: v.optional(v.string(), ""),
  agreement: v.optional(v.pipe(v.unknown(), v.transform((value) => value === true || value === 1 || (typeof value === "string" && TRUE_VALUES.includes(value.trim().toLowerCase()))))),
  locale: v.optional(v.pipe(v.string(), v.regex(/^[a-z]{2,3}([-_][A-Za-z0-9]{2,8})?$/, "is not a supported locale"))),
  reason: v.optional(v.pipe(v.string(), v.maxLength(420, "is too long (maximum is 420 characters)"))),
});

const updateCredentialsBody = v.object({
  display_name: v.optional(profileText(1000)),
  note: v.optional(profileText(20_000)),
  locked: v.optional(flag),
  bot: v.optional(flag),
  discoverable: v.optional(flag),
  indexable: v.optional(flag),
  hide_collections: v.optional(flag),
  fields_attributes: v.optional(fieldsAttributes),
  source: v.optional(
    v.object({
      privacy: v.optional(v.picklist(VISIBILITIES, "must be public, unlisted, private or direct")),
      sensitive: v.optional(flag),
      language: v.optional(language),
    }),
  ),
  // Multipart files; an empty string (some clients send one for "unchanged") is ignored.
  avatar: v.optional(v.union([v.instance(Blob), v.literal("")])),
  header: v.optional(v.union([v.instance(Blob), v.literal("")])),
});

const idParams = v.object({ id: v.string() });
const idsQuery = v.object({
  id: v.optional(v.pipe(v.union([v.string(), v.array(v.string())], "must be a list of ids"), v.transform((ids) => (Array.isArray(ids) ? ids : [ids])))),
});
const lookupQuery = v.object({ acct: v.pipe(v.string(), v.maxLength(600, "is too long")) });

const READ_ACCOUNTS = ["read", "read:accounts"] as const;

// ---- routes ----
// endpoint.ts cannot infer a handler's input type from `spec.body` (S is only reachable as S["body"]), so
// handlers name their schema's output type themselves.

export function accountRoutes(context: AppContext) {
  const credentialAccount = async (account: LocalAccountRow) =>
    renderCredentialAccount(context.config, account, await pendingFollowRequestCount(context.sql, account.id));

  return routes(context, "accounts", (r) => {
    r.post(
      "/api/v1/accounts",
      { auth: "app", scopes: ["write", "write:accounts"], body: registrationBody, rateLimit: ["sign_up"], summary: "Register an account", tags: ["accounts"] },
      async ({ input, caller, meta }) => {
        const body = input.body;
        const created = await register(context, {
          username: body.username,
          email: body.email,
          password: body.password,
          agreement: body.agreement === true,
          locale: body.locale?.replace("_", "-"),
          reason: body.reason,
          ip: meta.clientIp,
        });
        // The new user's token belongs to the app that signed them up, with that app's scopes (as Mastodon).
        const { token, row } = await issueToken(context.sql, {
          userId: created.account.user.id,
          applicationId: caller.token.application_id,
          scopes: caller.token.scopes,
        });
        return { access_token: token, token_type: "Bearer", scope: row.scopes, created_at: Math.floor(row.created_at.getTime() / 1000) };
      },
    );

    r.get(
      "/api/v1/accounts/verify_credentials",
      { auth: "user", scopes: ["profile", ...READ_ACCOUNTS], summary: "Verify account credentials", tags: ["accounts"] },
      async ({ caller }) => credentialAccount(caller.account!),
    );

    r.patch(
      "/api/v1/accounts/update_credentials",
      { auth: "user", scopes: ["write", "write:accounts"], body: updateCredentialsBody, summary: "Update account credentials", tags: ["accounts"] },
      async ({ input, caller }) => {
        const b = input.body;
        const changes = {
          displayName: b.display_name,
          note: b.note,
          locked: b.locked,
          bot: b.bot,
          discoverable: b.discoverable,
          indexable: b.indexable,
          hideCollections: b.hide_collections,
          fields: b.fields_attributes,
          privacy: b.source?.privacy,
          sensitive: b.source?.sensitive,
          language: b.source?.language,
        };
        // Check the text first, then the images (a refused image is a 422 too), and write the text last:
        // whichever part is refused, nothing of the request has been applied.
        checkProfileChanges(changes);
        if (b.avatar instanceof Blob) await setProfileImage(context, caller.account!, "avatar", b.avatar);
        if (b.header instanceof Blob) await setProfileImage(context, caller.account!, "header", b.header);
        const updated = await updateCredentials(context.sql, caller.account!, changes);
        // Followers' servers hear of the change (Update(Person), features/federation/delivery.ts).
        await publishEvent(context, { type: "account.updated", accountId: updated.id });
        return credentialAccount(updated);
      },
    );

    // Mastodon's DELETE /api/v1/profile/avatar and /header: back to the default image.
    for (const kind of ["avatar", "header"] as const) {
      r.delete(`/api/v1/profile/${kind}`, { auth: "user", scopes: ["write", "write:accounts"], summary: `Delete profile ${kind}`, tags: ["accounts"] }, async ({ caller }) => {
        await setProfileImage(context, caller.account!, kind, null);
        await publishEvent(context, { type: "account.updated", accountId: caller.account!.id });
        return credentialAccount((await findLocalAccountByUserId(context.sql, caller.account!.user.id))!);
      });
    }

    r.get(
      "/api/v1/accounts/lookup",
      { auth: "optional", scopes: READ_ACCOUNTS, query: lookupQuery, summary: "Look up an account by its handle", tags: ["accounts"] },
      async ({ input }) => {
        const { acct } = input.query;
        const username = localUsername(context, acct);
        // user@another.domain: WebFinger on that domain, then the actor (federation/remote-accounts.ts).
        // Whatever goes wrong remotely (no such account, server down, refused address) is a 404 here.
        const account = username
          ? await findVisibleLocalAccount(context.sql, username)
          : await resolveRemoteAccount(context, acct).catch((error: unknown) => {
              if (error instanceof FetchFailed) return undefined;
              throw error;
            });
        if (!account) throw ApiError.notFound();
        return renderAccountWithMoved(context, account);
      },
    );

    r.get(
      "/api/v1/accounts",
      { auth: "optional", scopes: READ_ACCOUNTS, query: idsQuery, summary: "Get multiple accounts", tags: ["accounts"] },
      async ({ input }) => {
        const ids = [...new Set(input.query.id ?? [])];
        if (ids.length > MAX_ACCOUNTS_PER_REQUEST) throw ApiError.unprocessable(`Too many accounts requested (maximum is ${MAX_ACCOUNTS_PER_REQUEST})`);
        return renderAccountsWithMoved(context, await findVisibleAccounts(context.sql, ids));
      },
    );

    r.get(
      "/api/v1/accounts/:id",
      { auth: "optional", scopes: READ_ACCOUNTS, params: idParams, summary: "Get an account", tags: ["accounts"] },
      async ({ input }) => {
        const { id } = input.params;
        const account = await findVisibleAccount(context.sql, id);
        if (!account) throw ApiError.notFound();
        return renderAccountWithMoved(context, account);
      },
    );
  });
}

/** "alice", "@alice", "alice@LOCAL_DOMAIN" or "alice@WEB_DOMAIN" → "alice"; other domains are not ours (yet). */
function localUsername(context: AppContext, acct: string): string | undefined {
  const parts = acct.trim().replace(/^@/, "").split("@");
  if (parts.length > 2 || !parts[0]) return undefined;
  const domain = parts[1]?.toLowerCase();
  if (domain !== undefined && domain !== context.config.localDomain.toLowerCase() && domain !== context.config.webDomain.toLowerCase()) return undefined;
  return parts[0];
}
