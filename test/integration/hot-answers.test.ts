/**
 * The fetch-burst fast path (src/activitypub/hot-answers.ts): a public face served within the last second is
 * answered again before routing — but never across faces, never after this process bumped an object version
 * (an edit, a delete, a profile change), never after a second, and never in AUTHORIZED_FETCH mode.
 */
import { afterAll, beforeAll, describe, expect, setSystemTime, test } from "bun:test";
import { answerFromHot, servePublicFace } from "../../src/activitypub/hot-answers";
import { buildWebApp } from "../../src/api/app";
import { createLocalAccount, findLocalAccount } from "../../src/features/accounts/service";
import { bumpObjectVersion } from "../../src/features/federation/outbound-versions";
import { postStatus } from "../../src/features/statuses/service";
import { testContext, type TestContext } from "../helpers/context";

let context: TestContext;
let app: ReturnType<typeof buildWebApp>;
let statusPath: string;
const base = "http://localhost:3000";
const AP = { accept: "application/activity+json" };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

beforeAll(async () => {
  context = await testContext({ LOCAL_DOMAIN: "localhost:3000", LOCAL_HTTPS: "false" });
  app = buildWebApp(context);
  await createLocalAccount(context.sql, context.config, { username: "hot_hana", email: "hot_hana@example.com", password: "correct horse battery", confirmed: true });
  const author = await findLocalAccount(context.sql, "hot_hana");
  const { statusId } = await postStatus(context, author, { status: "first words", visibility: "public" });
  statusPath = `/@hot_hana/${statusId}`;
});

afterAll(async () => {
  setSystemTime();
  await context.close();
});

const get = (path: string, headers: Record<string, string> = {}) => app.handle(new Request(`${base}${path}`, { headers }));

/** What a status's rendering would show after an edit, written straight to the row (no version bump). */
async function rewrite(content: string) {
  await context.sql`update statuses set content = ${content}, updated_at = now() where id = ${statusPath.split("/")[2]!}`;
}

describe("answers served within the last second", () => {
  test("a repeat is the same answer with its own request id, per face", async () => {
    const first = await get(statusPath, AP);
    const again = await get(statusPath, AP);
    expect(first.status).toBe(200);
    expect(again.status).toBe(200);
    expect(await again.text()).toBe(await first.text());
    expect(again.headers.get("content-type")).toStartWith("application/activity+json");
    expect(again.headers.get("vary")).toBe("Accept");
    expect(again.headers.get("cache-control")).toBe("public, max-age=180");
    expect(again.headers.get("x-request-id")).toMatch(UUID);
    expect(again.headers.get("x-request-id")).not.toBe(first.headers.get("x-request-id"));
    // The same path asked for as HTML is the page, not the JSON remembered a moment ago.
    const page = await get(statusPath, { accept: "text/html" });
    expect(page.headers.get("content-type")).toStartWith("text/html");
    expect(await page.text()).toContain("first words");
  });

  test("a bumped object version (edit, delete, profile change) is seen at once", async () => {
    await get(statusPath, AP);
    await rewrite("<p>second words</p>");
    await bumpObjectVersion(context, "hot_hana");
    const after = (await (await get(statusPath, AP)).json()) as { content: string };
    expect(after.content).toBe("<p>second words</p>");
  });

  test("nothing is reused after a second, or for another path, method or query", async () => {
    const request = (path = statusPath, init: RequestInit = { headers: AP }) => new Request(`${base}${path}`, init);
    await servePublicFace(context, request(), "json", async () => ({ status: 200, contentType: "application/activity+json", body: '{"v":1}' }));
    expect(await answerFromHot(context, request())?.text()).toBe('{"v":1}');
    expect(answerFromHot(context, request(`${statusPath}?x=1`))).toBeUndefined();
    expect(answerFromHot(context, request(statusPath, { method: "HEAD", headers: AP }))).toBeUndefined();
    setSystemTime(new Date(Date.now() + 1500));
    expect(answerFromHot(context, request())).toBeUndefined();
    setSystemTime();
  });

  test("a 404 is never remembered: a post that appears a second later is served", async () => {
    const missing = (path: string) => new Request(`${base}${path}`, { headers: AP });
    await servePublicFace(context, missing("/@hot_hana/1"), "json", async () => ({ status: 404, contentType: "application/json", body: "{}" }));
    expect(answerFromHot(context, missing("/@hot_hana/1"))).toBeUndefined();
  });
});

describe("AUTHORIZED_FETCH", () => {
  test("answers depend on the signer: none is remembered, an unsigned fetch stays refused", async () => {
    const secure = await testContext({ LOCAL_DOMAIN: "localhost:3000", LOCAL_HTTPS: "false", AUTHORIZED_FETCH: "true" });
    try {
      const request = () => new Request(`${base}${statusPath}`, { headers: AP });
      await servePublicFace(secure, request(), "json", async () => ({ status: 200, contentType: "application/activity+json", body: '{"v":1}' }));
      expect(answerFromHot(secure, request())).toBeUndefined();
      const secureApp = buildWebApp(secure);
      for (let i = 0; i < 2; i++) expect((await secureApp.handle(request())).status).toBe(401);
    } finally {
      await secure.close();
    }
  });
});
