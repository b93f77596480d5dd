/**
 * Announcements: the operator CLI (`woolly admin announcements create|list|delete`, a real child process)
 * creates and deletes them; the API lists the active ones with reactions and `read`, dismisses them and takes
 * emoji reactions (masto.js and megalodon); the `user` stream hears announcement, announcement.reaction and
 * announcement.delete. Usernames start with `ca_a`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createRestAPIClient } from "masto";
import generator from "megalodon";
import { buildWebApp } from "../../src/api/app";
import { renderAnnouncement } from "../../src/api/entities/announcement";
import type { LocalAccountRow } from "../../src/features/accounts/service";
import { announcementsChannel, createAnnouncement } from "../../src/features/announcements/service";
import { buildStreamingApp, createStreamingHub } from "../../src/streaming/app";
import { runWoolly } from "../helpers/cli";
import { inProcessApi } from "../helpers/api";
import { testContext, type TestContext } from "../helpers/context";
import { arrayOf, expectMatchesSchema } from "../helpers/openapi";
import { makeTestUser } from "../helpers/users";

let context: TestContext;
let app: ReturnType<typeof buildWebApp>;
const call = inProcessApi(() => app);
let counter = 0;
type User = LocalAccountRow & { token: string };

async function user(name: string): Promise<User> {
  const username = `ca_a${name}_${++counter}_${Date.now().toString(36)}`;
  const { account, token } = await makeTestUser(context, username, { scopes: "read write" });
  return { ...account, token: token! };
}

const as = (who: { token: string }) => ({
  get: (path: string) => call("GET", path, { token: who.token }),
  post: (path: string, json: unknown = {}) => call("POST", path, { token: who.token, json }),
  put: (path: string) => call("PUT", path, { token: who.token }),
  del: (path: string) => call("DELETE", path, { token: who.token }),
});

type Announcement = { id: string; content: string; read?: boolean; reactions: { name: string; count: number; me?: boolean }[] };
const mine = async (who: User, ids: string[], query = "") => ((await as(who).get(`/api/v1/announcements${query}`)).json as Announcement[]).filter((a) => ids.includes(a.id));

beforeAll(async () => {
  context = await testContext();
  app = buildWebApp(context);
});

afterAll(async () => {
  await context.close();
});

describe("announcements", () => {
  test("the CLI creates, lists and deletes; bad input exits 2", async () => {
    const created = await runWoolly(["admin", "announcements", "create", "Maintenance tonight, see https://status.example", "--ends-at", "2099-01-01T00:00:00Z", "--json"]);
    expect(created.stderr).toBe("");
    expect(created.code).toBe(0);
    const entity = JSON.parse(created.stdout) as Announcement & { ends_at: string };
    expectMatchesSchema(entity, "Announcement");
    expect(entity.content).toContain("Maintenance tonight");
    expect(entity.content).toContain('href="https://status.example"');
    const reader = await user("cli");
    expect((await mine(reader, [entity.id])).map((a) => a.id)).toEqual([entity.id]);

    const listed = await runWoolly(["admin", "announcements", "list"]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(entity.id);

    expect((await runWoolly(["admin", "announcements", "create", "   "])).code).toBe(2);
    expect((await runWoolly(["admin", "announcements", "create", "x", "--ends-at", "tomorrowish"])).code).toBe(2);
    expect((await runWoolly(["admin", "announcements", "create", "x", "--starts-at", "2099-01-02T00:00:00Z", "--ends-at", "2099-01-01T00:00:00Z"])).code).toBe(2);

    const deleted = await runWoolly(["admin", "announcements", "delete", entity.id]);
    expect(deleted.code).toBe(0);
    expect(await mine(reader, [entity.id])).toEqual([]);
    expect((await runWoolly(["admin", "announcements", "delete", entity.id])).code).toBe(2);
  }, 60_000);

  test("list, dismiss (read), reactions with counts and `me`; ended ones hidden; Mastodon's errors", async () => {
    const deps = { sql: context.sql, redis: context.redis, config: context.config };
    const a = await createAnnouncement(deps, { text: "Welcome!" }, (r) => renderAnnouncement(r));
    const ended = await createAnnouncement(deps, { text: "Over", endsAt: new Date(Date.now() + 3600_000) }, (r) => renderAnnouncement(r));
    const alice = await user("alice");
    const bob = await user("bob");
    const ids = [a.id, ended.id];

    const list = (await as(alice).get("/api/v1/announcements")).json;
    expectMatchesSchema(list, arrayOf("Announcement"));
    expect((await mine(alice, ids)).map((x) => [x.id, x.read])).toEqual([[ended.id, false], [a.id, false]]);

    // Reactions through masto.js and megalodon.
    const base = buildWebApp(context).listen({ port: 0, hostname: "127.0.0.1" });
    try {
      const url = `http://127.0.0.1:${base.server!.port}`;
      await createRestAPIClient({ url, accessToken: alice.token }).v1.announcements.$select(a.id).reactions.$select("🎉").update();
      await generator("mastodon", url, bob.token).addReactionToAnnouncement(a.id, "🎉");
      await generator("mastodon", url, bob.token).addReactionToAnnouncement(a.id, "👍🏽");
      await createRestAPIClient({ url, accessToken: alice.token }).v1.announcements.$select(a.id).dismiss();
    } finally {
      await base.stop(true);
    }
    const [afterAlice] = await mine(alice, [a.id], "?with_dismissed=true");
    expect(afterAlice!.read).toBe(true);
    expect(afterAlice!.reactions).toEqual([
      { name: "🎉", count: 2, me: true, url: null, static_url: null },
      { name: "👍🏽", count: 1, me: false, url: null, static_url: null },
    ] as never);
    // Dismissed ones leave the default list.
    expect(await mine(alice, [a.id])).toEqual([]);
    expect((await as(bob).del(`/api/v1/announcements/${a.id}/reactions/${encodeURIComponent("🎉")}`)).status).toBe(200);
    expect((await mine(bob, [a.id]))[0]!.reactions.map((r) => [r.name, r.count, r.me])).toEqual([["🎉", 1, false], ["👍🏽", 1, true]]);

    // Not an emoji, too many different ones, unknown or malformed ids.
    expect((await as(bob).put(`/api/v1/announcements/${a.id}/reactions/%F0%9F`)).status).toBe(422);
    for (const name of ["hello", "1", "🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉🎉"]) {
      const r = await as(bob).put(`/api/v1/announcements/${a.id}/reactions/${encodeURIComponent(name)}`);
      expect([name, r.status, r.json.error]).toEqual([name, 422, "Validation failed: Name is not a recognized emoji"]);
    }
    for (const name of ["😀", "😁", "😂", "🤣", "😃", "😄"]) expect((await as(bob).put(`/api/v1/announcements/${a.id}/reactions/${encodeURIComponent(name)}`)).status).toBe(200);
    const tooMany = await as(bob).put(`/api/v1/announcements/${a.id}/reactions/${encodeURIComponent("😅")}`);
    expect([tooMany.status, tooMany.json.error]).toEqual([422, "Validation failed: Maximum number of different reactions reached"]);
    expect((await as(bob).post("/api/v1/announcements/999999/dismiss")).status).toBe(404);
    expect((await as(bob).post("/api/v1/announcements/abc/dismiss")).status).toBe(404);
    expect((await call("GET", "/api/v1/announcements")).status).toBe(401);

    await context.sql`update announcements set ends_at = now() - interval '1 second' where id = ${ended.id}`;
    expect((await mine(bob, ids)).map((x) => x.id)).toEqual([a.id]);
    expect((await as(bob).post(`/api/v1/announcements/${ended.id}/dismiss`)).status).toBe(404);
  });

  test("the user stream hears announcement, announcement.reaction and announcement.delete", async () => {
    const hub = createStreamingHub(context);
    const streaming = buildStreamingApp(context, hub).listen({ hostname: "127.0.0.1", port: 0 });
    try {
      const reader = await user("stream");
      const frames: { stream: string[]; event: string; payload: string }[] = [];
      const ws = new WebSocket(`ws://127.0.0.1:${streaming.server!.port}/api/v1/streaming?access_token=${reader.token}&stream=user`);
      ws.addEventListener("message", (event) => frames.push(JSON.parse(String(event.data))));
      await new Promise<void>((resolve, reject) => {
        ws.addEventListener("open", () => resolve());
        ws.addEventListener("error", () => reject(new Error("WebSocket failed")));
      });
      const deadline = Date.now() + 3000;
      while (hub.subscribers(announcementsChannel(context.config.redis.namespace)) < 1) {
        if (Date.now() > deadline) throw new Error("not subscribed");
        await Bun.sleep(10);
      }
      await hub.settled();
      const deps = { sql: context.sql, redis: context.redis, config: context.config };
      const row = await createAnnouncement(deps, { text: "Live!" }, (r) => renderAnnouncement(r));
      expect((await as(reader).put(`/api/v1/announcements/${row.id}/reactions/${encodeURIComponent("🎉")}`)).status).toBe(200);
      const del = await runWoolly(["admin", "announcements", "delete", row.id]);
      expect(del.code).toBe(0);
      const until = Date.now() + 5000;
      while (!frames.some((f) => f.event === "announcement.delete") && Date.now() < until) await Bun.sleep(20);
      const ours = frames.filter((f) => f.event.startsWith("announcement"));
      expect(ours.map((f) => [f.stream, f.event])).toEqual([
        [["user"], "announcement"],
        [["user"], "announcement.reaction"],
        [["user"], "announcement.delete"],
      ]);
      expectMatchesSchema(JSON.parse(ours[0]!.payload), "Announcement");
      expect(JSON.parse(ours[1]!.payload)).toEqual({ name: "🎉", count: 1, announcement_id: row.id });
      expect(ours[2]!.payload).toBe(row.id);
      ws.close();
    } finally {
      await hub.close();
      streaming.server?.stop(true);
    }
  }, 60_000);
});
