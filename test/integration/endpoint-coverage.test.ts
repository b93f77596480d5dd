/**
 * Endpoint coverage (issue 8: "a client never hits an endpoint that answers 404 where Mastodon answers").
 * ROUTES lists every method+path of Mastodon's client API (the `paths` of the Mastodon OpenAPI file plus
 * the ones in /work/shared/notes/mastodon-reference.md §1.2 it lacks). For each:
 *  - the web app's route table has it (so the test fails the moment a route disappears), and
 *  - a request with a valid user token and real ids answers something other than "no such route": any 404
 *    must come from a declared route (endpoint.ts sets `Vary` before the handler runs; Elysia's unmatched-
 *    route 404 has none), and never a 5xx.
 * Streaming paths are served by the streaming role (src/streaming/app.ts) and checked against its stream
 * names. NOT_ROUTED lists what Mastodon itself no longer routes or what Woolly deliberately lacks, with why;
 * every path of the OpenAPI file must be in one of the three lists, so a new upstream path is noticed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { buildWebApp } from "../../src/api/app";
import { streamFromPath } from "../../src/streaming/streams";
import { inProcessApi } from "../helpers/api";
import { testContext, type TestContext } from "../helpers/context";
import { SCHEMA_PATH } from "../helpers/openapi";
import { makeTestUser } from "../helpers/users";

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/**
 * {account}, {status}… are replaced by real ids made in beforeAll; {none} by an id that exists nowhere. A
 * third element is the status that route must answer (the 503 is translate's "no translator configured").
 */
const ROUTES: [Method, string, number?][] = [
  // OAuth, apps, discovery
  ["POST", "/api/v1/apps"],
  ["GET", "/api/v1/apps/verify_credentials"],
  ["GET", "/oauth/authorize"],
  ["POST", "/oauth/token"],
  ["POST", "/oauth/revoke"],
  ["GET", "/oauth/userinfo"],
  ["POST", "/oauth/userinfo"],
  ["GET", "/.well-known/oauth-authorization-server"],
  ["GET", "/.well-known/nodeinfo"],
  ["GET", "/nodeinfo/{version}"],
  ["GET", "/health"],
  ["GET", "/api/oembed?url={statusUrl}"],
  ["GET", "/api/v1/instance"],
  ["GET", "/api/v2/instance"],
  ["GET", "/api/v1/instance/peers"],
  ["GET", "/api/v1/instance/activity"],
  ["GET", "/api/v1/instance/rules"],
  ["GET", "/api/v1/instance/domain_blocks"],
  ["GET", "/api/v1/instance/extended_description"],
  ["GET", "/api/v1/instance/privacy_policy"],
  ["GET", "/api/v1/instance/terms_of_service"],
  ["GET", "/api/v1/instance/terms_of_service/{date}"],
  ["GET", "/api/v1/instance/translation_languages"],
  ["GET", "/api/v1/instance/languages"],
  ["GET", "/api/v1/peers/search?q=example"],
  ["GET", "/api/v1/custom_emojis"],
  // Accounts
  ["POST", "/api/v1/accounts"],
  ["GET", "/api/v1/accounts?id[]={account}"],
  ["GET", "/api/v1/accounts/verify_credentials"],
  ["PATCH", "/api/v1/accounts/update_credentials"],
  ["GET", "/api/v1/profile"],
  ["PATCH", "/api/v1/profile"],
  ["PUT", "/api/v1/profile"],
  ["DELETE", "/api/v1/profile/avatar"],
  ["DELETE", "/api/v1/profile/header"],
  ["GET", "/api/v1/accounts/{account}"],
  ["GET", "/api/v1/accounts/{account}/statuses"],
  ["GET", "/api/v1/accounts/{account}/followers"],
  ["GET", "/api/v1/accounts/{account}/following"],
  ["GET", "/api/v1/accounts/{account}/featured_tags"],
  ["GET", "/api/v1/accounts/{account}/lists"],
  ["GET", "/api/v1/accounts/{account}/endorsements"],
  ["GET", "/api/v1/accounts/{account}/identity_proofs"],
  ["POST", "/api/v1/accounts/{account}/follow"],
  ["POST", "/api/v1/accounts/{account}/unfollow"],
  ["POST", "/api/v1/accounts/{account}/remove_from_followers"],
  ["POST", "/api/v1/accounts/{account}/block"],
  ["POST", "/api/v1/accounts/{account}/unblock"],
  ["POST", "/api/v1/accounts/{account}/mute"],
  ["POST", "/api/v1/accounts/{account}/unmute"],
  ["POST", "/api/v1/accounts/{account}/pin"],
  ["POST", "/api/v1/accounts/{account}/unpin"],
  ["POST", "/api/v1/accounts/{account}/endorse"],
  ["POST", "/api/v1/accounts/{account}/unendorse"],
  ["POST", "/api/v1/accounts/{account}/note"],
  ["GET", "/api/v1/accounts/relationships?id[]={account}"],
  ["GET", "/api/v1/accounts/familiar_followers?id[]={account}"],
  ["GET", "/api/v1/accounts/search?q=ep_cov"],
  ["GET", "/api/v1/accounts/lookup?acct=ep_cov_b"],
  ["GET", "/api/v1/directory"],
  // Statuses
  ["POST", "/api/v1/statuses"],
  ["GET", "/api/v1/statuses?id[]={status}"],
  ["GET", "/api/v1/statuses/{status}"],
  ["PUT", "/api/v1/statuses/{status}"],
  ["GET", "/api/v1/statuses/{status}/context"],
  ["POST", "/api/v1/statuses/{status}/favourite"],
  ["POST", "/api/v1/statuses/{status}/unfavourite"],
  ["POST", "/api/v1/statuses/{status}/reblog"],
  ["POST", "/api/v1/statuses/{status}/unreblog"],
  ["POST", "/api/v1/statuses/{status}/bookmark"],
  ["POST", "/api/v1/statuses/{status}/unbookmark"],
  ["POST", "/api/v1/statuses/{status}/mute"],
  ["POST", "/api/v1/statuses/{status}/unmute"],
  ["POST", "/api/v1/statuses/{status}/pin"],
  ["POST", "/api/v1/statuses/{status}/unpin"],
  ["GET", "/api/v1/statuses/{status}/reblogged_by"],
  ["GET", "/api/v1/statuses/{status}/favourited_by"],
  ["GET", "/api/v1/statuses/{status}/history"],
  ["GET", "/api/v1/statuses/{status}/source"],
  ["POST", "/api/v1/statuses/{status}/translate", 503],
  ["GET", "/api/v1/statuses/{status}/quotes"],
  ["POST", "/api/v1/statuses/{status}/quotes/{none}/revoke"],
  ["DELETE", "/api/v1/statuses/{status}"],
  // Timelines
  ["GET", "/api/v1/timelines/home"],
  ["GET", "/api/v1/timelines/public"],
  ["GET", "/api/v1/timelines/tag/{tag}"],
  ["GET", "/api/v1/timelines/list/{list}"],
  ["GET", "/api/v1/timelines/link?url=https%3A%2F%2Fexample.com%2F"],
  // Notifications
  ["GET", "/api/v1/notifications"],
  ["GET", "/api/v1/notifications/{none}"],
  ["POST", "/api/v1/notifications/{none}/dismiss"],
  ["POST", "/api/v1/notifications/clear"],
  ["GET", "/api/v1/notifications/unread_count"],
  ["DELETE", "/api/v1/notifications/destroy_multiple?ids[]={none}"],
  ["GET", "/api/v1/notifications/policy"],
  ["PUT", "/api/v1/notifications/policy"],
  ["GET", "/api/v1/notifications/requests"],
  ["GET", "/api/v1/notifications/requests/{none}"],
  ["POST", "/api/v1/notifications/requests/{none}/accept"],
  ["POST", "/api/v1/notifications/requests/{none}/dismiss"],
  ["POST", "/api/v1/notifications/requests/accept"],
  ["POST", "/api/v1/notifications/requests/dismiss"],
  ["GET", "/api/v1/notifications/requests/merged"],
  ["GET", "/api/v2/notifications"],
  ["GET", "/api/v2/notifications/{group}"],
  ["GET", "/api/v2/notifications/{group}/accounts"],
  ["POST", "/api/v2/notifications/{group}/dismiss"],
  ["POST", "/api/v2/notifications/clear"],
  ["GET", "/api/v2/notifications/unread_count"],
  ["GET", "/api/v2/notifications/policy"],
  ["PATCH", "/api/v2/notifications/policy"],
  // Media, polls, search, user data
  ["POST", "/api/v1/media"],
  ["POST", "/api/v2/media"],
  ["GET", "/api/v1/media/{none}"],
  ["PUT", "/api/v1/media/{none}"],
  ["DELETE", "/api/v1/media/{none}"],
  ["GET", "/api/v1/polls/{poll}"],
  ["POST", "/api/v1/polls/{poll}/votes"],
  ["GET", "/api/v2/search?q=ep_cov"],
  ["GET", "/api/v1/preferences"],
  ["GET", "/api/v1/markers?timeline[]=home"],
  ["POST", "/api/v1/markers"],
  ["GET", "/api/v1/bookmarks"],
  ["GET", "/api/v1/favourites"],
  ["GET", "/api/v1/blocks"],
  ["GET", "/api/v1/mutes"],
  ["GET", "/api/v1/domain_blocks"],
  ["POST", "/api/v1/domain_blocks"],
  ["DELETE", "/api/v1/domain_blocks"],
  ["GET", "/api/v1/domain_blocks/preview?domain=example.org"],
  ["GET", "/api/v1/donation_campaigns"],
  ["GET", "/api/v1/follow_requests"],
  ["POST", "/api/v1/follow_requests/{account}/authorize"],
  ["POST", "/api/v1/follow_requests/{account}/reject"],
  ["GET", "/api/v1/endorsements"],
  ["GET", "/api/v1/featured_tags"],
  ["POST", "/api/v1/featured_tags"],
  ["DELETE", "/api/v1/featured_tags/{none}"],
  ["GET", "/api/v1/featured_tags/suggestions"],
  ["GET", "/api/v1/followed_tags"],
  ["GET", "/api/v1/tags/{tag}"],
  ["POST", "/api/v1/tags/{tag}/follow"],
  ["POST", "/api/v1/tags/{tag}/unfollow"],
  ["POST", "/api/v1/tags/{tag}/feature"],
  ["POST", "/api/v1/tags/{tag}/unfeature"],
  ["GET", "/api/v1/lists"],
  ["POST", "/api/v1/lists"],
  ["GET", "/api/v1/lists/{list}"],
  ["PUT", "/api/v1/lists/{list}"],
  ["GET", "/api/v1/lists/{list}/accounts"],
  ["POST", "/api/v1/lists/{list}/accounts"],
  ["DELETE", "/api/v1/lists/{list}/accounts"],
  ["DELETE", "/api/v1/lists/{list}"],
  ["GET", "/api/v1/conversations"],
  ["POST", "/api/v1/conversations/{none}/read"],
  ["DELETE", "/api/v1/conversations/{none}"],
  ["GET", "/api/v2/filters"],
  ["POST", "/api/v2/filters"],
  ["GET", "/api/v2/filters/{filter}"],
  ["PUT", "/api/v2/filters/{filter}"],
  ["GET", "/api/v2/filters/{filter}/keywords"],
  ["POST", "/api/v2/filters/{filter}/keywords"],
  ["GET", "/api/v2/filters/keywords/{keyword}"],
  ["PUT", "/api/v2/filters/keywords/{keyword}"],
  ["GET", "/api/v2/filters/{filter}/statuses"],
  ["POST", "/api/v2/filters/{filter}/statuses"],
  ["GET", "/api/v2/filters/statuses/{none}"],
  ["DELETE", "/api/v2/filters/statuses/{none}"],
  ["GET", "/api/v1/filters"],
  ["POST", "/api/v1/filters"],
  ["GET", "/api/v1/filters/{keyword}"],
  ["PUT", "/api/v1/filters/{keyword}"],
  ["DELETE", "/api/v1/filters/{keyword}"],
  ["DELETE", "/api/v2/filters/keywords/{keyword}"],
  ["DELETE", "/api/v2/filters/{filter}"],
  ["GET", "/api/v1/scheduled_statuses"],
  ["GET", "/api/v1/scheduled_statuses/{none}"],
  ["PUT", "/api/v1/scheduled_statuses/{none}"],
  ["DELETE", "/api/v1/scheduled_statuses/{none}"],
  ["GET", "/api/v1/suggestions"],
  ["GET", "/api/v2/suggestions"],
  ["DELETE", "/api/v1/suggestions/{account}"],
  ["GET", "/api/v1/trends"],
  ["GET", "/api/v1/trends/tags"],
  ["GET", "/api/v1/trends/statuses"],
  ["GET", "/api/v1/trends/links"],
  ["GET", "/api/v1/announcements"],
  ["POST", "/api/v1/announcements/{none}/dismiss"],
  ["PUT", "/api/v1/announcements/{none}/reactions/{emoji}"],
  ["DELETE", "/api/v1/announcements/{none}/reactions/{emoji}"],
  ["POST", "/api/v1/reports"],
  ["GET", "/api/v1/push/subscription"],
  ["POST", "/api/v1/push/subscription"],
  ["PUT", "/api/v1/push/subscription"],
  ["DELETE", "/api/v1/push/subscription"],
  ["POST", "/api/v1/emails/confirmations"],
  ["GET", "/api/v1/emails/check_confirmation"],
  ["GET", "/api/v1/annual_reports"],
  ["GET", "/api/v1/annual_reports/{year}"],
  ["GET", "/api/v1/annual_reports/{year}/state"],
  ["POST", "/api/v1/annual_reports/{year}/read"],
  ["POST", "/api/v1/annual_reports/{year}/generate"],
];

const STREAMING = ["user", "user/notification", "public", "public/local", "public/remote", "hashtag", "hashtag/local", "list", "direct"];

/** Mastodon's own 404s, or not done in Woolly yet (the report of issue 8 says which). */
const NOT_ROUTED: Record<string, string> = {
  "GET /api/v1/timelines/direct": "removed by Mastodon in 3.0 (answers 404 there too); conversations replace it",
  "GET /api/v1/accounts/{}/collections": "Collections (Mastodon 4.6) not implemented yet",
  "GET /api/v1/accounts/{}/in_collections": "Collections (Mastodon 4.6) not implemented yet",
  "POST /api/v1/collections": "Collections (Mastodon 4.6) not implemented yet",
  "GET /api/v1/collections/{}": "Collections (Mastodon 4.6) not implemented yet",
  "PATCH /api/v1/collections/{}": "Collections (Mastodon 4.6) not implemented yet",
  "DELETE /api/v1/collections/{}": "Collections (Mastodon 4.6) not implemented yet",
  "POST /api/v1/collections/{}/items": "Collections (Mastodon 4.6) not implemented yet",
  "DELETE /api/v1/collections/{}/items/{}": "Collections (Mastodon 4.6) not implemented yet",
  "POST /api/v1/collections/{}/items/{}/revoke": "Collections (Mastodon 4.6) not implemented yet",
  "PUT /api/v1/statuses/{}/interaction_policy": "quote policies per status (4.5) need quote posts, not implemented yet",
  "GET /api/v1_alpha/async_refreshes/{}": "Woolly starts no async refreshes; Mastodon answers 404 for unknown ids",
};

const normalise = (method: string, path: string) => `${method} ${path.split("?")[0]!.replace(/\{[^}]+\}|:[A-Za-z_]+/g, "{}")}`;

let context: TestContext;
let app: ReturnType<typeof buildWebApp>;
const call = inProcessApi(() => app);
let token: string;
const ids: Record<string, string> = {};

async function ok(method: Method, path: string, json?: unknown) {
  const response = await call(method, path, { token, json });
  expect(response.status, `${method} ${path}: ${JSON.stringify(response.json)}`).toBe(200);
  return response.json;
}

beforeAll(async () => {
  context = await testContext();
  app = buildWebApp(context);
  token = (await makeTestUser(context, "ep_cov_a", { scopes: "read write follow push profile" })).token!;
  ids.account = (await makeTestUser(context, "ep_cov_b")).account.id;
  const status = await ok("POST", "/api/v1/statuses", { status: "coverage #epcov", poll: { options: ["yes", "no"], expires_in: 3600 } });
  ids.status = status.id;
  ids.statusUrl = encodeURIComponent(status.url);
  ids.poll = status.poll.id;
  ids.list = (await ok("POST", "/api/v1/lists", { title: "coverage" })).id;
  const filter = await ok("POST", "/api/v2/filters", { title: "coverage", context: ["home"], keywords_attributes: [{ keyword: "epcov" }] });
  ids.filter = filter.id;
  ids.keyword = filter.keywords[0].id;
  ids.none = "9000000000000000001";
  Object.assign(ids, { tag: "epcov", year: "2025", group: `ungrouped-${ids.none}`, emoji: encodeURIComponent("👍"), date: "2025-01-01", version: "2.0" });
});
afterAll(() => context.close());

const fill = (path: string) => path.replace(/\{(\w+)\}/g, (_, key: string) => ids[key] ?? `{${key}}`);

describe("every Mastodon client route exists", () => {
  test("the route table has each one", () => {
    const table = new Set(((app as any).routes as { method: string; path: string }[]).map((r) => normalise(r.method, r.path)));
    const missing = ROUTES.map(([method, path]) => normalise(method, path)).filter((key) => !table.has(key));
    expect(missing).toEqual([]);
  });

  test("each answers from a real route with a valid token and real ids (a 404 is a missing record, never a missing route)", async () => {
    // GETs first and deletions last, so the ids stay real for as long as possible.
    const order: Method[] = ["GET", "PATCH", "PUT", "POST", "DELETE"];
    const sorted = [...ROUTES].sort((a, b) => order.indexOf(a[0]) - order.indexOf(b[0]));
    const problems: string[] = [];
    // The detector itself: a path no route declares must count as unrouted.
    const unknown = await call("GET", "/api/v1/no_such_route", { token });
    expect([unknown.status, unknown.headers.get("vary")]).toEqual([404, null]);
    for (const [method, path, expected] of sorted) {
      const response = await call(method, fill(path), { token, json: method === "GET" || method === "DELETE" ? undefined : {} });
      const routed = response.status !== 404 || response.headers.get("vary") !== null;
      const wrong = expected === undefined ? !routed || response.status >= 500 : response.status !== expected;
      if (wrong) problems.push(`${method} ${path} → ${response.status} ${JSON.stringify(response.json).slice(0, 120)}`);
    }
    expect(problems).toEqual([]);
  });

  test("the streaming role serves every streaming path", () => {
    for (const path of STREAMING) expect(streamFromPath(`/${path}`, false), path).toBeDefined();
  });

  test("every path of the Mastodon OpenAPI file is audited here", async () => {
    const schema = (await Bun.file(SCHEMA_PATH).json()) as { paths: Record<string, Record<string, unknown>> };
    const audited = new Set([
      ...ROUTES.map(([method, path]) => normalise(method, path)),
      ...STREAMING.map((path) => `GET /api/v1/streaming/${path}`),
      "GET /api/v1/streaming/health",
      ...Object.keys(NOT_ROUTED),
    ]);
    const unaudited: string[] = [];
    for (const [path, operations] of Object.entries(schema.paths)) {
      for (const method of Object.keys(operations)) {
        if (!["get", "post", "put", "patch", "delete"].includes(method)) continue;
        const key = normalise(method.toUpperCase(), path);
        if (!audited.has(key)) unaudited.push(key);
      }
    }
    expect(unaudited).toEqual([]);
  });
});
