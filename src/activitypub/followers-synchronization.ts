/**
 * GET /users/:name/followers_synchronization — FEP-8fcf's partial followers collection, at Mastodon's path
 * (the `url` of the Collection-Synchronization header our followers-only deliveries carry; see
 * features/federation/followers-digest.ts). It lists only our followers on the signer's own server, and only
 * for a signed GET, as Mastodon's FollowersSynchronizationsController: never a list of everyone, never to a
 * refused server.
 */
import { Elysia } from "elysia";
import { findVisibleLocalAccount } from "../features/accounts/service";
import { isRefusedHost } from "../features/federation/domain-blocks";
import { partialFollowersCollection } from "../features/federation/followers-digest";
import type { AppContext } from "../infra/context";
import { ApiError } from "../infra/errors";
import { ACTIVITY_JSON, NOT_FOUND_JSON, toResponse } from "./negotiation";
import { readSignature, verifiedKey } from "./signed-request";

const ROUTE = { parse: "none" as const, detail: { hide: true } };

export function followersSynchronizationRoutes(context: AppContext) {
  const base = context.config.baseUrl;
  return new Elysia({ name: "activitypub-followers-synchronization" }).get(
    "/users/:name/followers_synchronization",
    async ({ params, request }) => {
      const key = await verifiedKey(context, readSignature(context, request, "GET", new Uint8Array()));
      if (await isRefusedHost(context, new URL(key.owner).host)) throw ApiError.unauthorized("The signer's domain is blocked");
      const account = await findVisibleLocalAccount(context.sql, params.name);
      if (!account) return toResponse(NOT_FOUND_JSON);
      const url = `${base}/users/${account.username}/followers_synchronization`;
      const body = await partialFollowersCollection(context, account, key.owner, url);
      // Per signer: no shared cache may keep it.
      return new Response(JSON.stringify(body), { headers: { "content-type": ACTIVITY_JSON, "cache-control": "private, no-store", vary: "Signature" } });
    },
    ROUTE,
  );
}
