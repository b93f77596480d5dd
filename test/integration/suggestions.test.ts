/**
 * Follow suggestions: friends of friends first, then popular local accounts; only discoverable accounts;
 * never the viewer, someone already followed, requested, blocked (either way) or muted; a dismissed
 * suggestion stays gone. Other test files share the database, so assertions look at this file's accounts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createRestAPIClient } from "masto";
import generator from "megalodon";
import { buildWebApp } from "../../src/api/app";
import { inProcessApi } from "../helpers/api";
import { testContext, type TestContext } from "../helpers/context";
import { expectMatchesSchema } from "../helpers/openapi";
import { makeTestUser } from "../helpers/users";

let context: TestContext;
let app: ReturnType<typeof buildWebApp>;
const call = inProcessApi(() => app);
const users: Record<string, { id: string; token: string }> = {};

async function make(name: string, discoverable: boolean) {
  const { account, token } = await makeTestUser(context, `se_sg_${name}`, { scopes: "read write follow" });
  users[name] = { id: account.id, token: token! };
  expect((await call("PATCH", "/api/v1/accounts/update_credentials", { token: token!, json: { discoverable } })).status).toBe(200);
}

const follow = async (who: string, whom: string) =>
  expect((await call("POST", `/api/v1/accounts/${users[whom]!.id}/follow`, { token: users[who]!.token })).status).toBe(200);

type Suggestion = { source: string; sources: string[]; account: { id: string; username: string } };
async function suggested(who: string, query = "?limit=80"): Promise<Suggestion[]> {
  const response = await call("GET", `/api/v2/suggestions${query}`, { token: users[who]!.token });
  expect(response.status).toBe(200);
  return response.json;
}
const names = (list: Suggestion[]) => list.map((s) => s.account.username);

beforeAll(async () => {
  context = await testContext();
  app = buildWebApp(context);
  for (const name of ["me", "friend", "fof", "fof2", "hidden", "pop", "fan1", "fan2", "blocked", "blocker", "muted"]) {
    await make(name, name !== "hidden");
  }
  await follow("me", "friend");
  await follow("friend", "fof");
  await follow("friend", "fof2");
  await follow("friend", "hidden");
  await follow("friend", "blocked");
  await follow("friend", "blocker");
  await follow("friend", "muted");
  await follow("fan1", "fof2");
  await follow("fan1", "pop");
  await follow("fan2", "pop");
  expect((await call("POST", `/api/v1/accounts/${users.blocked!.id}/block`, { token: users.me!.token })).status).toBe(200);
  expect((await call("POST", `/api/v1/accounts/${users.me!.id}/block`, { token: users.blocker!.token })).status).toBe(200);
  expect((await call("POST", `/api/v1/accounts/${users.muted!.id}/mute`, { token: users.me!.token })).status).toBe(200);
});

afterAll(async () => {
  await context.close();
});

describe("suggestions", () => {
  test("friends of friends first, then popular local accounts, in Mastodon's Suggestion shape", async () => {
    const list = await suggested("me");
    expectMatchesSchema(list, { type: "array", items: { $ref: "#/components/schemas/Suggestion" } });
    const mine = names(list).filter((n) => n.startsWith("se_sg_"));
    // friend follows fof and fof2; fof2 has one more follower (fan1), so it comes first.
    expect(mine.slice(0, 2)).toEqual(["se_sg_fof2", "se_sg_fof"]);
    const fof2 = list.find((s) => s.account.username === "se_sg_fof2")!;
    expect(fof2.sources[0]).toBe("friends_of_friends");
    expect(fof2.source).toBe("past_interactions");
    // pop (two followers, nobody the viewer follows among them) is suggested as a popular local account
    const pop = list.find((s) => s.account.username === "se_sg_pop");
    expect(pop?.sources).toEqual(["most_followed"]);
    expect(pop?.source).toBe("global");
    expect(mine.indexOf("se_sg_pop")).toBeGreaterThan(mine.indexOf("se_sg_fof"));
  });

  test("never the viewer, followed, hidden, blocked either way or muted accounts", async () => {
    const mine = names(await suggested("me"));
    for (const n of ["me", "friend", "hidden", "blocked", "blocker", "muted"]) expect(mine).not.toContain(`se_sg_${n}`);
    // the blocker does not get its victim suggested either
    expect(names(await suggested("blocker"))).not.toContain("se_sg_me");
  });

  test("a dismissed suggestion stays gone; v1 lists accounts", async () => {
    expect((await call("DELETE", `/api/v1/suggestions/${users.fof!.id}`, { token: users.me!.token })).json).toEqual({});
    expect((await call("DELETE", `/api/v1/suggestions/${users.fof!.id}`, { token: users.me!.token })).status).toBe(200);
    expect(names(await suggested("me"))).not.toContain("se_sg_fof");
    const v1 = await call("GET", "/api/v1/suggestions?limit=80", { token: users.me!.token });
    expectMatchesSchema(v1.json, { type: "array", items: { $ref: "#/components/schemas/Account" } });
    expect(v1.json.map((a: { username: string }) => a.username)).toContain("se_sg_fof2");
    expect(v1.json.map((a: { username: string }) => a.username)).not.toContain("se_sg_fof");
  });

  test("bad input and no user", async () => {
    expect((await call("GET", "/api/v2/suggestions")).status).toBe(401);
    expect((await call("GET", "/api/v2/suggestions?limit=-1", { token: users.me!.token })).status).toBe(400);
    expect((await call("GET", "/api/v2/suggestions?limit=1000", { token: users.me!.token })).json.length).toBeLessThanOrEqual(80);
    expect((await suggested("me", "?limit=1")).length).toBe(1);
    expect((await call("DELETE", "/api/v1/suggestions/abc", { token: users.me!.token })).status).toBe(404);
    expect((await call("DELETE", "/api/v1/suggestions/99999999999", { token: users.me!.token })).status).toBe(404);
  });

  test("masto.js and megalodon", async () => {
    const server = buildWebApp(context).listen({ port: 0, hostname: "127.0.0.1" });
    try {
      const url = `http://127.0.0.1:${server.server!.port}`;
      const masto = createRestAPIClient({ url, accessToken: users.me!.token });
      const list = await masto.v2.suggestions.list({ limit: 80 });
      expect(list.map((s) => s.account.username)).toContain("se_sg_fof2");
      // masto's typings want an argument for remove(); the method takes none.
      await (masto.v1.suggestions.$select(users.fof2!.id).remove as unknown as () => Promise<void>)();
      const megalodon = generator("mastodon", url, users.me!.token);
      const v1 = await megalodon.getSuggestions(80);
      expect(v1.data.map((a) => a.username)).not.toContain("se_sg_fof2");
      expect(v1.data.map((a) => a.username)).toContain("se_sg_pop");
    } finally {
      server.stop(true);
    }
  });
});
