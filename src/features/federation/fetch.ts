/**
 * Fetching ActivityPub documents and WebFinger answers from other servers, always through the safe client.
 * AP GETs are signed by the instance actor (draft-cavage), so servers in authorized-fetch mode answer too.
 * Refused domains (suspended, or off the allow-list in limited federation mode) are refused before any
 * connection (the safe client's isBlockedHost hook).
 */
import type { AppContext } from "../../infra/context";
import { fetchSettings, safeFetch, SafeFetchError, type SafeResponse } from "../../infra/http/safe-fetch";
import { signCavage } from "../../infra/http/signatures";
import { isRefusedHost } from "./domain-blocks";
import { instanceKeyId, instanceKeys } from "./instance-actor";

export const AP_ACCEPT = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"';

export class FetchFailed extends Error {
  constructor(
    message: string,
    /** True when the other side may answer later (network trouble, 5xx, 429), so a retry makes sense. */
    readonly transient: boolean,
  ) {
    super(message);
    this.name = "FetchFailed";
  }
}

/** The safe client's settings for every request to another ActivityPub server (fetches and deliveries). */
export function federationFetchSettings(context: Pick<AppContext, "sql" | "config">) {
  return fetchSettings(context.config, (host) => isRefusedHost(context, host));
}
const settings = federationFetchSettings;

function asFailure(error: unknown, url: string): never {
  if (error instanceof SafeFetchError) {
    throw new FetchFailed(`${url}: ${error.message}`, error.reason === "network" || error.reason === "timeout" || error.reason === "dns_failure");
  }
  throw error;
}

function checkStatus(response: SafeResponse, url: string): void {
  if (response.status >= 200 && response.status < 300) return;
  throw new FetchFailed(`${url} answered ${response.status}`, response.status >= 500 || response.status === 429);
}

function parseJsonObject(response: SafeResponse, url: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = response.json();
  } catch {
    throw new FetchFailed(`${url} did not answer JSON`, false);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new FetchFailed(`${url} did not answer a JSON object`, false);
  return value as Record<string, unknown>;
}

/** Mastodon accepts activity+json, or ld+json with the ActivityStreams profile; we also take plain JSON. */
function isActivityJson(contentType: string | null): boolean {
  const type = (contentType ?? "").toLowerCase();
  return type.startsWith("application/activity+json") || type.startsWith("application/ld+json") || type.startsWith("application/json");
}

export interface FetchedObject {
  /** The URL that answered, after redirects: an object's id must live on that host. */
  url: string;
  json: Record<string, unknown>;
}

/** A signed GET of an ActivityPub document. */
export async function fetchActivityJson(context: AppContext, url: string): Promise<FetchedObject> {
  const keys = await instanceKeys(context.sql);
  const keyId = instanceKeyId(context.config);
  const response = await safeFetch(url, settings(context), {
    headers: { accept: AP_ACCEPT },
    sign: ({ url: hop, headers }) => signCavage({ method: "GET", url: hop, headers, keyId, privateKeyPem: keys.privateKey }),
  }).catch((error) => asFailure(error, url));
  checkStatus(response, url);
  if (!isActivityJson(response.headers.get("content-type"))) throw new FetchFailed(`${url} did not answer ActivityStreams JSON`, false);
  return { url: response.url, json: parseJsonObject(response, url) };
}

/** An unsigned GET of a WebFinger (JRD) document. */
export async function fetchJrd(context: AppContext, url: string): Promise<Record<string, unknown>> {
  const response = await safeFetch(url, settings(context), { headers: { accept: "application/jrd+json, application/json" }, maxBytes: 256 * 1024 }).catch(
    (error) => asFailure(error, url),
  );
  checkStatus(response, url);
  return parseJsonObject(response, url);
}

/**
 * POST one activity to one inbox as the server itself (the instance actor signs, draft-cavage): relay
 * subscriptions and forwarded reports, which must not name a local person. Answers the HTTP status; network
 * trouble and refused hosts surface as SafeFetchError.
 */
export async function postAsInstanceActor(context: Pick<AppContext, "sql" | "config">, inbox: string, activity: Record<string, unknown>): Promise<number> {
  const keys = await instanceKeys(context.sql);
  const response = await safeFetch(inbox, federationFetchSettings(context), {
    method: "POST",
    body: JSON.stringify(activity),
    headers: { "content-type": "application/activity+json" },
    maxRedirects: 0,
    maxBytes: 64 * 1024,
    headersTimeoutMs: 15_000,
    timeoutMs: 20_000,
    sign: ({ url, headers, body }) => signCavage({ method: "POST", url, headers, body, keyId: instanceKeyId(context.config), privateKeyPem: keys.privateKey }),
  });
  return response.status;
}

