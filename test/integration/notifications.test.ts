/**
 * Notifications end to end: events from the API run through a real worker on the `default` queue (or the
 * subscriber job's handler directly, for statuses written as plain rows), the rules (never yourself, blocks,
 * mutes, muted conversations, the policy), the v1 list and its doors, v2 groups checked against Mastodon's
 * OpenAPI schema, unread counts against the markers, and markers' versioning.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createRestAPIClient } from "masto";
import { buildWebApp } from "../../src/api/app";
import type { LocalAccountRow } from "../../src/features/accounts/service";
import type { DomainEvent } from "../../src/features/events/types";
import { notifyJob } from "../../src/features/notifications/jobs";
import { startWorkers, type RunningWorkers } from "../../src/infra/queues/worker";
import { jobRegistry } from "../../src/jobs";
import { expectMatchesSchema, schemaErrors } from "../helpers/openapi";
import { testContext, type TestContext } from "../helpers/context";
import { makeTestUser } from "../helpers/users";

let context: TestContext;
let app: ReturnType<typeof buildWebApp>;
let workers: RunningWorkers;
const users: Record<string, { account: LocalAccountRow; token: string }> = {};

async function makeUser(name: string) {
  const { account, token } = await makeTestUser(context, `ntf_${name}`, { scopes: "read write follow" });
  users[name] = { account, token: token! };
}
const idOf = (name: string) => users[name]!.account.id;

async function post(author: string, options: { visibility?: string; mentions?: string[]; conversationId?: string; inReplyTo?: [string, string] } = {}): Promise<string> {
  const [replyId, replyAuthor] = options.inReplyTo ?? [null, null];
  const [row] = await context.sql<{ id: string }[]>`
    insert into statuses (account_id, text, content, visibility, uri, conversation_id, in_reply_to_id, in_reply_to_account_id)
    values (${idOf(author)}, 'hello', '<p>hello</p>', ${options.visibility ?? "public"}, ${"urn:test:" + crypto.randomUUID()},
            ${options.conversationId ?? null}, ${replyId}, ${replyAuthor ? idOf(replyAuthor) : null})
    returning id`;
  for (const name of options.mentions ?? []) await context.sql`insert into mentions (status_id, account_id) values (${row!.id}, ${idOf(name)})`;
  return row!.id;
}

/** Run the subscriber for an event the way the worker would (twice: it must be idempotent). */
async function deliver(event: DomainEvent) {
  const published = { ...event, eventId: crypto.randomUUID(), at: new Date().toISOString() };
  for (let i = 0; i < 2; i++) await notifyJob.handler(published, { ...context, jobId: "test", attempt: 1 });
}

async function call(method: string, path: string, as?: string, body?: unknown) {
  const headers: Record<string, string> = {};
  if (as) headers.authorization = `Bearer ${users[as]!.token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await app.handle(new Request(`http://localhost${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }));
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined, link: response.headers.get("link") };
}

async function notificationsOf(name: string, query = "") {
  const response = await call("GET", `/api/v1/notifications${query}`, name);
  expect(response.status).toBe(200);
  return response.json as { id: string; type: string; account: { username: string }; status?: { id: string }; group_key: string; filtered?: boolean }[];
}

async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (ok(value) || Date.now() > until) return value;
    await Bun.sleep(50);
  }
}

beforeAll(async () => {
  context = await testContext();
  app = buildWebApp(context);
  workers = startWorkers({ queues: ["default"], concurrency: 4, registry: jobRegistry, context, connection: context.bullConnection, prefix: context.bullPrefix });
  for (const name of ["alice", "bob", "carol", "dave", "erin", "frank", "gina"]) await makeUser(name);
});
afterAll(async () => {
  await workers.close(5000);
  await context.close();
});

describe("created by events", () => {
  test("a favourite through the API notifies the author once, through the worker", async () => {
    const id = await post("alice");
    await call("POST", `/api/v1/statuses/${id}/favourite`, "bob");
    const list = await eventually(() => notificationsOf("alice", "?types[]=favourite"), (l) => l.some((n) => n.status?.id === id));
    const mine = list.filter((n) => n.status?.id === id);
    expect(mine.length).toBe(1);
    expect(mine[0]!.account.username).toBe("ntf_bob");
    expectMatchesSchema(mine[0], "Notification");
    // Unfavouriting takes the notification away; favouriting again brings back exactly one.
    await call("POST", `/api/v1/statuses/${id}/unfavourite`, "bob");
    expect((await notificationsOf("alice", "?types[]=favourite")).some((n) => n.status?.id === id)).toBe(false);
    await call("POST", `/api/v1/statuses/${id}/favourite`, "bob");
    await eventually(() => notificationsOf("alice", "?types[]=favourite"), (l) => l.some((n) => n.status?.id === id));
    await Bun.sleep(300);
    expect((await notificationsOf("alice", "?types[]=favourite")).filter((n) => n.status?.id === id).length).toBe(1);
    // A favourite undone before its event is handled notifies nobody.
    const quick = await post("alice");
    await context.sql`insert into favourites (account_id, status_id) values (${idOf("carol")}, ${quick})`;
    await context.sql`delete from favourites where account_id = ${idOf("carol")} and status_id = ${quick}`;
    await deliver({ type: "status.favourited", statusId: quick, accountId: idOf("carol") });
    expect((await notificationsOf("alice")).some((n) => n.status?.id === quick)).toBe(false);
    // Favouriting your own post notifies nobody.
    const own = await post("bob");
    await call("POST", `/api/v1/statuses/${own}/favourite`, "bob");
    await Bun.sleep(300);
    expect((await notificationsOf("bob")).some((n) => n.status?.id === own)).toBe(false);
  });

  test("a boost notifies the author; undoing it removes the notification", async () => {
    const id = await post("alice");
    await call("POST", `/api/v1/statuses/${id}/reblog`, "carol");
    const list = await eventually(() => notificationsOf("alice", "?types[]=reblog"), (l) => l.some((n) => n.status?.id === id));
    expect(list.find((n) => n.status?.id === id)!.account.username).toBe("ntf_carol");
    await call("POST", `/api/v1/statuses/${id}/unreblog`, "carol");
    const after = await eventually(() => notificationsOf("alice", "?types[]=reblog"), (l) => !l.some((n) => n.status?.id === id));
    expect(after.some((n) => n.status?.id === id)).toBe(false);
  });

  test("a mention posted through the statuses API reaches the mentioned account through the worker", async () => {
    const posted = await call("POST", "/api/v1/statuses", "bob", { status: "hi @ntf_alice and @ntf_carol", visibility: "public" });
    expect(posted.status).toBe(200);
    for (const name of ["alice", "carol"]) {
      const list = await eventually(() => notificationsOf(name, "?types[]=mention"), (l) => l.some((n) => n.status?.id === posted.json.id));
      expect(list.filter((n) => n.status?.id === posted.json.id).length).toBe(1);
    }
  });

  test("a follow through the graph API notifies the followed account", async () => {
    expect((await call("POST", `/api/v1/accounts/${idOf("erin")}/follow`, "carol")).status).toBe(200);
    const list = await eventually(() => notificationsOf("erin", "?types[]=follow"), (l) => l.some((n) => n.account.username === "ntf_carol"));
    expect(list.filter((n) => n.account.username === "ntf_carol").length).toBe(1);
    expect((await call("POST", `/api/v1/accounts/${idOf("erin")}/unfollow`, "carol")).status).toBe(200);
  });

  test("mentions: local accounts, once, never yourself", async () => {
    const id = await post("bob", { mentions: ["alice", "bob"] });
    await deliver({ type: "status.created", statusId: id, accountId: idOf("bob") });
    const alice = (await notificationsOf("alice", "?types[]=mention")).filter((n) => n.status?.id === id);
    expect(alice.length).toBe(1);
    expect(alice[0]!.group_key).toBe(`ungrouped-${alice[0]!.id}`);
    expect((await notificationsOf("bob")).some((n) => n.status?.id === id)).toBe(false);
  });

  test("blocks, mutes with notifications and muted conversations suppress mentions", async () => {
    await context.sql`insert into blocks (account_id, target_account_id) values (${idOf("dave")}, ${idOf("erin")})`;
    await context.sql`insert into mutes (account_id, target_account_id, hide_notifications) values (${idOf("carol")}, ${idOf("erin")}, true)`;
    await context.sql`insert into mutes (account_id, target_account_id, hide_notifications) values (${idOf("frank")}, ${idOf("erin")}, false)`;
    const id = await post("erin", { mentions: ["dave", "carol", "frank"] });
    await deliver({ type: "status.created", statusId: id, accountId: idOf("erin") });
    expect((await notificationsOf("dave")).some((n) => n.status?.id === id)).toBe(false);
    expect((await notificationsOf("carol")).some((n) => n.status?.id === id)).toBe(false);
    // A mute that keeps notifications still notifies.
    expect((await notificationsOf("frank")).some((n) => n.status?.id === id)).toBe(true);

    const [conversation] = await context.sql<{ id: string }[]>`insert into conversations default values returning id`;
    const root = await post("gina", { conversationId: conversation!.id, mentions: ["alice"] });
    expect((await call("POST", `/api/v1/statuses/${root}/mute`, "alice")).status).toBe(200);
    const reply = await post("gina", { conversationId: conversation!.id, mentions: ["alice"] });
    await deliver({ type: "status.created", statusId: reply, accountId: idOf("gina") });
    expect((await notificationsOf("alice")).some((n) => n.status?.id === reply)).toBe(false);
  });

  test("status (notify follows), follow, follow_request and update", async () => {
    await context.sql`insert into follows (account_id, target_account_id, notify) values (${idOf("frank")}, ${idOf("gina")}, true)`;
    await context.sql`insert into follows (account_id, target_account_id, notify) values (${idOf("erin")}, ${idOf("gina")}, false)`;
    const id = await post("gina");
    await deliver({ type: "status.created", statusId: id, accountId: idOf("gina") });
    expect((await notificationsOf("frank", "?types[]=status")).some((n) => n.status?.id === id)).toBe(true);
    expect((await notificationsOf("erin")).some((n) => n.status?.id === id)).toBe(false);

    await deliver({ type: "account.followed", accountId: idOf("frank"), targetAccountId: idOf("gina") });
    await deliver({ type: "account.follow_requested", accountId: idOf("erin"), targetAccountId: idOf("gina") });
    const gina = await notificationsOf("gina");
    expect(gina.filter((n) => n.type === "follow").map((n) => n.account.username)).toEqual(["ntf_frank"]);
    expect(gina.filter((n) => n.type === "follow_request").map((n) => n.account.username)).toEqual(["ntf_erin"]);

    await call("POST", `/api/v1/statuses/${id}/reblog`, "erin");
    await deliver({ type: "status.updated", statusId: id, accountId: idOf("gina") });
    const firstEdit = await eventually(() => notificationsOf("erin", "?types[]=update"), (l) => l.length > 0);
    expect(firstEdit.map((n) => n.status?.id)).toEqual([id]);
    // A second edit notifies again: one notification, newer than the first.
    await deliver({ type: "status.updated", statusId: id, accountId: idOf("gina") });
    const secondEdit = await notificationsOf("erin", "?types[]=update");
    expect(secondEdit.length).toBe(1);
    expect(BigInt(secondEdit[0]!.id) > BigInt(firstEdit[0]!.id)).toBe(true);
  });
});

describe("v1 list and doors", () => {
  test("types, exclude_types, account_id, paging with Link headers", async () => {
    const ids: string[] = [];
    for (const name of ["alice", "bob", "carol"]) {
      const id = await post(name, { mentions: ["dave"] });
      ids.push(id);
      await deliver({ type: "status.created", statusId: id, accountId: idOf(name) });
    }
    const first = await call("GET", "/api/v1/notifications?types[]=mention&limit=2", "dave");
    expect(first.json.map((n: { status: { id: string } }) => n.status.id)).toEqual([ids[2], ids[1]]);
    const next = /<([^>]+)>; rel="next"/.exec(first.link!)![1]!;
    expect(next).toContain("types%5B%5D=mention");
    const second = await call("GET", next.replace(context.config.baseUrl, ""), "dave");
    expect(second.json.map((n: { status: { id: string } }) => n.status.id)).toEqual([ids[0]]);
    expect((await notificationsOf("dave", `?account_id=${idOf("bob")}`)).map((n) => n.status?.id)).toEqual([ids[1]]);
    expect((await notificationsOf("dave", "?exclude_types[]=mention")).length).toBe(0);
    expect((await notificationsOf("dave", "?account_id=abc")).length).toBe(0);
    expect((await call("GET", "/api/v1/notifications?limit=-1", "dave")).status).toBe(400);
    expect((await call("GET", "/api/v1/notifications?since_id=99999999999999999999", "dave")).status).toBe(400);
    expect((await call("GET", "/api/v1/notifications")).status).toBe(401);
  });

  test("get one, dismiss, clear; others' notifications are 404", async () => {
    const [latest] = await notificationsOf("dave");
    const one = await call("GET", `/api/v1/notifications/${latest!.id}`, "dave");
    expect(one.json.id).toBe(latest!.id);
    expect((await call("GET", `/api/v1/notifications/${latest!.id}`, "alice")).status).toBe(404);
    expect((await call("GET", "/api/v1/notifications/xyz", "dave")).status).toBe(404);
    expect((await call("POST", `/api/v1/notifications/${latest!.id}/dismiss`, "alice")).status).toBe(404);
    expect((await call("POST", `/api/v1/notifications/${latest!.id}/dismiss`, "dave")).status).toBe(200);
    expect((await call("GET", `/api/v1/notifications/${latest!.id}`, "dave")).status).toBe(404);
    expect((await call("POST", "/api/v1/notifications/clear", "dave")).json).toEqual({});
    expect(await notificationsOf("dave")).toEqual([]);
  });

  test("a notification whose status the viewer can no longer see is dropped", async () => {
    await context.sql`insert into follows (account_id, target_account_id) values (${idOf("carol")}, ${idOf("bob")}) on conflict do nothing`;
    const id = await post("bob", { visibility: "private" });
    await call("POST", `/api/v1/statuses/${id}/favourite`, "carol");
    await eventually(() => notificationsOf("bob", "?types[]=favourite"), (l) => l.some((n) => n.status?.id === id));
    // The notified author still sees it; carol's view of her own notification list is what changes below.
    const mention = await post("bob", { visibility: "private", mentions: ["carol"] });
    await deliver({ type: "status.created", statusId: mention, accountId: idOf("bob") });
    expect((await notificationsOf("carol")).some((n) => n.status?.id === mention)).toBe(true);
    await context.sql`insert into blocks (account_id, target_account_id) values (${idOf("bob")}, ${idOf("carol")})`;
    expect((await notificationsOf("carol")).some((n) => n.status?.id === mention)).toBe(false);
  });

  test("unread_count follows the notifications marker", async () => {
    for (const name of ["alice", "bob"]) {
      const id = await post(name, { mentions: ["erin"] });
      await deliver({ type: "status.created", statusId: id, accountId: idOf(name) });
    }
    const list = await notificationsOf("erin");
    const before = (await call("GET", "/api/v1/notifications/unread_count", "erin")).json.count;
    expect(before).toBe(list.length);
    await call("POST", "/api/v1/markers", "erin", { notifications: { last_read_id: list[1]!.id } });
    expect((await call("GET", "/api/v1/notifications/unread_count", "erin")).json).toEqual({ count: 1 });
    expect((await call("GET", "/api/v2/notifications/unread_count", "erin")).json).toEqual({ count: 1 });
    expect((await call("GET", "/api/v1/notifications/unread_count?limit=abc", "erin")).status).toBe(400);
  });
});

describe("v2 grouped notifications", () => {
  test("favourites of one status group; shape matches Mastodon's schema", async () => {
    const id = await post("gina");
    for (const name of ["alice", "bob", "carol"]) await call("POST", `/api/v1/statuses/${id}/favourite`, name);
    const mention = await post("alice", { mentions: ["gina"] });
    await deliver({ type: "status.created", statusId: mention, accountId: idOf("alice") });
    await eventually(() => notificationsOf("gina", "?types[]=favourite"), (l) => l.filter((n) => n.status?.id === id).length === 3);

    const response = await call("GET", "/api/v2/notifications", "gina");
    expect(response.status).toBe(200);
    // Ids are strings here, as everywhere (the published schema types most_recent_notification_id as integer).
    const withNumericIds = {
      ...response.json,
      notification_groups: response.json.notification_groups.map((g: Record<string, unknown>) => ({ ...g, most_recent_notification_id: Number(g.most_recent_notification_id) })),
    };
    expect(schemaErrors(withNumericIds, "GroupedNotificationsResults")).toEqual([]);
    const groups = response.json.notification_groups as Record<string, any>[];
    const favourites = groups.find((g) => g.type === "favourite" && g.status_id === id)!;
    expect(favourites.notifications_count).toBe(3);
    expect(favourites.sample_account_ids).toEqual([idOf("carol"), idOf("bob"), idOf("alice")]);
    expect(favourites.group_key).toMatch(new RegExp(`^favourite-${id}-\\d+$`));
    expect(typeof favourites.page_min_id).toBe("string");
    expect(groups[0]!.type).toBe("mention");
    expect(response.json.statuses.map((s: { id: string }) => s.id)).toContain(id);
    expect(response.json.accounts.map((a: { id: string }) => a.id)).toEqual(expect.arrayContaining([idOf("alice"), idOf("bob"), idOf("carol")]));

    // Without grouping favourites, each stands alone.
    const ungrouped = await call("GET", "/api/v2/notifications?grouped_types[]=follow", "gina");
    expect(ungrouped.json.notification_groups.filter((g: { type: string }) => g.type === "favourite").length).toBe(3);

    const single = await call("GET", `/api/v2/notifications/${favourites.group_key}`, "gina");
    expect(single.json.notification_groups[0].notifications_count).toBe(3);
    expect((await call("GET", `/api/v2/notifications/${favourites.group_key}/accounts`, "gina")).json.length).toBe(3);
    expect((await call("GET", `/api/v2/notifications/${favourites.group_key}`, "alice")).status).toBe(404);
    expect((await call("POST", `/api/v2/notifications/${favourites.group_key}/dismiss`, "gina")).status).toBe(200);
    expect((await call("GET", `/api/v2/notifications/${favourites.group_key}`, "gina")).status).toBe(404);
  });

  test("pages of groups with Link headers, no gaps or repeats", async () => {
    for (const name of ["alice", "bob", "carol", "dave"]) {
      const id = await post(name, { mentions: ["frank"] });
      await deliver({ type: "status.created", statusId: id, accountId: idOf(name) });
    }
    const all = (await call("GET", "/api/v2/notifications?limit=80", "frank")).json.notification_groups.map((g: { group_key: string }) => g.group_key);
    const seen: string[] = [];
    let path: string | undefined = "/api/v2/notifications?limit=2";
    while (path) {
      const page: Awaited<ReturnType<typeof call>> = await call("GET", path, "frank");
      seen.push(...page.json.notification_groups.map((g: { group_key: string }) => g.group_key));
      const next = page.link ? /<([^>]+)>; rel="next"/.exec(page.link)?.[1] : undefined;
      path = page.json.notification_groups.length ? next?.replace(context.config.baseUrl, "") : undefined;
    }
    expect(seen).toEqual(all);
  });
});

describe("policy", () => {
  test("GET and PATCH; drop and filter act on new notifications", async () => {
    const initial = await call("GET", "/api/v2/notifications/policy", "carol");
    expect(initial.json).toMatchObject({ for_not_following: "accept", for_private_mentions: "filter" });
    expectMatchesSchema(initial.json, "NotificationPolicy");
    expect((await call("PATCH", "/api/v2/notifications/policy", "carol", { for_not_following: "bogus" })).status).toBe(422);

    const dropped = await call("PATCH", "/api/v2/notifications/policy", "carol", { for_not_following: "drop" });
    expect(dropped.json.for_not_following).toBe("drop");
    const first = await post("gina", { mentions: ["carol"] });
    await deliver({ type: "status.created", statusId: first, accountId: idOf("gina") });
    expect((await notificationsOf("carol", "?include_filtered=true")).some((n) => n.status?.id === first)).toBe(false);

    await call("PATCH", "/api/v2/notifications/policy", "carol", { for_not_following: "filter" });
    const second = await post("gina", { mentions: ["carol"] });
    await deliver({ type: "status.created", statusId: second, accountId: idOf("gina") });
    expect((await notificationsOf("carol")).some((n) => n.status?.id === second)).toBe(false);
    const filtered = (await notificationsOf("carol", "?include_filtered=true")).find((n) => n.status?.id === second);
    expect(filtered?.filtered).toBe(true);
    expect((await call("GET", "/api/v2/notifications/policy", "carol")).json.summary.pending_notifications_count).toBeGreaterThan(0);
  });

  test("notification requests: list, get, accept lets the sender through, dismiss drops", async () => {
    // carol filters strangers (previous test); gina's held mention is a request, and so is one from dave.
    const fromDave = await post("dave", { mentions: ["carol"] });
    await deliver({ type: "status.created", statusId: fromDave, accountId: idOf("dave") });
    const list = await call("GET", "/api/v1/notifications/requests", "carol");
    expect(list.status).toBe(200);
    expectMatchesSchema(list.json, { type: "array", items: { $ref: "#/components/schemas/NotificationRequest" } });
    const byName = new Map(list.json.map((r: { account: { username: string } }) => [r.account.username, r]));
    const gina = byName.get("ntf_gina") as { id: string; notifications_count: string; last_status?: { id: string } };
    const dave = byName.get("ntf_dave") as { id: string; last_status?: { id: string } };
    expect(gina.notifications_count).toBe("1");
    expect(dave.last_status?.id).toBe(fromDave);
    expect((await call("GET", `/api/v1/notifications/requests/${gina.id}`, "carol")).json.account.username).toBe("ntf_gina");
    expect((await call("GET", `/api/v1/notifications/requests/${gina.id}`, "dave")).status).toBe(404);
    expect((await call("GET", "/api/v1/notifications/requests?limit=1", "carol")).link).toContain('rel="next"');

    expect((await call("POST", `/api/v1/notifications/requests/${gina.id}/accept`, "carol")).status).toBe(200);
    expect((await notificationsOf("carol")).some((n) => n.account.username === "ntf_gina" && n.type === "mention")).toBe(true);
    const later = await post("gina", { mentions: ["carol"] });
    await deliver({ type: "status.created", statusId: later, accountId: idOf("gina") });
    expect((await notificationsOf("carol")).some((n) => n.status?.id === later)).toBe(true);

    expect((await call("POST", "/api/v1/notifications/requests/dismiss", "carol", { id: [dave.id, "12345", "abc"] })).status).toBe(200);
    expect((await notificationsOf("carol", "?include_filtered=true")).some((n) => n.status?.id === fromDave)).toBe(false);
    expect((await call("GET", "/api/v1/notifications/requests", "carol")).json).toEqual([]);
    expect((await call("POST", `/api/v1/notifications/requests/${dave.id}/dismiss`, "carol")).status).toBe(404);
    expect((await call("GET", "/api/v1/notifications/requests/merged", "carol")).json).toEqual({ merged: true });
  });

  test("by default a stranger's direct mention is filtered, unless it answers the recipient's own post", async () => {
    const dm = await post("erin", { visibility: "direct", mentions: ["alice"] });
    await deliver({ type: "status.created", statusId: dm, accountId: idOf("erin") });
    expect((await notificationsOf("alice")).some((n) => n.status?.id === dm)).toBe(false);
    expect((await notificationsOf("alice", "?include_filtered=true")).find((n) => n.status?.id === dm)?.filtered).toBe(true);
    const mine = await post("alice");
    const reply = await post("erin", { visibility: "direct", mentions: ["alice"], inReplyTo: [mine, "alice"] });
    await deliver({ type: "status.created", statusId: reply, accountId: idOf("erin") });
    expect((await notificationsOf("alice")).some((n) => n.status?.id === reply)).toBe(true);
  });

  test("the v1 policy reads and writes the same settings as booleans", async () => {
    const read = await call("GET", "/api/v1/notifications/policy", "dave");
    expect(read.json).toMatchObject({ filter_not_following: false, filter_private_mentions: true });
    const written = await call("PUT", "/api/v1/notifications/policy", "dave", { filter_not_followers: true, filter_private_mentions: false });
    expect(written.json).toMatchObject({ filter_not_followers: true, filter_private_mentions: false });
    expect((await call("GET", "/api/v2/notifications/policy", "dave")).json).toMatchObject({ for_not_followers: "filter", for_private_mentions: "accept" });
  });
});

describe("markers", () => {
  test("save, read back, version increments", async () => {
    expect((await call("GET", "/api/v1/markers?timeline[]=home&timeline[]=notifications", "gina")).json).toEqual({});
    const saved = await call("POST", "/api/v1/markers", "gina", { home: { last_read_id: "1234" } });
    expect(saved.json.home).toMatchObject({ last_read_id: "1234", version: 0 });
    expectMatchesSchema(saved.json.home, "Marker");
    const again = await call("POST", "/api/v1/markers", "gina", { home: { last_read_id: "1240" }, notifications: { last_read_id: "99" } });
    expect(again.json.home.version).toBe(1);
    expect(again.json.notifications.version).toBe(0);
    await Promise.all(Array.from({ length: 5 }, (_, i) => call("POST", "/api/v1/markers", "gina", { home: { last_read_id: String(2000 + i) } })));
    const read = await call("GET", "/api/v1/markers?timeline[]=home&timeline[]=notifications", "gina");
    expect(read.json.home.version).toBe(6);
    expect(read.json.notifications.last_read_id).toBe("99");
    expect(Object.keys((await call("GET", "/api/v1/markers?timeline[]=home", "gina")).json)).toEqual(["home"]);
    expect((await call("POST", "/api/v1/markers", "gina", { home: { last_read_id: "abc" } })).status).toBe(422);
    expect((await call("GET", "/api/v1/markers?timeline[]=nope", "gina")).status).toBe(422);
    // Form-encoded, as some clients send it.
    const form = await app.handle(
      new Request("http://localhost/api/v1/markers", {
        method: "POST",
        headers: { authorization: `Bearer ${users.gina!.token}`, "content-type": "application/x-www-form-urlencoded" },
        body: "home[last_read_id]=3000",
      }),
    );
    expect(((await form.json()) as { home: { version: number } }).home.version).toBe(7);
  });
});

describe("through masto.js", () => {
  test("list notifications and groups", async () => {
    const server = buildWebApp(context).listen({ port: 0, hostname: "127.0.0.1" });
    try {
      const masto = createRestAPIClient({ url: `http://127.0.0.1:${server.server!.port}`, accessToken: users.alice!.token });
      const id = await post("alice");
      await call("POST", `/api/v1/statuses/${id}/favourite`, "gina");
      await eventually(() => notificationsOf("alice", "?types[]=favourite"), (l) => l.some((n) => n.status?.id === id));
      const list = await masto.v1.notifications.list({ types: ["favourite"], limit: 5 });
      expect(list[0]!.type).toBe("favourite");
      expect(list[0]!.status?.id).toBe(id);
      expect(list[0]!.account.username).toBe("ntf_gina");
      const grouped = await masto.v2.notifications.list({ limit: 5 });
      expect(grouped.notificationGroups.length).toBeGreaterThan(0);
      const markers = await masto.v1.markers.create({ notifications: { lastReadId: list[0]!.id } });
      expect(markers.notifications?.lastReadId).toBe(list[0]!.id);
    } finally {
      await server.stop(true);
    }
  });
});

describe("hostile input", () => {
  test("no 5xx for odd ids, keys and queries on notification and marker doors", async () => {
    const raw = async (method: string, path: string, body?: string) => {
      const response = await app.handle(
        new Request(`http://localhost${path}`, { method, headers: { authorization: `Bearer ${users.bob!.token}`, "content-type": "application/json" }, body }),
      );
      return response.status;
    };
    for (const target of ["abc", "0", "9223372036854775808", "%00", "ungrouped-abc", "ungrouped-99999999999999999999", "favourite-1-2", "x".repeat(300)]) {
      expect(await raw("GET", `/api/v1/notifications/${target}`)).toBeLessThan(500);
      expect(await raw("POST", `/api/v1/notifications/${target}/dismiss`)).toBeLessThan(500);
      expect(await raw("GET", `/api/v2/notifications/${target}`)).toBeLessThan(500);
      expect(await raw("POST", `/api/v2/notifications/${target}/dismiss`)).toBeLessThan(500);
      expect(await raw("GET", `/api/v2/notifications/${target}/accounts`)).toBeLessThan(500);
    }
    for (const query of ["types=mention", "types[]=nonsense", "types[a]=b", "exclude_types[]=" + "x".repeat(500), "account_id=99999999999999999999", "limit=-1", "limit=99999", "max_id=abc", "grouped_types[]=", "include_filtered=maybe", "expand_accounts[]=x"]) {
      expect(await raw("GET", `/api/v1/notifications?${query}`)).toBeLessThan(500);
      expect(await raw("GET", `/api/v2/notifications?${query}`)).toBeLessThan(500);
      expect(await raw("GET", `/api/v1/notifications/unread_count?${query}`)).toBeLessThan(500);
      expect(await raw("GET", `/api/v2/notifications/unread_count?${query}`)).toBeLessThan(500);
    }
    for (const body of ["{", "null", "[]", '{"home": null}', '{"home": {"last_read_id": null}}', '{"home": {"last_read_id": 1.5}}', '{"home": "x"}', '{"notifications": {"last_read_id": "99999999999999999999"}}']) {
      expect(await raw("POST", "/api/v1/markers", body)).toBeLessThan(500);
    }
    for (const body of ["{", "null", '{"for_not_following": null}', '{"for_new_accounts": ["drop"]}']) {
      expect(await raw("PATCH", "/api/v2/notifications/policy", body)).toBeLessThan(500);
    }
  });
});
