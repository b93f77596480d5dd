/**
 * Actors and their collections, with content negotiation:
 *   GET /users/:name            Person/Service JSON-LD for servers; people are redirected to /@name
 *   GET /@:name                 the HTML profile page (or the JSON when asked for it, as Mastodon does)
 *   GET /actor                  the instance actor (Application)
 *   GET /users/:name/followers | following | outbox | collections/featured | collections/tags
 *   (GET /users/:name/followers_synchronization is in followers-synchronization.ts.)
 * Every public render goes through the render cache (render-cache.ts): a burst of fetches costs one render.
 */
import { Elysia } from "elysia";
import { findVisibleLocalAccount, type LocalAccountRow } from "../features/accounts/service";
import { instanceActorUri, instanceKeys } from "../features/federation/instance-actor";
import { NOTE_CONTEXT, renderNoteObject, withContext } from "../features/federation/activities";
import { loadStatuses, outboxActivities } from "../features/federation/outbound";
import { outboxIds, pinnedIds } from "../features/federation/outbound-store";
import { objectVersion } from "../features/federation/outbound-versions";
import { followUris } from "../features/federation/store";
import { plainToHtml } from "../features/text/plain-to-html";
import type { AppContext } from "../infra/context";
import { html, SafeHtml } from "../web/html";
import { renderCollection, renderInstanceActor, renderPerson } from "./converters/actor";
import { jsonRendered, NOT_FOUND_JSON, toResponse, wantsActivityJson } from "./negotiation";
import { servePublicFace } from "./hot-answers";
import { cachedRender, type Rendered } from "./render-cache";
import { checkAuthorizedFetch, markSignerDependent } from "./authorized-fetch";

/** Mastodon shows a first page of followers/following with up to this many actors. */
const COLLECTION_PAGE_SIZE = 40;
/** Mastodon's outbox page size. */
const OUTBOX_PAGE_SIZE = 20;
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

  // The object version (bumped by delivery on a profile change) makes an edited profile show at once.
  const actorJson = async (name: string) =>
    cachedRender(`${base}/users/${name.toLowerCase()}|json|v${await objectVersion(context, name)}`, async () => {
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

  const outboxPage = async (account: LocalAccountRow, id: string, maxId: string | null) => {
    const ids = await outboxIds(context.sql, account.id, maxId, OUTBOX_PAGE_SIZE);
    const items = await outboxActivities(context, account.uri, ids);
    const last = ids.at(-1);
    return withContext(NOTE_CONTEXT, {
      id: `${id}?page=true${maxId ? `&max_id=${maxId}` : ""}`,
      type: "OrderedCollectionPage",
      partOf: id,
      ...(ids.length === OUTBOX_PAGE_SIZE && last && { next: `${id}?max_id=${last}&page=true` }),
      orderedItems: items,
    });
  };

  return new Elysia({ name: "activitypub-actors" })
    .onBeforeHandle(({ request }) => checkAuthorizedFetch(context, request))
    .onAfterHandle(({ response }) => markSignerDependent(context, response))
    .get(
      "/users/:name",
      async ({ params, request }) => {
        if (wantsActivityJson(request.headers.get("accept"))) return servePublicFace(context, request, "json", () => actorJson(params.name));
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
        if (wantsActivityJson(request.headers.get("accept"))) return servePublicFace(context, request, "json", () => actorJson(params.name));
        return servePublicFace(context, request, "html", () =>
          cachedRender(`${base}/@${params.name.toLowerCase()}|html`, async () => {
            const account = await find(params.name);
            return account ? profilePage(context, account) : htmlNotFound;
          }),
        );
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
      // Mastodon's shape: the collection names its first and last pages; `?page=true[&max_id=]` is a page of
      // Create and Announce activities for public and unlisted posts and boosts, newest first.
      async ({ params, request }) => {
        const query = new URL(request.url).searchParams;
        const page = query.get("page") === "true";
        const maxId = query.get("max_id");
        if (maxId !== null && !/^[0-9]{1,19}$/.test(maxId)) return toResponse(NOT_FOUND_JSON);
        const suffix = page ? `?page=true${maxId ? `&max_id=${maxId}` : ""}` : "";
        const version = await objectVersion(context, params.name);
        return toResponse(
          await cachedRender(`${base}/users/${params.name.toLowerCase()}/outbox${suffix}|json|v${version}`, async () => {
            const account = await find(params.name);
            if (!account) return NOT_FOUND_JSON;
            const id = `${account.uri}/outbox`;
            if (!page) {
              return jsonRendered({
                "@context": "https://www.w3.org/ns/activitystreams",
                id,
                type: "OrderedCollection",
                totalItems: account.statuses_count,
                first: `${id}?page=true`,
                last: `${id}?min_id=0&page=true`,
              });
            }
            return jsonRendered(await outboxPage(account, id, maxId));
          }),
        );
      },
      ROUTE,
    )
    .get(
      "/users/:name/collections/featured",
      // Pinned posts, embedded as Notes (Mastodon's featured collection).
      async ({ params }) => {
        const version = await objectVersion(context, params.name);
        return toResponse(
          await cachedRender(`${base}/users/${params.name.toLowerCase()}/collections/featured|json|v${version}`, async () => {
            const account = await find(params.name);
            if (!account) return NOT_FOUND_JSON;
            const ids = await pinnedIds(context.sql, account.id);
            const loaded = await loadStatuses(context, ids);
            const items = ids.flatMap((sid) => {
              const status = loaded.get(sid);
              return status ? [renderNoteObject(context.config, status.note)] : [];
            });
            return jsonRendered(withContext(NOTE_CONTEXT, { id: `${account.uri}/collections/featured`, type: "OrderedCollection", totalItems: items.length, orderedItems: items }));
          }),
        );
      },
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
