/**
 * Discovery and actors through the real web app, in process: WebFinger (split domains), host-meta, NodeInfo,
 * the actor's two faces with content negotiation, the instance actor, collections, and the render cache.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { buildWebApp } from "../../src/api/app";
import { createLocalAccount, type LocalAccountRow } from "../../src/features/accounts/service";
import { renderCount } from "../../src/activitypub/render-cache";
import { testContext, type TestContext } from "../helpers/context";

let context: TestContext;
let app: ReturnType<typeof buildWebApp>;
let carl: LocalAccountRow;
const base = "https://social.fed-split.test";

beforeAll(async () => {
  // Split domains: handles on fed-split.test, everything else on social.fed-split.test.
  context = await testContext({ LOCAL_DOMAIN: "fed-split.test", WEB_DOMAIN: "social.fed-split.test", LOCAL_HTTPS: "true" });
  app = buildWebApp(context);
  const make = async (username: string) =>
    (await createLocalAccount(context.sql, context.config, { username, email: `${username}@example.com`, password: "correct horse battery", confirmed: true })).account;
  carl = await make("fed_carl");
  await make("fed_botty");
  await context.sql`update accounts set bot = true, display_name = 'Botty <3', note = 'I post <things>' where username = 'fed_botty'`;
  await make("fed_hidden");
  await context.sql`update accounts set hide_collections = true, followers_count = 3 where username = 'fed_hidden'`;
  await createLocalAccount(context.sql, context.config, { username: "fed_unconfirmed", email: "fed_unconfirmed@example.com", password: "correct horse battery" });
});

afterAll(async () => {
  await context.close();
});

async function get(path: string, headers: Record<string, string> = {}) {
  const response = await app.handle(new Request(`${base}${path}`, { headers }));
  const text = await response.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

const AP = { accept: "application/activity+json" };

describe("WebFinger", () => {
  test("acct: with the local domain, case-insensitive, and with the web domain", async () => {
    for (const resource of ["acct:fed_carl@fed-split.test", "acct:FED_CARL@FED-SPLIT.TEST", "fed_carl@social.fed-split.test", `${base}/users/fed_carl`, `${base}/@fed_carl`]) {
      const response = await get(`/.well-known/webfinger?resource=${encodeURIComponent(resource)}`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toStartWith("application/jrd+json");
      expect(response.headers.get("access-control-allow-origin")).toBe("*");
      expect(response.json.subject).toBe("acct:fed_carl@fed-split.test");
      expect(response.json.aliases).toEqual([`${base}/@fed_carl`, `${base}/users/fed_carl`]);
      expect(response.json.links).toContainEqual({ rel: "self", type: "application/activity+json", href: `${base}/users/fed_carl` });
      expect(response.json.links).toContainEqual({ rel: "http://webfinger.net/rel/profile-page", type: "text/html", href: `${base}/@fed_carl` });
    }
  });

  test("unknown → 404, missing or garbage → 400, unconfirmed → 404", async () => {
    expect((await get("/.well-known/webfinger?resource=acct:nobody@fed-split.test")).status).toBe(404);
    expect((await get("/.well-known/webfinger?resource=acct:fed_carl@elsewhere.example")).status).toBe(404);
    expect((await get("/.well-known/webfinger?resource=acct:fed_unconfirmed@fed-split.test")).status).toBe(404);
    expect((await get("/.well-known/webfinger")).status).toBe(400);
    expect((await get("/.well-known/webfinger?resource=%%%")).status).toBe(400);
    expect((await get("/.well-known/webfinger?resource=just-a-word")).status).toBe(400);
    expect((await get(`/.well-known/webfinger?resource=${"a".repeat(2000)}@fed-split.test`)).status).toBe(400);
  });

  test("the instance actor answers to the domain name", async () => {
    const response = await get("/.well-known/webfinger?resource=acct:fed-split.test@fed-split.test");
    expect(response.status).toBe(200);
    expect(response.json.links).toContainEqual({ rel: "self", type: "application/activity+json", href: `${base}/actor` });
  });
});

describe("host-meta and NodeInfo", () => {
  test("host-meta as XRD and as JSON", async () => {
    const xml = await get("/.well-known/host-meta");
    expect(xml.headers.get("content-type")).toStartWith("application/xrd+xml");
    expect(xml.text).toContain(`<Link rel="lrdd" template="${base}/.well-known/webfinger?resource={uri}"/>`);
    const json = await get("/.well-known/host-meta?format=json");
    expect(json.json).toEqual({ links: [{ rel: "lrdd", template: `${base}/.well-known/webfinger?resource={uri}` }] });
  });

  test("nodeinfo discovery, 2.0 and 2.1", async () => {
    const links = await get("/.well-known/nodeinfo");
    expect(links.json.links.map((l: { href: string }) => l.href)).toEqual([`${base}/nodeinfo/2.0`, `${base}/nodeinfo/2.1`]);
    for (const version of ["2.0", "2.1"]) {
      const info = await get(`/nodeinfo/${version}`);
      expect(info.status).toBe(200);
      expect(info.json.version).toBe(version);
      expect(info.json.software.name).toBe("woolly");
      expect(info.json.protocols).toEqual(["activitypub"]);
      expect(info.json.usage.users.total).toBeGreaterThanOrEqual(3);
      expect(typeof info.json.usage.users.activeMonth).toBe("number");
      expect(typeof info.json.usage.users.activeHalfyear).toBe("number");
      expect(typeof info.json.usage.localPosts).toBe("number");
      expect(typeof info.json.openRegistrations).toBe("boolean");
      expect(info.json.metadata.nodeName).toBe("Woolly");
    }
    expect((await get("/nodeinfo/9.9")).status).toBe(404);
  });
});

describe("actors", () => {
  test("one URL, two faces", async () => {
    for (const accept of ["application/activity+json", 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"']) {
      const response = await get("/users/fed_carl", { accept });
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toStartWith("application/activity+json");
      expect(response.headers.get("vary")).toBe("Accept");
      expect(response.headers.get("cache-control")).toBe("public, max-age=180");
      const actor = response.json;
      expect(actor["@context"][0]).toBe("https://www.w3.org/ns/activitystreams");
      expect(actor["@context"][1]).toBe("https://w3id.org/security/v1");
      expect(actor["@context"][2].toot).toBe("http://joinmastodon.org/ns#");
      expect(actor).toMatchObject({
        id: `${base}/users/fed_carl`,
        type: "Person",
        preferredUsername: "fed_carl",
        inbox: `${base}/users/fed_carl/inbox`,
        outbox: `${base}/users/fed_carl/outbox`,
        followers: `${base}/users/fed_carl/followers`,
        following: `${base}/users/fed_carl/following`,
        featured: `${base}/users/fed_carl/collections/featured`,
        featuredTags: `${base}/users/fed_carl/collections/tags`,
        url: `${base}/@fed_carl`,
        manuallyApprovesFollowers: false,
        memorial: false,
        tag: [],
        attachment: [],
        endpoints: { sharedInbox: `${base}/inbox` },
        publicKey: { id: `${base}/users/fed_carl#main-key`, owner: `${base}/users/fed_carl`, publicKeyPem: carl.public_key },
      });
      expect(actor.published).toMatch(/T00:00:00Z$/);
    }
    const html = await get("/users/fed_carl", { accept: "text/html" });
    expect(html.status).toBe(302);
    expect(html.headers.get("location")).toBe(`${base}/@fed_carl`);
    const page = await get("/@fed_carl", { accept: "text/html" });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toStartWith("text/html");
    expect(page.headers.get("vary")).toBe("Accept");
    expect(page.text).toContain(`<link rel="alternate" type="application/activity+json" href="${base}/users/fed_carl">`);
    expect((await get("/@fed_carl", AP)).json.id).toBe(`${base}/users/fed_carl`);
  });

  test("a bot is a Service; its text is escaped in the page", async () => {
    expect((await get("/users/fed_botty", AP)).json.type).toBe("Service");
    const page = await get("/@fed_botty");
    expect(page.text).toContain("Botty &lt;3");
    expect(page.text).not.toContain("<things>");
  });

  test("unknown and unconfirmed → 404", async () => {
    expect((await get("/users/nobody_here", AP)).status).toBe(404);
    expect((await get("/users/fed_unconfirmed", AP)).status).toBe(404);
    expect((await get("/@nobody_here")).status).toBe(404);
  });

  test("the instance actor is an Application with a stable key", async () => {
    const first = await get("/actor");
    expect(first.headers.get("content-type")).toStartWith("application/activity+json");
    expect(first.json).toMatchObject({ id: `${base}/actor`, type: "Application", inbox: `${base}/actor/inbox`, publicKey: { id: `${base}/actor#main-key`, owner: `${base}/actor` } });
    expect(first.json.publicKey.publicKeyPem).toStartWith("-----BEGIN PUBLIC KEY-----");
    const [row] = await context.sql<{ public_key: string }[]>`select public_key from instance_keys`;
    expect(row!.public_key).toBe(first.json.publicKey.publicKeyPem);
  });

  test("collections", async () => {
    const followers = await get("/users/fed_carl/followers", AP);
    expect(followers.json).toMatchObject({ id: `${base}/users/fed_carl/followers`, type: "OrderedCollection", totalItems: 0 });
    expect(followers.json.first.orderedItems).toEqual([]);
    expect((await get("/users/fed_carl/following", AP)).json.type).toBe("OrderedCollection");
    expect((await get("/users/fed_carl/outbox", AP)).json).toMatchObject({ type: "OrderedCollection", totalItems: 0 });
    expect((await get("/users/fed_carl/collections/featured", AP)).json).toMatchObject({ type: "OrderedCollection", totalItems: 0 });
    const hidden = await get("/users/fed_hidden/followers", AP);
    expect(hidden.json.totalItems).toBe(3);
    expect(hidden.json.first).toBeUndefined();
    expect((await get("/users/nobody_here/followers", AP)).status).toBe(404);
  });

  test("a burst of fetches costs one render per representation", async () => {
    const before = renderCount();
    const burst = await Promise.all(Array.from({ length: 50 }, (_, i) => get("/users/fed_carl/following", i % 2 ? AP : { accept: "application/ld+json" })));
    expect(burst.every((r) => r.status === 200)).toBe(true);
    const pages = await Promise.all(Array.from({ length: 20 }, () => get("/@fed_botty")));
    expect(pages.every((r) => r.status === 200)).toBe(true);
    // following was rendered once by the collections test already (cached); the HTML page once at most.
    expect(renderCount() - before).toBeLessThanOrEqual(1);
    const fresh = renderCount();
    await Promise.all(Array.from({ length: 30 }, () => get("/users/fed_botty/following", AP)));
    expect(renderCount() - fresh).toBe(1);
  });
});
