/**
 * Actors and their collections, with content negotiation:
 *   GET /users/:name            Person/Service JSON-LD for servers; people are redirected to /@name
 *   GET /@:name                 the HTML profile page (or the JSON when asked for it, as Mastodon does)
 *   GET /actor                  the instance actor (Application)
 *   GET /users/:name/followers | following | outbox | collections/featured | collections/tags
 * Every public render goes through the render cache (render-cache.ts): a burst of fetches costs one render.
 */
import { Elysia } from "elysia";
import { findVisibleLocalAccount, type LocalAccountRow } from "../features/accounts/service";
import { instanceActorUri, instanceKeys } from "../features/federation/instance-actor";
import { followUris } from "../features/federation/store";
import { plainToHtml } from "../features/text/plain-to-html";
import type { AppContext } from "../infra/context";
import { html, SafeHtml } from "../web/html";
import { renderCollection, renderInstanceActor, renderPerson } from "./converters/actor";
import { jsonRendered, NOT_FOUND_JSON, toResponse, wantsActivityJson } from "./negotiation";
import { cachedRender, type Rendered } from "./render-cache";

/** Mastodon shows a first page of followers/following with up to this many actors. */
const COLLECTION_PAGE_SIZE = 40;
const ROUTE = { parse: "none" as const, detail: { hide: true } };

function profilePage(context: AppContext, account: LocalAccountRow): Rendered {
  const { config } = context;
  const handle = `@${account.username}@${config.localDomain}`;
  const name = account.display_name || account.username;
  const body = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${name} (${handle})</title>
<link rel="alternate" type="application/activity+json" href="${account.uri}">
<meta property="og:type" content="profile"><meta property="og:title" content="${name} (${handle})">
<meta property="og:url" content="${account.url ?? account.uri}"><meta property="og:description" content="${account.note}">
<meta name="twitter:card" content="summary">
</head><body><main>
<h1>${name}</h1><p><strong>${handle}</strong></p>
<div>${new SafeHtml(plainToHtml(account.note))}</div>
<p>${account.followers_count} followers · ${account.following_count} following · ${account.statuses_count} posts</p>
</main></body></html>`;
  return {
    status: 200,
    contentType: "text/html; charset=utf-8",
    body: body.value,
    headers: { link: `<${account.uri}>; rel="alternate"; type="application/activity+json"` },
  };
}

const htmlNotFound: Rendered = { status: 404, contentType: "text/plain; charset=utf-8", body: "Not Found" };

export function actorRoutes(context: AppContext) {
  const base = context.config.baseUrl;
  const find = (name: string) => findVisibleLocalAccount(context.sql, name);

  const actorJson = (name: string) =>
    cachedRender(`${base}/users/${name.toLowerCase()}|json`, async () => {
      const account = await find(name);
      return account ? jsonRendered(renderPerson(context.config, account)) : NOT_FOUND_JSON;
    });

  const collection = (name: string, kind: string, build: (account: LocalAccountRow, id: string) => Promise<unknown> | unknown) =>
    cachedRender(`${base}/users/${name.toLowerCase()}/${kind}|json`, async () => {
      const account = await find(name);
      return account ? jsonRendered(await build(account, `${account.uri}/${kind}`)) : NOT_FOUND_JSON;
    });

  const follows = (direction: "followers" | "following") => async (account: LocalAccountRow, id: string) => {
    const total = direction === "followers" ? account.followers_count : account.following_count;
    // hide_collections: the total stays public (Mastodon does the same), the members do not.
    if (account.hide_collections) return renderCollection(id, total);
    return renderCollection(id, total, await followUris(context.sql, account.id, direction, COLLECTION_PAGE_SIZE));
  };

  return new Elysia({ name: "activitypub-actors" })
    .get(
      "/users/:name",
      async ({ params, request }) => {
        if (wantsActivityJson(request.headers.get("accept"))) return toResponse(await actorJson(params.name));
        // People get the profile page at its canonical address, as Mastodon redirects them.
        return new Response(null, { status: 302, headers: { location: `${base}/@${params.name}`, vary: "Accept" } });
      },
      ROUTE,
    )
    .get(
      "/@:name",
      async ({ params: raw, request }) => {
        // Elysia's path typing does not see a parameter after "@".
        const params = raw as { name: string };
        if (wantsActivityJson(request.headers.get("accept"))) return toResponse(await actorJson(params.name));
        const rendered = await cachedRender(`${base}/@${params.name.toLowerCase()}|html`, async () => {
          const account = await find(params.name);
          return account ? profilePage(context, account) : htmlNotFound;
        });
        return toResponse(rendered);
      },
      ROUTE,
    )
    .get(
      "/actor",
      async () =>
        toResponse(
          await cachedRender(`${instanceActorUri(context.config)}|json`, async () =>
            jsonRendered(renderInstanceActor(context.config, (await instanceKeys(context.sql)).publicKey)),
          ),
        ),
      ROUTE,
    )
    .get("/users/:name/followers", async ({ params }) => toResponse(await collection(params.name, "followers", follows("followers"))), ROUTE)
    .get("/users/:name/following", async ({ params }) => toResponse(await collection(params.name, "following", follows("following"))), ROUTE)
    .get(
      "/users/:name/outbox",
      // The total only, for now: paging the account's public posts needs the statuses feature (issue 6).
      async ({ params }) => toResponse(await collection(params.name, "outbox", (account, id) => renderCollection(id, account.statuses_count))),
      ROUTE,
    )
    .get(
      "/users/:name/collections/featured",
      // Pinned posts: empty until statuses can be rendered as Notes (issue 6).
      async ({ params }) => toResponse(await collection(params.name, "collections/featured", (_account, id) => renderCollection(id, 0, []))),
      ROUTE,
    )
    .get(
      "/users/:name/collections/tags",
      async ({ params }) =>
        toResponse(
          await collection(params.name, "collections/tags", (_account, id) => ({
            "@context": "https://www.w3.org/ns/activitystreams",
            id,
            type: "Collection",
            totalItems: 0,
            items: [],
          })),
        ),
      ROUTE,
    );
}
