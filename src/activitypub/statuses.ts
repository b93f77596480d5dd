/**
 * Statuses, one URL two faces (Mastodon's StatusesController and friends):
 *   GET /users/:name/statuses/:id           Note (Question for polls) JSON-LD for servers; people → 302 /@name/:id
 *   GET /@:name/:id                          the HTML page (or the JSON when asked for it)
 *   GET /users/:name/statuses/:id/activity   the Create (or the Announce of a boost)
 *   GET /users/:name/statuses/:id/replies    public replies, as a Collection with a first page
 *   GET /api/oembed?url=…                    oEmbed for a status URL
 * Only public and unlisted statuses of visible local accounts are served; anything else is 404, the same
 * answer as for a status that never existed. Renders go through the render cache keyed by URL, negotiated
 * type and the account's object version (bumped by delivery on edits and deletes), so a burst of fetches
 * after a post travels costs one render per representation, and an edit or delete shows within a second.
 */
import { Elysia } from "elysia";
import { findVisibleLocalAccount } from "../features/accounts/service";
import { announceActivity, createActivity, NOTE_CONTEXT, renderNote, withContext } from "../features/federation/activities";
import { loadStatus, type LoadedStatus } from "../features/federation/outbound";
import { replyUris } from "../features/federation/outbound-store";
import { objectVersion } from "../features/federation/outbound-versions";
import type { AppContext } from "../infra/context";
import { statusOembed, statusPageHtml } from "../web/status-page";
import { jsonRendered, NOT_FOUND_JSON, toResponse, wantsActivityJson } from "./negotiation";
import { servePublicFace } from "./hot-answers";
import { cachedRender, type Rendered } from "./render-cache";
import { checkAuthorizedFetch, markSignerDependent } from "./authorized-fetch";

const ROUTE = { parse: "none" as const, detail: { hide: true } };
const REPLIES_PAGE_SIZE = 20;
const htmlNotFound: Rendered = { status: 404, contentType: "text/plain; charset=utf-8", body: "Not Found" };

const isId = (id: string) => /^[0-9]{1,19}$/.test(id);
const isName = (name: string) => /^[A-Za-z0-9_]{1,64}$/.test(name);

/** The boosted post behind a boost is shown (even by its URI) only when it is itself public or unlisted. */
const isPublicOriginal = (original: LoadedStatus) =>
  !original.row.deleted_at && (original.row.visibility === "public" || original.row.visibility === "unlisted");

/** A status anonymous visitors may see: public or unlisted, live, by a visible local account named `name`. */
async function publicStatus(context: AppContext, name: string, id: string): Promise<{ loaded: LoadedStatus; displayName: string } | undefined> {
  if (!isId(id) || !isName(name)) return undefined;
  const loaded = await loadStatus(context, id);
  if (!loaded) return undefined;
  const { row } = loaded;
  if (row.author_domain !== null || row.deleted_at || row.author_username.toLowerCase() !== name.toLowerCase()) return undefined;
  if (row.visibility !== "public" && row.visibility !== "unlisted") return undefined;
  const account = await findVisibleLocalAccount(context.sql, row.author_username);
  if (!account || account.suspended_at) return undefined;
  return { loaded, displayName: account.display_name || account.username };
}

export function statusRoutes(context: AppContext) {
  const { config } = context;
  const base = config.baseUrl;

  /** The render, cached under its URL, representation and the author's object version. */
  const cached = async (name: string, path: string, kind: string, render: () => Promise<Rendered>) => {
    if (!isName(name)) return kind === "html" ? htmlNotFound : NOT_FOUND_JSON;
    const version = await objectVersion(context, name);
    return cachedRender(`${base}${path.toLowerCase()}|${kind}|v${version}`, render);
  };

  const noteJson = (name: string, id: string) =>
    cached(name, `/users/${name}/statuses/${id}`, "json", async () => {
      const found = await publicStatus(context, name, id);
      if (!found) return NOT_FOUND_JSON;
      const { row, note } = found.loaded;
      if (row.reblog_of_id) {
        // A boost has no Note of its own: point at the boosted post, as Mastodon redirects.
        const original = await loadStatus(context, row.reblog_of_id);
        return original && isPublicOriginal(original) ? { status: 302, contentType: "text/plain; charset=utf-8", body: "", headers: { location: original.row.uri } } : NOT_FOUND_JSON;
      }
      return jsonRendered(renderNote(config, note));
    });

  const pageHtml = (name: string, id: string) =>
    cached(name, `/@${name}/${id}`, "html", async () => {
      const found = await publicStatus(context, name, id);
      if (!found || found.loaded.row.reblog_of_id) return htmlNotFound;
      const { note } = found.loaded;
      const body = statusPageHtml({
        note,
        displayName: found.displayName,
        handle: `@${note.author.username}@${config.localDomain}`,
        profileUrl: `${base}/@${note.author.username}`,
      });
      return { status: 200, contentType: "text/html; charset=utf-8", body, headers: { link: `<${note.uri}>; rel="alternate"; type="application/activity+json"` } };
    });

  return new Elysia({ name: "activitypub-statuses" })
    .onBeforeHandle(({ request }) => checkAuthorizedFetch(context, request))
    .onAfterHandle(({ response }) => markSignerDependent(context, response))
    .get(
      "/users/:name/statuses/:id",
      async ({ params, request }) => {
        if (wantsActivityJson(request.headers.get("accept"))) return servePublicFace(context, request, "json", () => noteJson(params.name, params.id));
        // People get the page at its canonical address, as Mastodon redirects them.
        return new Response(null, { status: 302, headers: { location: `${base}/@${params.name}/${params.id}`, vary: "Accept", "cache-control": "public, max-age=180" } });
      },
      ROUTE,
    )
    .get(
      "/@:name/:id",
      async ({ params: raw, request }) => {
        // Elysia's path typing does not see a parameter after "@".
        const params = raw as { name: string; id: string };
        if (wantsActivityJson(request.headers.get("accept"))) return servePublicFace(context, request, "json", () => noteJson(params.name, params.id));
        return servePublicFace(context, request, "html", () => pageHtml(params.name, params.id));
      },
      ROUTE,
    )
    .get(
      "/users/:name/statuses/:id/activity",
      async ({ params }) =>
        toResponse(
          await cached(params.name, `/users/${params.name}/statuses/${params.id}/activity`, "json", async () => {
            const found = await publicStatus(context, params.name, params.id);
            if (!found) return NOT_FOUND_JSON;
            const { row, note } = found.loaded;
            if (!row.reblog_of_id) return jsonRendered(createActivity(config, note));
            const original = await loadStatus(context, row.reblog_of_id);
            if (!original || !isPublicOriginal(original)) return NOT_FOUND_JSON;
            return jsonRendered(
              announceActivity({
                uri: row.uri,
                visibility: row.visibility,
                createdAt: row.created_at,
                actorUri: row.author_uri,
                originalUri: original.row.uri,
                originalAuthorUri: original.row.author_uri,
              }),
            );
          }),
        ),
      ROUTE,
    )
    .get(
      "/users/:name/statuses/:id/replies",
      async ({ params, request }) => {
        const url = new URL(request.url);
        const page = url.searchParams.get("page") === "true";
        const minId = url.searchParams.get("min_id");
        if (minId !== null && !isId(minId)) return toResponse(NOT_FOUND_JSON);
        const suffix = page ? `?page=true${minId ? `&min_id=${minId}` : ""}` : "";
        return toResponse(
          await cached(params.name, `/users/${params.name}/statuses/${params.id}/replies${suffix}`, "json", async () => {
            const found = await publicStatus(context, params.name, params.id);
            if (!found) return NOT_FOUND_JSON;
            const id = `${found.loaded.row.uri}/replies`;
            const replies = await replyUris(context.sql, found.loaded.row.id, minId, REPLIES_PAGE_SIZE);
            const last = replies.at(-1);
            const pageJson = {
              id: `${id}?page=true${minId ? `&min_id=${minId}` : ""}`,
              type: "CollectionPage",
              partOf: id,
              items: replies.map((r) => r.uri),
              ...(replies.length === REPLIES_PAGE_SIZE && last && { next: `${id}?page=true&min_id=${last.id}` }),
            };
            if (page) return jsonRendered(withContext(NOTE_CONTEXT[0], pageJson));
            const { id: _pageId, ...first } = pageJson;
            return jsonRendered(withContext(NOTE_CONTEXT[0], { id, type: "Collection", first: { ...first, type: "CollectionPage" } }));
          }),
        );
      },
      ROUTE,
    )
    .get(
      "/api/oembed",
      async ({ request }) => {
        const raw = new URL(request.url).searchParams.get("url") ?? "";
        const error = (status: number, message: string) =>
          new Response(JSON.stringify({ error: message }), { status, headers: { "content-type": "application/json; charset=utf-8" } });
        let target: URL;
        try {
          if (raw.length > 2048) throw new Error("too long");
          target = new URL(raw);
        } catch {
          return error(400, "The url parameter is missing or malformed");
        }
        const match = /^\/(?:@([A-Za-z0-9_]+)|users\/([A-Za-z0-9_]+)\/statuses)\/([0-9]{1,19})\/?$/.exec(target.pathname);
        if (target.host.toLowerCase() !== new URL(base).host.toLowerCase() || !match) return error(404, "Record not found");
        const name = (match[1] ?? match[2])!;
        const id = match[3]!;
        const rendered = await cached(name, `/@${name}/${id}/oembed`, "oembed", async () => {
          const found = await publicStatus(context, name, id);
          if (!found || found.loaded.row.reblog_of_id) return NOT_FOUND_JSON;
          const { note } = found.loaded;
          const body = statusOembed(
            { note, displayName: found.displayName, handle: `@${note.author.username}@${config.localDomain}`, profileUrl: `${base}/@${note.author.username}` },
            config.localDomain,
            base,
          );
          return { status: 200, contentType: "application/json; charset=utf-8", body: JSON.stringify(body) };
        });
        return toResponse(rendered);
      },
      ROUTE,
    );
}
