/**
 * The profile directory: discoverable accounts only, by latest post (active) or by creation (new), local
 * filter, offset paging, blocks respected. Other test files share the database, so assertions compare the
 * order of this file's accounts within the answer.
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
  const { account, token } = await makeTestUser(context, `se_dir_${name}`, { scopes: "read write follow" });
  users[name] = { id: account.id, token: token! };
  expect((await call("PATCH", "/api/v1/accounts/update_credentials", { token: token!, json: { discoverable } })).status).toBe(200);
}

const mine = (list: { username: string }[]) => list.map((a) => a.username).filter((n) => n.startsWith("se_dir_"));

async function listed(query: string, token?: string) {
  const response = await call("GET", `/api/v1/directory${query}`, { token });
  expect(response.status).toBe(200);
  return response.json;
}

beforeAll(async () => {
  context = await testContext();
  app = buildWebApp(context);
  await make("older", true);
  await make("newer", true);
  await make("hidden", false);
  await make("viewer", false);
  // older posts last: it is the most recently active
  expect((await call("POST", "/api/v1/statuses", { token: users.newer!.token, json: { status: "first" } })).status).toBe(200);
  expect((await call("POST", "/api/v1/statuses", { token: users.older!.token, json: { status: "second" } })).status).toBe(200);
});

afterAll(async () => {
  await context.close();
});

describe("directory", () => {
  test("discoverable accounts only, ordered by activity or by creation", async () => {
    const active = await listed("?limit=80&local=true");
    expectMatchesSchema(active, { type: "array", items: { $ref: "#/components/schemas/Account" } });
    expect(mine(active)).toEqual(["se_dir_older", "se_dir_newer"]);
    expect(mine(await listed("?limit=80&order=new"))).toEqual(["se_dir_newer", "se_dir_older"]);
  });

  test("offset pages, blocks are respected", async () => {
    const all = await listed("?limit=80&order=new");
    const page = await listed("?limit=1&offset=1&order=new");
    expect(page.map((a: { id: string }) => a.id)).toEqual([all[1].id]);
    expect((await call("POST", `/api/v1/accounts/${users.older!.id}/block`, { token: users.viewer!.token })).status).toBe(200);
    expect(mine(await listed("?limit=80", users.viewer!.token))).toEqual(["se_dir_newer"]);
    expect(mine(await listed("?limit=80"))).toEqual(["se_dir_older", "se_dir_newer"]);
  });

  test("bad input", async () => {
    expect((await call("GET", "/api/v1/directory?limit=-1")).status).toBe(400);
    expect((await call("GET", "/api/v1/directory?offset=-1")).status).toBe(400);
    expect((await call("GET", "/api/v1/directory?order=popular")).status).toBe(422);
    expect((await call("GET", "/api/v1/directory?local=maybe")).status).toBe(422);
  });

  test("masto.js and megalodon", async () => {
    const server = buildWebApp(context).listen({ port: 0, hostname: "127.0.0.1" });
    try {
      const masto = createRestAPIClient({ url: `http://127.0.0.1:${server.server!.port}` });
      const list = await masto.v1.directory.list({ order: "new", local: true, limit: 80 });
      expect(mine(list)).toEqual(["se_dir_newer", "se_dir_older"]);
      const megalodon = await generator("mastodon", `http://127.0.0.1:${server.server!.port}`).getInstanceDirectory({ order: "active", local: true, limit: 80 });
      expect(mine(megalodon.data)).toEqual(["se_dir_older", "se_dir_newer"]);
    } finally {
      server.stop(true);
    }
  });
});
