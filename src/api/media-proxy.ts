/**
 * GET /media_proxy/:id/:style/:token — remote media through us (features/media/remote.ts decides and fetches).
 * No token is needed (images load from <img> tags); the unguessable :token in the URL is the permission.
 * Local storage: the bytes are served here like /system/ files (ranges, ETag). S3: a redirect to the stored
 * object. Both are cached for a day only: an evicted copy is fetched again under the same proxy URL, while
 * the storage URL behind it changes.
 * GET /media_proxy/cards/:id/:token — a preview card's image, the same way (features/media/card-images.ts).
 */
import { Elysia } from "elysia";
import { openCardImage } from "../features/media/card-images";
import { openRemoteMedia, type ProxyStyle } from "../features/media/remote";
import type { AppContext } from "../infra/context";
import { ApiError } from "../infra/errors";
import { storageFor } from "../infra/storage/index";
import { serveStoredFile } from "./media-files";

const PROXY_CACHE_CONTROL = "public, max-age=86400";
const STYLES: readonly string[] = ["original", "small"];

export function mediaProxyRoutes(context: AppContext) {
  const serve = async ({ request, params }: { request: Request; params: { id: string; style: string; token: string } }) => {
    if (!STYLES.includes(params.style)) throw ApiError.notFound();
    const { key } = await openRemoteMedia(context, params.id, params.style as ProxyStyle, params.token);
    const storage = storageFor(context.config);
    if (storage.kind === "local") return serveStoredFile(storage, key, request, PROXY_CACHE_CONTROL);
    return new Response(null, { status: 302, headers: { location: storage.url(key), "cache-control": "public, max-age=600" } });
  };
  const serveCard = async ({ request, params }: { request: Request; params: { id: string; token: string } }) => {
    const { key } = await openCardImage(context, params.id, params.token);
    const storage = storageFor(context.config);
    if (storage.kind === "local") return serveStoredFile(storage, key, request, PROXY_CACHE_CONTROL);
    return new Response(null, { status: 302, headers: { location: storage.url(key), "cache-control": "public, max-age=600" } });
  };
  return new Elysia({ name: "media-proxy" })
    .get("/media_proxy/cards/:id/:token", serveCard)
    .head("/media_proxy/cards/:id/:token", serveCard)
    .get("/media_proxy/:id/:style/:token", serve)
    .head("/media_proxy/:id/:style/:token", serve);
}
