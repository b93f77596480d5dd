/**
 * Discovery: WebFinger (RFC 7033) for handles and actor URLs, host-meta (XRD, or JRD as JSON), and NodeInfo
 * 2.0 / 2.1 with real usage counts. Handles use LOCAL_DOMAIN, URLs use WEB_DOMAIN (split domains work as in
 * Mastodon: a handle @alice@example.com whose actor lives at https://social.example.com/users/alice).
 */
import { Elysia } from "elysia";
import { registrationsMode } from "../features/accounts/registration";
import { findVisibleLocalAccount } from "../features/accounts/service";
import { instanceActorUri } from "../features/federation/instance-actor";
import { usageCounts } from "../features/federation/store";
import { getSetting } from "../features/settings/service";
import { buildVersion } from "../infra/build-info";
import type { AppContext } from "../infra/context";
import { escapeHtml } from "../web/html";

const ROUTE = { parse: "none" as const, detail: { hide: true } };
const CORS = { "access-control-allow-origin": "*" };

function json(body: unknown, contentType: string, cacheSeconds: number, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": `${contentType}; charset=utf-8`, "cache-control": `public, max-age=${cacheSeconds}`, ...CORS },
  });
}

function error(status: 400 | 404, message: string): Response {
  return new Response(JSON.stringify({ error: message }), { status, headers: { "content-type": "application/json; charset=utf-8", ...CORS } });
}

type Target = { kind: "account"; username: string } | { kind: "instance" } | { kind: "unknown" } | { kind: "bad" };

/** What a `resource` names: one of our accounts, the instance actor, something else (404) or garbage (400). */
export function parseResource(context: AppContext, resource: string | null): Target {
  const { localDomain, webDomain } = context.config;
  if (!resource || resource.length > 1000) return { kind: "bad" };
  const text = resource.trim();
  const ours = (domain: string) => [localDomain.toLowerCase(), webDomain.toLowerCase()].includes(domain.toLowerCase());
  if (/^https?:\/\//i.test(text)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return { kind: "bad" };
    }
    if (!ours(url.host)) return { kind: "unknown" };
    if (`${url.origin}${url.pathname}` === instanceActorUri(context.config) || url.pathname === "/actor") return { kind: "instance" };
    const match = /^\/(?:users\/|@)([A-Za-z0-9_]+)\/?$/.exec(url.pathname);
    return match ? { kind: "account", username: match[1]! } : { kind: "unknown" };
  }
  const match = /^(?:acct:)?@?([^@\s]+)@([^@\s]+)$/i.exec(text);
  if (!match) return { kind: "bad" };
  if (!ours(match[2]!)) return { kind: "unknown" };
  const username = match[1]!;
  // Mastodon's instance actor answers to its domain name as a username.
  if (username.toLowerCase() === localDomain.toLowerCase().replace(/:\d+$/, "") || username.toLowerCase() === localDomain.toLowerCase())
    return { kind: "instance" };
  return /^[A-Za-z0-9_]+$/.test(username) ? { kind: "account", username } : { kind: "unknown" };
}

export function discoveryRoutes(context: AppContext) {
  const { config } = context;
  return new Elysia({ name: "activitypub-discovery" })
    .get(
      "/.well-known/webfinger",
      async ({ request }) => {
        const target = parseResource(context, new URL(request.url).searchParams.get("resource"));
        if (target.kind === "bad") return error(400, "The resource parameter is missing or malformed");
        if (target.kind === "instance") {
          const uri = instanceActorUri(config);
          return json(
            {
              subject: `acct:${config.localDomain}@${config.localDomain}`,
              aliases: [uri],
              links: [
                { rel: "http://webfinger.net/rel/profile-page", type: "text/html", href: `${config.baseUrl}/about/more?instance_actor=true` },
                { rel: "self", type: "application/activity+json", href: uri },
              ],
            },
            "application/jrd+json",
            259_200,
          );
        }
        if (target.kind === "unknown") return error(404, "Record not found");
        const account = await findVisibleLocalAccount(context.sql, target.username);
        if (!account) return error(404, "Record not found");
        const url = account.url ?? `${config.baseUrl}/@${account.username}`;
        return json(
          {
            subject: `acct:${account.username}@${config.localDomain}`,
            aliases: [url, account.uri],
            links: [
              { rel: "http://webfinger.net/rel/profile-page", type: "text/html", href: url },
              { rel: "self", type: "application/activity+json", href: account.uri },
              { rel: "http://ostatus.org/schema/1.0/subscribe", template: `${config.baseUrl}/authorize_interaction?uri={uri}` },
            ],
          },
          "application/jrd+json",
          259_200,
        );
      },
      ROUTE,
    )
    .get(
      "/.well-known/host-meta",
      ({ request }) => {
        const template = `${config.baseUrl}/.well-known/webfinger?resource={uri}`;
        const url = new URL(request.url);
        const asJson = url.searchParams.get("format") === "json" || (request.headers.get("accept") ?? "").includes("json");
        if (asJson) return json({ links: [{ rel: "lrdd", template }] }, "application/json", 259_200);
        const xml = `<?xml version="1.0" encoding="UTF-8"?>
<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">
  <Link rel="lrdd" template="${escapeHtml(template)}"/>
</XRD>
`;
        return new Response(xml, {
          headers: { "content-type": "application/xrd+xml; charset=utf-8", "cache-control": "public, max-age=259200", vary: "Accept", ...CORS },
        });
      },
      ROUTE,
    )
    .get(
      "/.well-known/nodeinfo",
      () =>
        json(
          {
            links: [
              { rel: "http://nodeinfo.diaspora.software/ns/schema/2.0", href: `${config.baseUrl}/nodeinfo/2.0` },
              { rel: "http://nodeinfo.diaspora.software/ns/schema/2.1", href: `${config.baseUrl}/nodeinfo/2.1` },
            ],
          },
          "application/json",
          259_200,
        ),
      ROUTE,
    )
    .get(
      "/nodeinfo/:version",
      async ({ params }) => {
        if (params.version !== "2.0" && params.version !== "2.1") return error(404, "Record not found");
        const [usage, mode, title, description] = await Promise.all([
          usageCounts(context.sql),
          registrationsMode(context),
          getSetting(context.sql, "site_title"),
          getSetting(context.sql, "site_short_description"),
        ]);
        const software: Record<string, string> = { name: "woolly", version: buildVersion() };
        if (params.version === "2.1" && config.sourceBaseUrl) software.repository = config.sourceBaseUrl;
        return json(
          {
            version: params.version,
            software,
            protocols: ["activitypub"],
            services: { outbound: [], inbound: [] },
            usage: {
              users: { total: usage.total, activeMonth: usage.activeMonth, activeHalfyear: usage.activeHalfyear },
              localPosts: usage.localPosts,
            },
            openRegistrations: mode !== "none",
            metadata: { nodeName: title, nodeDescription: description },
          },
          `application/json; profile="http://nodeinfo.diaspora.software/ns/schema/${params.version}#"`,
          1800,
        );
      },
      ROUTE,
    );
}
