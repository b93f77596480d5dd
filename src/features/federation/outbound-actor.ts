/**
 * ActivityStreams JSON-LD for actors, as Mastodon's ActivityPub::ActorSerializer writes them: a local
 * account as a Person (Service when it is a bot), and the instance actor as an Application.
 */
import type { LocalAccountRow } from "../accounts/service";
import { profileEmojisOf, renderEmojiTag } from "../custom-emojis/service";
import { instanceActorUri } from "./instance-actor";
import { plainToHtml } from "../text/plain-to-html";
import type { Config } from "../../infra/config";
import { storageFor } from "../../infra/storage/index";

type ActorConfig = Pick<Config, "baseUrl" | "localDomain" | "media">;

/** Mastodon's context: AS, security v1, and the extension terms the actor uses. */
export const ACTOR_CONTEXT = [
  "https://www.w3.org/ns/activitystreams",
  "https://w3id.org/security/v1",
  {
    manuallyApprovesFollowers: "as:manuallyApprovesFollowers",
    toot: "http://joinmastodon.org/ns#",
    featured: { "@id": "toot:featured", "@type": "@id" },
    featuredTags: { "@id": "toot:featuredTags", "@type": "@id" },
    alsoKnownAs: { "@id": "as:alsoKnownAs", "@type": "@id" },
    movedTo: { "@id": "as:movedTo", "@type": "@id" },
    schema: "http://schema.org#",
    PropertyValue: "schema:PropertyValue",
    value: "schema:value",
    discoverable: "toot:discoverable",
    suspended: "toot:suspended",
    memorial: "toot:memorial",
    indexable: "toot:indexable",
    attributionDomains: { "@id": "toot:attributionDomains", "@type": "@id" },
    focalPoint: { "@container": "@list", "@id": "toot:focalPoint" },
    Emoji: "toot:Emoji",
  },
];

/** Mastodon publishes the creation day only (midnight UTC). */
function midnightUtc(date: Date): string {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate())).toISOString().replace(".000Z", "Z");
}

function image(config: ActorConfig, key: string | null) {
  if (!key) return undefined;
  const url = storageFor(config).url(key);
  const ext = key.split(".").pop()?.toLowerCase();
  const mediaType = ext === "png" ? "image/png" : ext === "gif" ? "image/gif" : ext === "webp" ? "image/webp" : "image/jpeg";
  return { type: "Image", mediaType, url };
}

export function renderPerson(config: ActorConfig, account: LocalAccountRow): Record<string, unknown> {
  const uri = account.uri;
  const icon = image(config, account.avatar_key);
  const header = image(config, account.header_key);
  return {
    "@context": ACTOR_CONTEXT,
    id: uri,
    type: account.bot ? "Service" : "Person",
    following: `${uri}/following`,
    followers: `${uri}/followers`,
    inbox: `${uri}/inbox`,
    outbox: `${uri}/outbox`,
    featured: `${uri}/collections/featured`,
    featuredTags: `${uri}/collections/tags`,
    preferredUsername: account.username,
    name: account.display_name,
    summary: plainToHtml(account.note),
    url: account.url ?? `${config.baseUrl}/@${account.username}`,
    manuallyApprovesFollowers: account.locked,
    discoverable: account.discoverable ?? false,
    indexable: account.indexable,
    published: midnightUtc(account.created_at),
    memorial: account.memorial,
    publicKey: { id: `${uri}#main-key`, owner: uri, publicKeyPem: account.public_key },
    // The custom emojis of the name, bio and fields (kept on the row, migration 0023).
    tag: profileEmojisOf(account).map((e) => renderEmojiTag(config, e)),
    attachment: account.fields.map((f) => ({ type: "PropertyValue", name: f.name, value: plainToHtml(f.value, { multiline: false, relMe: true }) })),
    endpoints: { sharedInbox: `${config.baseUrl}/inbox` },
    ...(icon && { icon }),
    ...(header && { image: header }),
  };
}

export function renderInstanceActor(config: ActorConfig, publicKeyPem: string): Record<string, unknown> {
  const uri = instanceActorUri(config);
  return {
    "@context": ACTOR_CONTEXT,
    id: uri,
    type: "Application",
    inbox: `${uri}/inbox`,
    outbox: `${uri}/outbox`,
    preferredUsername: config.localDomain,
    url: `${config.baseUrl}/about/more?instance_actor=true`,
    manuallyApprovesFollowers: true,
    publicKey: { id: `${uri}#main-key`, owner: uri, publicKeyPem },
    endpoints: { sharedInbox: `${config.baseUrl}/inbox` },
  };
}

/** An OrderedCollection with a total and, when given, its first items inline (Mastodon's first page). */
export function renderCollection(id: string, totalItems: number, items?: string[]): Record<string, unknown> {
  return {
    "@context": "https://www.w3.org/ns/activitystreams",
    id,
    type: "OrderedCollection",
    totalItems,
    ...(items && {
      first: { id: `${id}?page=1`, type: "OrderedCollectionPage", totalItems, partOf: id, orderedItems: items },
    }),
  };
}
