/**
 * Link preview cards end to end against a loopback origin (allowed by ALLOWED_PRIVATE_ADDRESSES, no fetch
 * delay): posts go through the real statuses service, `default` and `pull` workers (on queues of this file's
 * own) run the card jobs, and the origin counts its requests. Covers: an OpenGraph page → Status.card (checked
 * against Mastodon's schemas), the stream's status.update, 50 posts linking one URL → one fetch, windows-1251
 * pages, oEmbed, redirects, edits, the per-domain rate, the origin server's federated card, and the pages
 * that must give no card without crashing: oversized, slow, redirect to a private address, not HTML, 404.
 * Card images go through our media proxy (/media_proxy/cards/…): nothing stored before a view, one fetch for
 * many concurrent first views, a card-sized preview with a blurhash, counted in the remote cache budget.
 * Usernames start with `cb_card` (and `m2_`).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildWebApp } from "../../src/api/app";
import { renderCard } from "../../src/api/entities/preview-card";
import type { LocalAccountRow } from "../../src/features/accounts/service";
import { attachFederatedCard, cardsForStatuses, detachCard, DOMAIN_FETCHES_PER_MINUTE, fetchCardFor, planCard } from "../../src/features/cards/service";
import { postStatus } from "../../src/features/statuses/service";
import { homeChannel } from "../../src/features/streaming/channels";
import { createRedis, waitForRedis } from "../../src/infra/redis";
import { startWorkers, type RunningWorkers } from "../../src/infra/queues/worker";
import { jobRegistry } from "../../src/jobs";
import { evictRemoteCache } from "../../src/features/media/cache";
import { loadSharp } from "../../src/infra/sharp";
import { inProcessApi } from "../helpers/api";
import { testContext, type TestContext } from "../helpers/context";
import { expectMatchesSchema } from "../helpers/openapi";
import { makeTestUser } from "../helpers/users";

let context: TestContext;
let app: ReturnType<typeof buildWebApp>;
let workers: RunningWorkers;
let origin: ReturnType<typeof Bun.serve>;
let author: LocalAccountRow & { token: string };
const call = inProcessApi(() => app);
// Queues of our own (the database is the run's): our workers run only our jobs, and other files' workers never see ours.
const OWN_NAMESPACE = `${process.env.REDIS_NAMESPACE}_cb_cards`;
const hits = new Map<string, number>();
let mediaRoot: string;
/** The og:image: a 1600×1200 JPEG, made in beforeAll; the origin serves it slowly so first views overlap. */
let sheepJpeg: Uint8Array;

const OG_PAGE = `<!doctype html><html lang="en"><head><title>Fallback</title>
<meta property="og:title" content="The Woolly Times"><meta property="og:description" content="All the news about sheep.">
<meta property="og:image" content="/sheep.jpg"><meta property="og:site_name" content="Times"><meta property="og:type" content="article">
</head><body>hello</body></html>`;

const cp1251 = (text: string) => new Uint8Array([...text].map((ch) => (ch >= "А" && ch <= "я" ? ch.charCodeAt(0) - 0x410 + 0xc0 : ch.charCodeAt(0))));

function startOrigin() {
  return Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 30,
    async fetch(request) {
      const path = new URL(request.url).pathname;
      hits.set(path, (hits.get(path) ?? 0) + 1);
      const html = (body: string, headers: Record<string, string> = {}) => new Response(body, { headers: { "content-type": "text/html; charset=utf-8", ...headers } });
      if (path === "/sheep.jpg" || path === "/sheep2.jpg") {
        await Bun.sleep(200);
        return new Response(sheepJpeg, { headers: { "content-type": "image/jpeg" } });
      }
      if (path === "/notimage.jpg") return new Response("<html>not an image</html>".repeat(20), { headers: { "content-type": "image/jpeg" } });
      if (path.startsWith("/og")) return html(OG_PAGE, { "cache-control": "public, max-age=7200" });
      if (path === "/popular") return html(OG_PAGE.replace("The Woolly Times", "Popular page"));
      if (path === "/ru") return new Response(cp1251(`<html><head><title>Новости</title><meta property="og:description" content="Привет мир"></head></html>`), { headers: { "content-type": "text/html; charset=windows-1251" } });
      if (path === "/ru-meta") return new Response(cp1251(`<html><head><meta charset="windows-1251"><title>Мир</title></head></html>`), { headers: { "content-type": "text/html" } });
      if (path === "/oembed-page") return html(`<title>Video page</title><link rel="alternate" type="application/json+oembed" href="/oembed.json">`);
      if (path === "/oembed.json") return Response.json({ type: "video", version: "1.0", title: "A video", author_name: "Shep", provider_name: "Tube", thumbnail_url: "https://cdn.example/t.jpg" });
      if (path === "/huge") return html(`<title>Huge</title>` + "x".repeat(1024 * 1024 + 100));
      if (path === "/huge-chunked") {
        // No Content-Length: the cap must bite while streaming.
        const chunk = new TextEncoder().encode("<p>" + "y".repeat(64 * 1024) + "</p>");
        let sent = 0;
        return new Response(new ReadableStream({ pull(c) { if (sent++ > 40) c.close(); else c.enqueue(chunk); } }), { headers: { "content-type": "text/html" } });
      }
      if (path === "/slow") {
        await Bun.sleep(8000);
        return html("<title>Too late</title>");
      }
      if (path === "/to-private") return new Response(null, { status: 302, headers: { location: "http://169.254.169.254/latest/meta-data" } });
      if (path === "/to-og") return new Response(null, { status: 301, headers: { location: "/og-redirected" } });
      if (path === "/json") return Response.json({ title: "not html" });
      if (path === "/missing") return new Response("gone", { status: 404 });
      return new Response("?", { status: 404 });
    },
  });
}

const base = () => `http://127.0.0.1:${origin.port}`;

async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, ms = 20_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (ok(value) || Date.now() > until) return value;
    await Bun.sleep(50);
  }
}

const post = async (text: string) => (await postStatus(context, author, { status: text })).statusId;

beforeAll(async () => {
  const sharp = await loadSharp();
  const pixels = new Uint8Array(1600 * 1200 * 3).map((_, i) => (i * 13 + (i >> 9)) % 251);
  sheepJpeg = new Uint8Array(await sharp(pixels, { raw: { width: 1600, height: 1200, channels: 3 } }).jpeg().toBuffer());
  mediaRoot = mkdtempSync(join(tmpdir(), "woolly-card-images-"));
  origin = startOrigin();
  context = await testContext({ ALLOWED_PRIVATE_ADDRESSES: "127.0.0.1/32", PREVIEW_CARD_MAX_DELAY: "0", REDIS_NAMESPACE: OWN_NAMESPACE, PAPERCLIP_ROOT_PATH: mediaRoot });
  app = buildWebApp(context);
  workers = startWorkers({ queues: ["default", "pull"], concurrency: 8, registry: jobRegistry, context, connection: context.bullConnection, prefix: context.bullPrefix });
  const made = await makeTestUser(context, "cb_card_author", { scopes: "read write" });
  author = { ...made.account, token: made.token! };
});

afterAll(async () => {
  await workers.close(5000);
  await context.close();
  origin.stop(true);
  rmSync(mediaRoot, { recursive: true, force: true });
});

describe("cards from an origin page", () => {
  test("an OpenGraph page becomes the status's card, in Mastodon's PreviewCard shape", async () => {
    const id = await post(`Read this: ${base()}/og#section`);
    const cards = await eventually(() => cardsForStatuses(context.sql, [id]), (m) => m.has(id));
    const row = cards.get(id)!;
    expect(row.image_url).toBe(`${base()}/sheep.jpg`);
    const card = renderCard(row, context.config.baseUrl);
    expectMatchesSchema(card, "PreviewCard");
    expect(card).toMatchObject({
      url: `${base()}/og`,
      title: "The Woolly Times",
      description: "All the news about sheep.",
      type: "link",
      provider_name: "Times",
      // Our proxy, not the origin: clients never contact the linked site.
      image: `${context.config.baseUrl}/media_proxy/cards/${row.id}/${row.image_token}`,
    });
    // Status.card, as clients read it.
    const status = await call("GET", `/api/v1/statuses/${id}`, { token: author.token });
    expect(status.status).toBe(200);
    expect(status.json.card).toEqual(card);
    expectMatchesSchema(status.json, "Status");
  });

  test("live clients hear a status.update when the card arrives", async () => {
    const listener = createRedis(context.config.redis, "app", "cb-card-listener");
    await waitForRedis(listener, 5000);
    const messages: { event: string; statusId: string }[] = [];
    try {
      await listener.subscribe(homeChannel(context.config.redis.namespace, author.id));
      listener.on("message", (_channel, text) => messages.push(JSON.parse(text)));
      const id = await post(`live ${base()}/og-live`);
      const heard = await eventually(async () => messages.filter((m) => m.statusId === id && m.event === "status.update"), (list) => list.length > 0);
      expect(heard.length).toBe(1);
    } finally {
      listener.disconnect();
    }
  });

  test("50 posts linking the same URL cause exactly one fetch of it, and every post gets the card", async () => {
    const ids = await Promise.all(Array.from({ length: 50 }, (_, i) => post(`post ${i} ${base()}/popular`)));
    const cards = await eventually(() => cardsForStatuses(context.sql, ids), (m) => m.size === ids.length, 45_000);
    expect(cards.size).toBe(50);
    expect(new Set([...cards.values()].map((c) => c.id)).size).toBe(1);
    expect(cards.get(ids[0]!)!.title).toBe("Popular page");
    expect(hits.get("/popular")).toBe(1);
    // A later post reuses the stored card without fetching.
    const later = await post(`again ${base()}/popular`);
    expect(await planCard(context, later)).toEqual({ action: "linked" });
    expect((await cardsForStatuses(context.sql, [later])).get(later)?.title).toBe("Popular page");
    expect(hits.get("/popular")).toBe(1);
  }, 60_000);

  test("windows-1251 pages decode right, from the header and from <meta charset>", async () => {
    const a = await post(`${base()}/ru`);
    const b = await post(`${base()}/ru-meta`);
    const cards = await eventually(() => cardsForStatuses(context.sql, [a, b]), (m) => m.size === 2);
    expect(cards.get(a)).toMatchObject({ title: "Новости", description: "Привет мир" });
    expect(cards.get(b)?.title).toBe("Мир");
    // Rendered before and after its card arrives: the cached rendering of the status is not stale. (A plain
    // row, so no worker job links the card before the first read.)
    const [row] = await context.sql<{ id: string }[]>`
      insert into statuses (account_id, content, uri) values (${author.id}, ${`<p><a href="${base()}/ru">ru</a></p>`}, ${"urn:test:" + crypto.randomUUID()})
      returning id`;
    expect((await call("GET", `/api/v1/statuses/${row!.id}`, { token: author.token })).json.card).toBeNull();
    expect(await planCard(context, row!.id)).toEqual({ action: "linked" });
    expect((await call("GET", `/api/v1/statuses/${row!.id}`, { token: author.token })).json.card.title).toBe("Новости");
  });

  test("oEmbed discovery (JSON) fills the card; redirects are followed", async () => {
    const a = await post(`${base()}/oembed-page`);
    const b = await post(`${base()}/to-og`);
    const cards = await eventually(() => cardsForStatuses(context.sql, [a, b]), (m) => m.size === 2);
    expect(cards.get(a)).toMatchObject({ type: "link", title: "A video", author_name: "Shep", provider_name: "Tube", image_url: "https://cdn.example/t.jpg" });
    // The card keeps the link as posted (what the reader clicks), not where it redirected to.
    expect(cards.get(b)).toMatchObject({ url: `${base()}/to-og`, title: "The Woolly Times" });
    expect(hits.get("/og-redirected")).toBe(1);
  });

  test("an edit that removes the link removes the card; one that changes it changes the card", async () => {
    const id = await post(`first ${base()}/og`);
    await eventually(() => cardsForStatuses(context.sql, [id]), (m) => m.size === 1);
    const edit = (status: string) => call("PUT", `/api/v1/statuses/${id}`, { token: author.token, json: { status } });
    expect((await edit(`now ${base()}/ru`)).status).toBe(200);
    const changed = await eventually(() => cardsForStatuses(context.sql, [id]), (m) => m.get(id)?.title === "Новости");
    expect(changed.get(id)?.title).toBe("Новости");
    expect((await edit("no link any more")).status).toBe(200);
    const gone = await eventually(() => cardsForStatuses(context.sql, [id]), (m) => m.size === 0);
    expect(gone.size).toBe(0);
  });

  test("mentions, hashtags and links to this instance get no card", async () => {
    const id = await post(`#sheep ${context.config.baseUrl}/@someone`);
    expect(await planCard(context, id)).toEqual({ action: "none" });
  });
});

describe("pages that give no card", () => {
  for (const [name, path] of [
    ["an oversized page (Content-Length)", "/huge"],
    ["an oversized page (streamed)", "/huge-chunked"],
    ["a redirect to a private address", "/to-private"],
    ["a JSON answer", "/json"],
    ["a 404", "/missing"],
  ] as const) {
    test(`${name}: no card, no crash, and the failure is remembered (no refetch)`, async () => {
      // The link is not in the text, so no worker job races this direct call for the URL's lock.
      const id = await post("bad page");
      expect(await fetchCardFor(context, id, `${base()}${path}`)).toBe("no_card");
      expect((await cardsForStatuses(context.sql, [id])).size).toBe(0);
      const before = hits.get(path) ?? 0;
      const again = await post(`bad again ${base()}${path}`);
      expect(await planCard(context, again)).toEqual({ action: "none" });
      expect(await fetchCardFor(context, again, `${base()}${path}`)).toBe("no_card");
      expect(hits.get(path) ?? 0).toBe(before);
    });
  }

  test("a slow page times out: no card", async () => {
    const id = await post("slow page");
    const started = Date.now();
    expect(await fetchCardFor(context, id, `${base()}/slow`)).toBe("no_card");
    expect(Date.now() - started).toBeLessThan(7500);
    expect((await cardsForStatuses(context.sql, [id])).size).toBe(0);
  }, 20_000);

  test("without the loopback allowance, the same page is never fetched", async () => {
    const strict = await testContext({ PREVIEW_CARD_MAX_DELAY: "0" });
    try {
      const id = await post("strict");
      expect(await fetchCardFor(strict, id, `${base()}/og-strict`)).toBe("no_card");
      expect(hits.get("/og-strict")).toBeUndefined();
    } finally {
      await strict.close();
    }
  });
});

test("fetches per linked domain are rate-limited: over the limit, the job is told to come back later, nothing is fetched", async () => {
  let refused: { path: string; outcome: unknown } | undefined;
  for (let i = 0; i < DOMAIN_FETCHES_PER_MINUTE * 2 + 2 && !refused; i++) {
    const path = `/og-rate-${i}`;
    const id = await post("rate");
    const outcome = await fetchCardFor(context, id, `${base()}${path}`);
    if (typeof outcome === "object") refused = { path, outcome };
  }
  expect(refused).toBeDefined();
  expect((refused!.outcome as { retryInMs: number }).retryInMs).toBeGreaterThan(0);
  expect(hits.get(refused!.path)).toBeUndefined();
});

test("card data from a federated post is used without fetching the page", async () => {
  const id = await post("a post whose card came from its origin server");
  expect(await attachFederatedCard(context, id, { url: `${base()}/fed-only`, title: "From the origin", description: "d", imageUrl: "javascript:x" })).toBe(true);
  const card = (await cardsForStatuses(context.sql, [id])).get(id)!;
  expect(card).toMatchObject({ title: "From the origin", image_url: null, source: "federated" });
  expect(hits.get("/fed-only")).toBeUndefined();
  // Even when the post's text links the page, the origin's card stands and nothing is fetched.
  // A plain row, as the inbox writes it before announcing it: no event yet, so no worker job races this.
  const [row] = await context.sql<{ id: string }[]>`
    insert into statuses (account_id, content, uri, local) values (${author.id}, ${`<p>see <a href="${base()}/fed-linked">link</a></p>`}, ${"urn:test:" + crypto.randomUUID()}, false)
    returning id`;
  const linking = row!.id;
  await attachFederatedCard(context, linking, { url: `${base()}/fed-linked`, title: "Origin's card" });
  expect(await planCard(context, linking)).toEqual({ action: "linked" });
  await Bun.sleep(300);
  expect(hits.get("/fed-linked")).toBeUndefined();
  // The post's own text has no link: the card still stands (the origin chose it), until its origin drops it.
  expect(await planCard(context, id)).toEqual({ action: "linked" });
  expect((await cardsForStatuses(context.sql, [id])).get(id)?.title).toBe("From the origin");
  await detachCard(context, id);
  expect((await cardsForStatuses(context.sql, [id])).size).toBe(0);
  expect(await attachFederatedCard(context, id, { url: "ftp://x", title: "t" })).toBe(false);
  expect(await attachFederatedCard(context, id, { title: 5 } as never)).toBe(false);
});

describe("card images through the media proxy", () => {
  const OG_IMAGE_PAGE = (image: string) => `/og-image-${image}`;
  const storedCardBytes = () => {
    const dir = join(mediaRoot, "cache", "preview_cards");
    if (!existsSync(dir)) return 0;
    return readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .reduce((sum, e) => sum + statSync(join(e.parentPath, e.name)).size, 0);
  };
  const view = (url: string) => app.handle(new Request(`http://localhost${new URL(url).pathname}`));

  beforeAll(async () => {
    // The rate-limit test above used up this minute's fetches for 127.0.0.1; these pages are a fresh start.
    const ns = context.config.redis.namespace;
    const spent = await context.redis.keys(`${ns ? `${ns}:` : ""}woolly:cards:domain:127.0.0.1:*`);
    if (spent.length > 0) await context.redis.del(...spent);
  });

  test("0 bytes before a view; 10 concurrent first views fetch the og:image once; a card-sized preview with a blurhash; the budget evicts it", async () => {
    const before = storedCardBytes();
    const id = await post(`m2 card ${base()}${OG_IMAGE_PAGE("a")}`);
    const cards = await eventually(() => cardsForStatuses(context.sql, [id]), (m) => m.has(id));
    const row = cards.get(id)!;
    const card = renderCard(row, context.config.baseUrl);
    expect(card.image).toStartWith(`${context.config.baseUrl}/media_proxy/cards/`);
    expect(card.blurhash).toBeNull();
    expect(storedCardBytes()).toBe(before);
    const sheepHitsBefore = hits.get("/sheep.jpg") ?? 0;

    const responses = await Promise.all(Array.from({ length: 10 }, () => view(card.image!)));
    const bodies = await Promise.all(responses.map((r) => r.arrayBuffer()));
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(responses[0]!.headers.get("content-type")).toBe("image/jpeg");
    expect(hits.get("/sheep.jpg")).toBe(sheepHitsBefore + 1);
    const sharp = await loadSharp();
    const meta = await sharp(new Uint8Array(bodies[0]!)).metadata();
    // 1600×1200 brought to Mastodon's card size class (640×360 pixels' worth), aspect kept.
    expect(meta.width! * meta.height!).toBeLessThanOrEqual(640 * 360);
    expect(Math.abs(meta.width! / meta.height! - 4 / 3)).toBeLessThan(0.02);
    expect(storedCardBytes()).toBeGreaterThan(before);

    // The status API now carries the blurhash (a fresh render), and still validates as Mastodon's.
    const [fresh] = (await cardsForStatuses(context.sql, [id])).values();
    const entity = renderCard(fresh!, context.config.baseUrl);
    expect(entity.blurhash).toMatch(/^[0-9A-Za-z#$%*+,\-.:;=?@[\]^_{|}~]{6,}$/);
    expectMatchesSchema(entity, "PreviewCard");

    // A later view is served from storage.
    const again = await view(card.image!);
    expect(again.status).toBe(200);
    await again.arrayBuffer();
    expect(hits.get("/sheep.jpg")).toBe(sheepHitsBefore + 1);

    // Remote cache: a budget of 1 byte evicts it (and the attachment copies, none here), and the next view refetches.
    const report = await evictRemoteCache(context, { maxBytes: 1 });
    expect(report.byBudget.count).toBeGreaterThanOrEqual(1);
    expect(storedCardBytes()).toBe(0);
    const refetched = await view(card.image!);
    expect(refetched.status).toBe(200);
    await refetched.arrayBuffer();
    expect(hits.get("/sheep.jpg")).toBe(sheepHitsBefore + 2);
  });

  test("a wrong token, garbage ids, a card without an image: 404 without a fetch; a non-image og:image: a clean 502, remembered", async () => {
    const id = await post(`m2 card2 ${base()}${OG_IMAGE_PAGE("b")}`);
    const row = (await eventually(() => cardsForStatuses(context.sql, [id]), (m) => m.has(id))).get(id)!;
    const url = renderCard(row, context.config.baseUrl).image!;
    const sheepHits = hits.get("/sheep.jpg") ?? 0;
    for (const path of [url.replace(row.image_token, "0".repeat(32)), `/media_proxy/cards/${row.id}/short`, "/media_proxy/cards/abc/" + row.image_token, "/media_proxy/cards/99999999999999999999/" + row.image_token]) {
      const response = await view(`http://x${new URL(path, "http://x").pathname}`);
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ error: "Record not found" });
    }
    expect(hits.get("/sheep.jpg") ?? 0).toBe(sheepHits);

    // The card's image changes to something that is not an image (as a refreshed page could).
    await context.sql`update preview_cards set image_url = ${`${base()}/notimage.jpg`} where id = ${row.id}`;
    const first = await view(url);
    expect(first.status).toBe(502);
    expect(((await first.json()) as { error: string }).error).toContain("not an image");
    const second = await view(url);
    expect(second.status).toBe(502);
    expect(hits.get("/notimage.jpg")).toBe(1);

    await context.sql`update preview_cards set image_url = null where id = ${row.id}`;
    expect((await view(url)).status).toBe(404);
  });
});
