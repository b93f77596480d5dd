/**
 * Filters through the real web app, workers and streaming hub: v2 CRUD with keywords and statuses (masto.js),
 * v1 filters (megalodon), Mastodon's validation errors, and filters applied server-side — home, public, tag,
 * account, thread, notifications (v1 and grouped v2) and the streaming role (`hide` drops the event, `warn`
 * fills `filtered`, `filters_changed` on the user stream). Usernames start with `ca_f`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createRestAPIClient } from "masto";
import generator from "megalodon";
import { buildWebApp } from "../../src/api/app";
import type { LocalAccountRow } from "../../src/features/accounts/service";
import { issueToken } from "../../src/features/auth/tokens";
import { compileFilters, matchStatus, activeIn, contentText } from "../../src/features/filters/match";
import { channelName, homeChannel } from "../../src/features/streaming/channels";
import { startWorkers, type RunningWorkers } from "../../src/infra/queues/worker";
import { jobRegistry } from "../../src/jobs";
import { buildStreamingApp, createStreamingHub } from "../../src/streaming/app";
import type { StreamingHub } from "../../src/streaming/hub";
import { inProcessApi } from "../helpers/api";
import { testContext, type TestContext } from "../helpers/context";
import { arrayOf, expectMatchesSchema } from "../helpers/openapi";
import { makeTestUser } from "../helpers/users";

let context: TestContext;
let app: ReturnType<typeof buildWebApp>;
let workers: RunningWorkers;
const call = inProcessApi(() => app);
let counter = 0;
type User = LocalAccountRow & { token: string };

async function user(name: string): Promise<User> {
  const username = `ca_f${name}_${++counter}_${Date.now().toString(36)}`;
  const { account, token } = await makeTestUser(context, username, { scopes: "read write follow" });
  return { ...account, token: token! };
}

const as = (who: { token: string }) => ({
  get: (path: string) => call("GET", path, { token: who.token }),
  post: (path: string, json: unknown = {}) => call("POST", path, { token: who.token, json }),
  form: (path: string, form: [string, string][]) => call("POST", path, { token: who.token, form }),
  put: (path: string, json: unknown = {}) => call("PUT", path, { token: who.token, json }),
  del: (path: string) => call("DELETE", path, { token: who.token }),
});

async function post(who: User, status: string, extra: Record<string, unknown> = {}): Promise<string> {
  const response = await as(who).post("/api/v1/statuses", { status, ...extra });
  expect(response.status).toBe(200);
  return response.json.id;
}

/** Poll until `check` passes (fan-out and notifications run as jobs). */
async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (check(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out; last value ${JSON.stringify(value).slice(0, 500)}`);
    await Bun.sleep(50);
  }
}

async function createFilter(who: User, body: Record<string, unknown>) {
  const response = await as(who).post("/api/v2/filters", body);
  expect(response.status).toBe(200);
  expectMatchesSchema(response.json, "Filter");
  return response.json as { id: string; keywords: { id: string; keyword: string }[]; statuses: { id: string }[] };
}

beforeAll(async () => {
  context = await testContext();
  app = buildWebApp(context);
  workers = startWorkers({ queues: ["default"], concurrency: 4, registry: jobRegistry, context, connection: context.bullConnection, prefix: context.bullPrefix });
});

afterAll(async () => {
  await workers.close(5000);
  await context.close();
});

describe("matching (Mastodon's rules)", () => {
  const filter = (keywords: [string, boolean][], context: string[] = ["home"]) =>
    compileFilters([
      {
        id: "1",
        account_id: "9",
        title: "t",
        context,
        filter_action: "warn",
        expires_at: null,
        created_at: new Date(),
        keywords: keywords.map(([keyword, whole_word], i) => ({ id: String(i), filter_id: "1", keyword, whole_word })),
        statuses: [],
      },
    ]);
  const status = (content: string, extra: Partial<{ spoiler_text: string; poll: { options: { title: string }[] }; media: string[]; author: string }> = {}) => ({
    id: "5",
    account: { id: extra.author ?? "7" },
    content,
    spoiler_text: extra.spoiler_text ?? "",
    media_attachments: (extra.media ?? []).map((description) => ({ description })),
    poll: extra.poll ?? null,
    reblog: null,
  });
  const matches = (f: ReturnType<typeof filter>, s: ReturnType<typeof status>) => matchStatus(activeIn(f, "home"), s, "9").map((m) => m.keywordMatches);

  test("case-insensitive; whole words only when asked; Unicode word boundaries", () => {
    expect(matches(filter([["cat", true]]), status("<p>A CAT sat</p>"))).toEqual([["cat"]]);
    expect(matches(filter([["cat", true]]), status("<p>concatenate</p>"))).toEqual([]);
    expect(matches(filter([["cat", false]]), status("<p>concatenate</p>"))).toEqual([["cat"]]);
    expect(matches(filter([["été", true]]), status("<p>un étéable</p>"))).toEqual([]);
    expect(matches(filter([["été", true]]), status("<p>en été!</p>"))).toEqual([["été"]]);
    // A keyword that starts with a non-word character gets no boundary on that side.
    expect(matches(filter([["#tag", true]]), status("<p>x#tag</p>"))).toEqual([["#tag"]]);
    // Regex characters in keywords are literal.
    expect(matches(filter([["a.b", false]]), status("<p>axb</p>"))).toEqual([]);
  });

  test("spoiler text, poll options and media descriptions are searched; markup and entities are not text", () => {
    expect(matches(filter([["secret", true]]), status("<p>x</p>", { spoiler_text: "secret stuff" }))).toEqual([["secret"]]);
    expect(matches(filter([["pizza", true]]), status("<p>vote</p>", { poll: { options: [{ title: "Pizza" }, { title: "Pasta" }] } }))).toEqual([["pizza"]]);
    expect(matches(filter([["sunset", true]]), status("<p>look</p>", { media: ["A sunset over the sea"] }))).toEqual([["sunset"]]);
    expect(matches(filter([["href", false]]), status('<p><a href="https://x">link</a></p>'))).toEqual([]);
    expect(contentText("<p>Tom &amp; Jerry&#39;s<br>show</p>")).toBe("Tom & Jerry's\nshow\n\n");
  });

  test("the viewer's own statuses and other contexts never match", () => {
    expect(matches(filter([["cat", true]]), status("<p>cat</p>", { author: "9" }))).toEqual([]);
    expect(matchStatus(activeIn(filter([["cat", true]], ["public"]), "home"), status("<p>cat</p>"), "9")).toEqual([]);
  });
});

describe("filters v2 API", () => {
  test("CRUD with keywords_attributes, keywords and statuses sub-resources (masto.js)", async () => {
    const web = buildWebApp(context).listen({ port: 0, hostname: "127.0.0.1" });
    try {
      const me = await user("crud");
      const other = await user("crudother");
      const client = createRestAPIClient({ url: `http://127.0.0.1:${web.server!.port}`, accessToken: me.token });
      const created = await client.v2.filters.create({
        title: "Spoilers",
        context: ["home", "public"],
        filterAction: "hide",
        expiresIn: 3600,
        keywordsAttributes: [{ keyword: "finale", wholeWord: true }, { keyword: "ending", wholeWord: false }],
      });
      expect(created).toMatchObject({ title: "Spoilers", context: ["home", "public"], filterAction: "hide" });
      expect(created.keywords.map((k) => [k.keyword, k.wholeWord])).toEqual([["finale", true], ["ending", false]]);
      expect(Date.parse(created.expiresAt!) - Date.now()).toBeGreaterThan(3500_000);

      const raw = await as(me).get(`/api/v2/filters/${created.id}`);
      expectMatchesSchema(raw.json, "Filter");
      expectMatchesSchema((await as(me).get("/api/v2/filters")).json, arrayOf("Filter"));

      // Update: rename, drop one keyword, change another, add a third, clear the expiry.
      const [finale, ending] = created.keywords;
      const updated = await client.v2.filters.$select(created.id).update({
        title: "Show spoilers",
        filterAction: "warn",
        expiresIn: null as unknown as number,
        keywordsAttributes: [{ id: finale!.id, _destroy: true }, { id: ending!.id, keyword: "the end" }, { keyword: "twist" }],
      } as never);
      expect(updated).toMatchObject({ title: "Show spoilers", filterAction: "warn", expiresAt: null });
      expect(updated.keywords.map((k) => k.keyword)).toEqual(["the end", "twist"]);

      // Keywords sub-resource.
      const added = await client.v2.filters.$select(created.id).keywords.create({ keyword: "cliffhanger", wholeWord: false });
      expectMatchesSchema((await as(me).get(`/api/v2/filters/keywords/${added.id}`)).json, "FilterKeyword");
      expect((await client.v2.filters.$select(created.id).keywords.list()).map((k) => k.keyword)).toEqual(["the end", "twist", "cliffhanger"]);
      const changed = await client.v2.filters.keywords.$select(added.id).update({ keyword: "cliff", wholeWord: true });
      expect(changed).toMatchObject({ keyword: "cliff", wholeWord: true });
      await client.v2.filters.keywords.$select(added.id).remove();
      expect((await as(me).get(`/api/v2/filters/keywords/${added.id}`)).status).toBe(404);
      // The brief's alias path answers the same.
      expect((await as(me).get(`/api/v2/filter_keywords/${ending!.id}`)).json).toMatchObject({ keyword: "the end" });

      // Statuses sub-resource.
      const statusId = await post(other, "a post to hide");
      const fs = await client.v2.filters.$select(created.id).statuses.create({ statusId });
      expect(fs.statusId).toBe(statusId);
      expectMatchesSchema((await as(me).get(`/api/v2/filters/statuses/${fs.id}`)).json, "FilterStatus");
      expect((await as(me).post(`/api/v2/filters/${created.id}/statuses`, { status_id: statusId })).status).toBe(422);
      expect((await client.v2.filters.$select(created.id).statuses.list()).map((s) => s.id)).toEqual([fs.id]);
      await client.v2.filters.statuses.$select(fs.id).remove();
      expect((await as(me).get(`/api/v2/filters/${created.id}/statuses`)).json).toEqual([]);

      await client.v2.filters.$select(created.id).remove();
      expect((await as(me).get(`/api/v2/filters/${created.id}`)).status).toBe(404);
      expect(await client.v2.filters.list()).toEqual([]);
      // Cascade: the keywords went with it.
      const [left] = await context.sql<{ n: number }[]>`select count(*)::int as n from filter_keywords where filter_id = ${created.id}`;
      expect(left!.n).toBe(0);
    } finally {
      await web.stop(true);
    }
  });

  test("Mastodon's errors: 422 for bad titles, contexts, actions, keywords; 404 for others' and malformed ids; nothing half-written", async () => {
    const me = await user("errors");
    const thief = await user("thief");
    const cases: [Record<string, unknown>, number, string][] = [
      [{ context: ["home"] }, 422, "Validation failed: Title can't be blank"],
      [{ title: "  ", context: ["home"] }, 422, "Validation failed: Title can't be blank"],
      [{ title: "x" }, 422, "Validation failed: Context can't be blank"],
      [{ title: "x", context: ["home", "everywhere"] }, 422, "Validation failed: Context None or invalid context supplied"],
      [{ title: "x", context: ["home"], filter_action: "explode" }, 422, "Validation failed: Filter action is not included in the list"],
      [{ title: "x", context: ["home"], expires_in: -5 }, 422, "Validation failed: Expires in must be a positive number of seconds"],
      [{ title: "x", context: ["home"], keywords_attributes: [{ keyword: "ok" }, { keyword: "" }] }, 422, "Validation failed: Keywords keyword can't be blank"],
      [{ title: "x".repeat(300), context: ["home"] }, 422, "Validation failed: Title is too long (maximum is 256 characters)"],
      [{ title: "x", context: ["home"], expires_in: "soon" }, 422, ""],
      [{ title: ["x"], context: ["home"] }, 422, ""],
    ];
    for (const [body, status, error] of cases) {
      const response = await as(me).post("/api/v2/filters", body);
      expect([JSON.stringify(body), response.status]).toEqual([JSON.stringify(body), status]);
      if (error) expect(response.json).toEqual({ error });
      else expect(typeof response.json.error).toBe("string");
    }
    expect((await as(me).get("/api/v2/filters")).json).toEqual([]);

    const mine = await createFilter(me, { title: "mine", context: ["home"], keywords_attributes: [{ keyword: "a" }] });
    for (const path of [`/api/v2/filters/${mine.id}`, `/api/v2/filters/${mine.id}/keywords`, `/api/v2/filters/keywords/${mine.keywords[0]!.id}`, "/api/v2/filters/abc", "/api/v2/filters/99999999999999999999"]) {
      expect([path, (await as(thief).get(path)).status]).toEqual([path, 404]);
    }
    expect((await as(thief).put(`/api/v2/filters/${mine.id}`, { title: "stolen" })).status).toBe(404);
    expect((await as(thief).del(`/api/v2/filters/${mine.id}`)).status).toBe(404);
    // Another filter's keyword id in keywords_attributes is 404 and the rename in the same request is undone.
    const theirs = await createFilter(thief, { title: "theirs", context: ["home"], keywords_attributes: [{ keyword: "b" }] });
    const sneaky = await as(me).put(`/api/v2/filters/${mine.id}`, { title: "renamed", keywords_attributes: [{ id: theirs.keywords[0]!.id, _destroy: true }] });
    expect(sneaky.status).toBe(404);
    expect((await as(me).get(`/api/v2/filters/${mine.id}`)).json.title).toBe("mine");
    expect((await as(thief).get(`/api/v2/filters/${theirs.id}`)).json.keywords).toHaveLength(1);
    // A status the filterer cannot see cannot be added.
    const secret = await post(thief, "only for me", { visibility: "direct" });
    expect((await as(me).post(`/api/v2/filters/${mine.id}/statuses`, { status_id: secret })).status).toBe(404);
    // Form encoding with Rails' nested keys works too.
    const form = await as(me).form("/api/v2/filters", [["title", "form"], ["context[]", "public"], ["context[]", "thread"], ["keywords_attributes[0][keyword]", "one"], ["keywords_attributes[0][whole_word]", "false"], ["keywords_attributes[1][keyword]", "two"]]);
    expect(form.status).toBe(200);
    expect(form.json.context).toEqual(["public", "thread"]);
    expect(form.json.keywords.map((k: { keyword: string; whole_word: boolean }) => [k.keyword, k.whole_word])).toEqual([["one", false], ["two", true]]);
    // Scopes: a read-only token cannot write.
    const { token } = await issueToken(context.sql, { userId: me.user.id, applicationId: null, scopes: "read" });
    expect((await call("POST", "/api/v2/filters", { token, json: { title: "x", context: ["home"] } })).status).toBe(403);
  });
});

describe("v1 filters (megalodon)", () => {
  test("create, list, show, update, delete — one keyword per filter; irreversible is hide", async () => {
    const web = buildWebApp(context).listen({ port: 0, hostname: "127.0.0.1" });
    try {
      const me = await user("v1");
      const client = generator("mastodon", `http://127.0.0.1:${web.server!.port}`, me.token);
      const created = (await client.createFilter("Brexit", ["home", "notifications"], { irreversible: true, whole_word: false })).data;
      expect(created).toMatchObject({ phrase: "Brexit", context: ["home", "notifications"], irreversible: true, whole_word: false, expires_at: null });
      const raw = await as(me).get(`/api/v1/filters/${created.id}`);
      expectMatchesSchema(raw.json, "V1Filter");
      // The v2 view of it: one filter, one keyword, hide.
      const v2 = (await as(me).get("/api/v2/filters")).json;
      expect(v2).toHaveLength(1);
      expect(v2[0]).toMatchObject({ title: "Brexit", filter_action: "hide", keywords: [{ id: created.id, keyword: "Brexit", whole_word: false }] });
      const updated = (await client.updateFilter(created.id, "Politics", ["public"], { irreversible: false, whole_word: true })).data;
      expect(updated).toMatchObject({ id: created.id, phrase: "Politics", context: ["public"], irreversible: false, whole_word: true });
      expect((await client.getFilters()).data.map((f) => f.phrase)).toEqual(["Politics"]);
      // A v2 filter with two keywords shows as two v1 filters, and refuses a v1 update.
      const multi = await createFilter(me, { title: "multi", context: ["home"], keywords_attributes: [{ keyword: "one" }, { keyword: "two" }] });
      expect((await client.getFilters()).data.map((f) => f.phrase)).toEqual(["Politics", "one", "two"]);
      expect((await as(me).put(`/api/v1/filters/${multi.keywords[0]!.id}`, { phrase: "x" })).status).toBe(422);
      await client.deleteFilter(created.id);
      expect((await as(me).get(`/api/v1/filters/${created.id}`)).status).toBe(404);
      // Deleting one keyword of the multi-keyword filter keeps the filter.
      expect((await as(me).del(`/api/v1/filters/${multi.keywords[0]!.id}`)).status).toBe(200);
      expect((await as(me).get(`/api/v2/filters/${multi.id}`)).json.keywords.map((k: { keyword: string }) => k.keyword)).toEqual(["two"]);
      expect((await as(me).post("/api/v1/filters", { context: ["home"] })).status).toBe(422);
    } finally {
      await web.stop(true);
    }
  });
});

describe("filters applied", () => {
  test("home, public, tag, account and list: warn annotates, hide removes; own posts and other contexts untouched; expiry", async () => {
    const me = await user("reader");
    const author = await user("author");
    expect((await as(me).post(`/api/v1/accounts/${author.id}/follow`)).status).toBe(200);
    const warned = await post(author, "I love #ca_cats and CATS in general");
    const hidden = await post(author, "Spoiler: the butler did it");
    const plain = await post(author, "Nothing to see here");
    const own = await post(me, "my own cats post");
    const ids = (list: { id: string }[]) => list.map((s) => s.id);
    const home = () => as(me).get("/api/v1/timelines/home");
    await eventually(home, (r) => [warned, hidden, plain].every((id) => ids(r.json).includes(id)));

    await createFilter(me, { title: "Cats", context: ["home", "public", "account"], filter_action: "warn", keywords_attributes: [{ keyword: "cats", whole_word: true }] });
    const hideFilter = await createFilter(me, { title: "Spoilers", context: ["home"], filter_action: "hide", keywords_attributes: [{ keyword: "spoiler" }] });

    const timeline = (await home()).json as { id: string; filtered: { filter: { title: string }; keyword_matches: string[] | null }[] }[];
    expectMatchesSchema(timeline, arrayOf("Status"));
    expect(ids(timeline)).not.toContain(hidden);
    expect(ids(timeline)).toContain(plain);
    const w = timeline.find((s) => s.id === warned)!;
    expect(w.filtered).toHaveLength(1);
    expect(w.filtered[0]!.filter.title).toBe("Cats");
    expect(w.filtered[0]!.keyword_matches).toEqual(["cats"]);
    expect(timeline.find((s) => s.id === plain)!.filtered).toEqual([]);
    expect(timeline.find((s) => s.id === own)!.filtered).toEqual([]);

    // Public and account contexts: the hide filter is home-only, so the spoiler shows there.
    const pub = (await as(me).get("/api/v1/timelines/public?local=true&limit=40")).json as typeof timeline;
    expect(ids(pub)).toContain(hidden);
    expect(pub.find((s) => s.id === warned)!.filtered[0]!.filter.title).toBe("Cats");
    const tag = (await as(me).get("/api/v1/timelines/tag/ca_cats")).json as typeof timeline;
    expect(tag.find((s) => s.id === warned)!.filtered).toHaveLength(1);
    const account = (await as(me).get(`/api/v1/accounts/${author.id}/statuses`)).json as typeof timeline;
    expect(account.find((s) => s.id === warned)!.filtered).toHaveLength(1);
    expect(ids(account)).toContain(hidden);
    // Anonymous readers are never filtered.
    const anon = (await call("GET", "/api/v1/timelines/public?local=true&limit=40")).json as typeof timeline;
    expect(anon.find((s) => s.id === warned)!.filtered).toEqual([]);
    // The author's own view is not affected by the reader's filters.
    const authorsHome = (await as(author).get("/api/v1/timelines/home")).json as typeof timeline;
    expect(authorsHome.find((s) => s.id === warned)?.filtered ?? []).toEqual([]);

    // A list timeline is the home context.
    const list = (await as(me).post("/api/v1/lists", { title: "L" })).json as { id: string };
    expect((await as(me).post(`/api/v1/lists/${list.id}/accounts`, { account_ids: [author.id] })).status).toBe(200);
    const listed = await eventually(() => as(me).get(`/api/v1/timelines/list/${list.id}`), (r) => ids(r.json).includes(plain));
    expect(ids(listed.json)).not.toContain(hidden);

    // A status filter matches by id, with status_matches.
    const byStatus = await createFilter(me, { title: "That one", context: ["home"], filter_action: "blur" });
    expect((await as(me).post(`/api/v2/filters/${byStatus.id}/statuses`, { status_id: plain })).status).toBe(200);
    const again = (await home()).json as { id: string; filtered: { filter: { filter_action: string }; status_matches: string[] | null; keyword_matches: string[] | null }[] }[];
    const blurred = again.find((s) => s.id === plain)!;
    expect(blurred.filtered[0]).toMatchObject({ status_matches: [plain], keyword_matches: null, filter: { filter_action: "blur" } });

    // Deleting the hide filter brings the post back at once (the cache follows the change).
    expect((await as(me).del(`/api/v2/filters/${hideFilter.id}`)).status).toBe(200);
    expect(ids((await home()).json)).toContain(hidden);

    // An expired filter no longer applies.
    const soon = await createFilter(me, { title: "Soon over", context: ["home"], filter_action: "hide", expires_in: 1, keywords_attributes: [{ keyword: "nothing" }] });
    expect(ids((await home()).json)).not.toContain(plain);
    await Bun.sleep(1100);
    expect(ids((await home()).json)).toContain(plain);
    expect(soon.id).toBeTruthy();
  });

  test("thread context and notifications (v1 and grouped v2)", async () => {
    const me = await user("nreader");
    const author = await user("nauthor");
    const root = await post(me, "a question");
    const rude = await post(author, `@${me.username} that is a rude reply`, { in_reply_to_id: root });
    const nice = await post(author, `@${me.username} that is a nice reply`, { in_reply_to_id: root });
    const list = () => as(me).get("/api/v1/notifications?types[]=mention");
    await eventually(list, (r) => r.json.length === 2);

    await createFilter(me, { title: "Rude", context: ["thread", "notifications"], filter_action: "hide", keywords_attributes: [{ keyword: "rude" }] });
    await createFilter(me, { title: "Nice", context: ["thread", "notifications"], filter_action: "warn", keywords_attributes: [{ keyword: "nice" }] });

    const thread = (await as(me).get(`/api/v1/statuses/${root}/context`)).json as { descendants: { id: string; filtered: { filter: { title: string } }[] }[] };
    expectMatchesSchema(thread, "Context");
    expect(thread.descendants.map((s) => s.id)).toEqual([nice]);
    expect(thread.descendants[0]!.filtered[0]!.filter.title).toBe("Nice");

    const v1 = (await list()).json as { status: { id: string; filtered: unknown[] } }[];
    expectMatchesSchema(v1, arrayOf("Notification"));
    expect(v1.map((n) => n.status.id)).toEqual([nice]);
    expect(v1[0]!.status.filtered).toHaveLength(1);

    const v2 = (await as(me).get("/api/v2/notifications?types[]=mention")).json as { statuses: { id: string; filtered: unknown[] }[]; notification_groups: { status_id: string }[] };
    // (The grouped entity's own schema check lives with the notifications tests; here, the statuses.)
    expectMatchesSchema(v2.statuses, arrayOf("Status"));
    expect(v2.notification_groups.map((g) => g.status_id)).toEqual([nice]);
    expect(v2.statuses.map((s) => s.id)).toEqual([nice]);
    expect(v2.statuses[0]!.filtered).toHaveLength(1);
    expect(rude).toBeTruthy();
  });
});

describe("filters on the streaming role", () => {
  let hub: StreamingHub;
  let streaming: ReturnType<typeof buildStreamingApp>;
  beforeAll(() => {
    hub = createStreamingHub(context);
    streaming = buildStreamingApp(context, hub).listen({ hostname: "127.0.0.1", port: 0 });
  });
  afterAll(async () => {
    await hub.close();
    streaming.server?.stop(true);
  });

  test("hide drops the update for that reader only; warn fills `filtered`; changes send filters_changed", async () => {
    const me = await user("sreader");
    const bystander = await user("sbystander");
    const author = await user("sauthor");
    const frames: { stream: string[]; event: string; payload?: string }[] = [];
    const bystanderFrames: typeof frames = [];
    const open = async (token: string, into: typeof frames) => {
      const ws = new WebSocket(`ws://127.0.0.1:${streaming.server!.port}/api/v1/streaming?access_token=${token}&stream=user`);
      ws.addEventListener("message", (event) => into.push(JSON.parse(String(event.data))));
      await new Promise<void>((resolve, reject) => {
        ws.addEventListener("open", () => resolve());
        ws.addEventListener("error", () => reject(new Error("WebSocket failed")));
      });
      ws.send(JSON.stringify({ type: "subscribe", stream: "public:local" }));
      return ws;
    };
    const mine = await open(me.token, frames);
    const theirs = await open(bystander.token, bystanderFrames);
    const deadline = Date.now() + 3000;
    while (hub.subscribers(channelName(context.config.redis.namespace, "public:local")) < 2 || hub.subscribers(homeChannel(context.config.redis.namespace, me.id)) < 1) {
      if (Date.now() > deadline) throw new Error("not subscribed");
      await Bun.sleep(10);
    }
    await hub.settled();

    await createFilter(me, { title: "Hide", context: ["public"], filter_action: "hide", keywords_attributes: [{ keyword: "durian" }] });
    await eventually(async () => frames, (f) => f.some((x) => x.event === "filters_changed"), 3000);
    const changed = frames.find((x) => x.event === "filters_changed")!;
    expect(changed.stream).toEqual(["user"]);
    expect("payload" in changed).toBe(false);
    await createFilter(me, { title: "Warn", context: ["public"], filter_action: "warn", keywords_attributes: [{ keyword: "mango" }] });
    await eventually(async () => frames.filter((x) => x.event === "filters_changed"), (f) => f.length >= 2, 3000);

    const durian = await post(author, "durian smoothie");
    const mango = await post(author, "mango smoothie");
    const payloadOf = (list: typeof frames, id: string) => list.find((x) => x.event === "update" && x.stream[0] === "public:local" && JSON.parse(x.payload!).id === id);
    await eventually(async () => bystanderFrames, (f) => !!payloadOf(f, durian) && !!payloadOf(f, mango), 3000);
    await eventually(async () => frames, (f) => !!payloadOf(f, mango), 3000);
    await Bun.sleep(200);
    expect(payloadOf(frames, durian)).toBeUndefined();
    const warned = JSON.parse(payloadOf(frames, mango)!.payload!) as { filtered: { filter: { title: string }; keyword_matches: string[] }[] };
    expectMatchesSchema(warned, "Status");
    expect(warned.filtered.map((f) => [f.filter.title, f.keyword_matches])).toEqual([["Warn", ["mango"]]]);
    expect(JSON.parse(payloadOf(bystanderFrames, mango)!.payload!).filtered).toEqual([]);

    // Notifications on the user stream go through the notifications context too.
    await createFilter(me, { title: "Quiet", context: ["notifications"], filter_action: "hide", keywords_attributes: [{ keyword: "hush" }] });
    const hushed = await post(author, `@${me.username} hush now`);
    const heard = await post(author, `@${me.username} hello there`);
    const notified = (id: string) => frames.find((x) => x.event === "notification" && JSON.parse(x.payload!).status?.id === id);
    await eventually(async () => frames, () => !!notified(heard), 3000);
    await Bun.sleep(200);
    expect(notified(hushed)).toBeUndefined();
    mine.close();
    theirs.close();
  });
});
