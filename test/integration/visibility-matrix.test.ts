/**
 * The visibility matrix, table-driven: for each visibility (public, unlisted, private, direct) × viewer
 * (author, follower, non-follower, mentioned, blocked by the author, blocking the author, muting the author,
 * anonymous), may the viewer see the post — by id (GET /api/v1/statuses/:id and ?id[]=, the shared rule
 * `filterVisible`, the `renderStatuses` entity path), in the author's GET /api/v1/accounts/:id/statuses —
 * and may they reply to, favourite and boost it? Someone who may not see a post gets 404, never 403; a post
 * one may see but not boost (private by someone else, any direct post) is a 422.
 * Every post mentions the `mentioned` viewer, so private and direct posts have someone to reach.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { buildWebApp } from "../../src/api/app";
import { renderStatuses } from "../../src/api/entities/status";
import { createLocalAccount, type LocalAccountRow } from "../../src/features/accounts/service";
import { issueToken } from "../../src/features/auth/tokens";
import { postStatus } from "../../src/features/statuses/service";
import { filterVisible, VISIBILITIES, type Visibility } from "../../src/features/statuses/visibility";
import { inProcessApi } from "../helpers/api";
import { testContext, type TestContext } from "../helpers/context";

type Viewer = "author" | "follower" | "non-follower" | "mentioned" | "blocked-by-author" | "blocking-author" | "muted-by-viewer" | "anonymous";

/** Who may see what: the expected answer for every cell. */
const MATRIX: Record<Viewer, Record<Visibility, boolean>> = {
  author: { public: true, unlisted: true, private: true, direct: true },
  follower: { public: true, unlisted: true, private: true, direct: false },
  "non-follower": { public: true, unlisted: true, private: false, direct: false },
  mentioned: { public: true, unlisted: true, private: true, direct: true },
  "blocked-by-author": { public: false, unlisted: false, private: false, direct: false },
  "blocking-author": { public: true, unlisted: true, private: false, direct: false },
  "muted-by-viewer": { public: true, unlisted: true, private: false, direct: false },
  anonymous: { public: true, unlisted: true, private: false, direct: false },
};

let context: TestContext;
let app: ReturnType<typeof buildWebApp>;
const accounts = new Map<Viewer, LocalAccountRow & { token: string }>();
const posts = new Map<Visibility, string>();

const api = inProcessApi(() => app);
const call = (method: string, path: string, token?: string, body?: unknown) => api(method, path, { token, json: body });

beforeAll(async () => {
  context = await testContext();
  app = buildWebApp(context);
  const suffix = Date.now().toString(36);
  for (const viewer of Object.keys(MATRIX) as Viewer[]) {
    if (viewer === "anonymous") continue;
    const username = `vm_${viewer.replace(/-/g, "_")}_${suffix}`;
    const { account } = await createLocalAccount(context.sql, context.config, { username, email: `${username}@example.com`, password: "correct horse battery", confirmed: true });
    const { token } = await issueToken(context.sql, { userId: account.user.id, applicationId: null, scopes: "read write follow", description: "test" });
    accounts.set(viewer, { ...account, token });
  }
  const author = accounts.get("author")!;
  const post = (who: Viewer, path: string) => call("POST", path.replace(":author", author.id).replace(":viewer", accounts.get(who)!.id), accounts.get(who)!.token);
  expect((await post("follower", "/api/v1/accounts/:author/follow")).json.following).toBe(true);
  expect((await post("author", "/api/v1/accounts/:viewer/block".replace(":viewer", accounts.get("blocked-by-author")!.id))).json.blocking).toBe(true);
  expect((await post("blocking-author", "/api/v1/accounts/:author/block")).json.blocking).toBe(true);
  expect((await post("muted-by-viewer", "/api/v1/accounts/:author/mute")).json.muting).toBe(true);

  const mentioned = accounts.get("mentioned")!;
  for (const visibility of VISIBILITIES) {
    const { statusId } = await postStatus(context, author, { status: `@${mentioned.username} a ${visibility} post`, visibility });
    posts.set(visibility, statusId);
  }
  // The setup itself: every post really mentions `mentioned`.
  const [row] = await context.sql<{ n: number }[]>`select count(*)::int as n from mentions where account_id = ${mentioned.id} and status_id = any(${[...posts.values()]}::bigint[])`;
  expect(row!.n).toBe(4);
});

afterAll(async () => {
  await context.close();
});

const cells = (Object.keys(MATRIX) as Viewer[]).flatMap((viewer) => VISIBILITIES.map((visibility) => ({ viewer, visibility, visible: MATRIX[viewer][visibility] })));

describe("visibility matrix", () => {
  test.each(cells)("$visibility post, $viewer viewer → visible: $visible", async ({ viewer, visibility, visible }) => {
    const account = viewer === "anonymous" ? undefined : accounts.get(viewer)!;
    const statusId = posts.get(visibility)!;
    const author = accounts.get("author")!;

    // The shared rule and the entity path every list uses.
    expect((await filterVisible(context.sql, account?.id, [statusId])).has(statusId)).toBe(visible);
    expect((await renderStatuses(context, account, [statusId])).map((s) => s.id)).toEqual(visible ? [statusId] : []);

    // By id: 200 or 404, never 403; several at once: silently left out.
    const byId = await call("GET", `/api/v1/statuses/${statusId}`, account?.token);
    expect(byId.status).toBe(visible ? 200 : 404);
    if (visible) expect(byId.json.visibility).toBe(visibility);
    const many = await call("GET", `/api/v1/statuses?id[]=${statusId}`, account?.token);
    expect(many.json.map((s: any) => s.id)).toEqual(visible ? [statusId] : []);

    // In the author's profile.
    const listed = await call("GET", `/api/v1/accounts/${author.id}/statuses?limit=40`, account?.token);
    expect(listed.status).toBe(200);
    expect(listed.json.some((s: any) => s.id === statusId)).toBe(visible);
  });

  // Acting on a post needs a signed-in viewer; the viewer who blocks the author is left out here (Mastodon
  // refuses their favourites and boosts with 403, a rule of its own, not a visibility one).
  const actors = cells.filter((c) => c.viewer !== "anonymous" && c.viewer !== "blocking-author");

  test.each(actors)("$visibility post, $viewer viewer: reply, favourite and boost follow visibility", async ({ viewer, visibility, visible }) => {
    const account = accounts.get(viewer)!;
    const statusId = posts.get(visibility)!;

    const reply = await call("POST", "/api/v1/statuses", account.token, { status: "a reply", in_reply_to_id: statusId, visibility: "direct" });
    expect(reply.status).toBe(visible ? 200 : 404);

    const favourite = await call("POST", `/api/v1/statuses/${statusId}/favourite`, account.token);
    expect(favourite.status).toBe(visible ? 200 : 404);
    if (visible) await call("POST", `/api/v1/statuses/${statusId}/unfavourite`, account.token);

    // Boosting: public and unlisted posts; a private one only by its author; a direct one never.
    const boostable = visible && (visibility === "public" || visibility === "unlisted" || (visibility === "private" && viewer === "author"));
    const boost = await call("POST", `/api/v1/statuses/${statusId}/reblog`, account.token);
    expect(boost.status).toBe(boostable ? 200 : visible ? 422 : 404);
    if (boostable) await call("POST", `/api/v1/statuses/${statusId}/unreblog`, account.token);
  });
});
