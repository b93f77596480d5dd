/**
 * AUTHORIZED_FETCH (Mastodon's "secure mode"): the ActivityPub faces of actors, statuses and collections are
 * served only to requests signed by a server that is not suspended, so a blocked instance cannot read public
 * posts by fetching them anonymously. People still get the HTML pages, and the instance actor stays readable
 * unsigned — other servers fetch its key to sign their own fetches, as Mastodon allows.
 *
 * The answers then vary with the signer, so they are marked `Vary: Accept, Signature` and kept out of shared
 * caches (a CDN must not hand a blocked server what a friendly one was given).
 */
import { isRefusedHost } from "../features/federation/domain-blocks";
import type { AppContext } from "../infra/context";
import { ApiError } from "../infra/errors";
import { wantsActivityJson } from "./negotiation";
import { readSignature, verifiedKey } from "./signed-request";

/** Paths whose answer is an HTML page (or a redirect to one) unless ActivityPub JSON is asked for. */
const HTML_FACES = /^\/(?:users\/[^/]+(?:\/statuses\/[^/]+)?|@[^/]+(?:\/[^/]+)?)\/?$/;
const EXEMPT = /^\/(?:actor|api\/)/;

/** Throws 401 unless the request may have the ActivityPub face in AUTHORIZED_FETCH mode. */
export async function checkAuthorizedFetch(context: AppContext, request: Request): Promise<void> {
  if (!context.config.authorizedFetch) return;
  const path = new URL(request.url).pathname;
  if (EXEMPT.test(path)) return;
  if (HTML_FACES.test(path) && !wantsActivityJson(request.headers.get("accept"))) return;
  const signature = readSignature(context, request, "GET", new Uint8Array());
  const key = await verifiedKey(context, signature);
  if (await isRefusedHost(context, new URL(key.owner).host)) throw ApiError.unauthorized("The signer's domain is blocked");
}

/** In AUTHORIZED_FETCH mode, JSON answers depend on who signed: private to the requester. */
export function markSignerDependent(context: AppContext, response: unknown): void {
  if (!context.config.authorizedFetch || !(response instanceof Response)) return;
  if (!response.headers.get("content-type")?.includes("json")) return;
  response.headers.set("vary", "Accept, Signature");
  response.headers.set("cache-control", "private, no-store");
}
