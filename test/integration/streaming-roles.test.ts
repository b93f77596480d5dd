/**
 * The streaming API as the roles serve it: `woolly streaming` as its own process (a client connected when
 * SIGTERM arrives is closed with 1001 so it reconnects, and the process exits 0), and the streaming routes
 * mounted on the web app as `woolly all` does (Ice Cubes streams from the API host).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Elysia } from "elysia";
import { buildWebApp } from "../../src/api/app";
import { createLocalAccount } from "../../src/features/accounts/service";
import { issueToken } from "../../src/features/auth/tokens";
import { createStreamingHub, STREAMING_WEBSOCKET_OPTIONS, streamingRoutes } from "../../src/streaming/app";
import { freePort, spawnWoolly, waitFor } from "../helpers/cli";
import { testContext, type TestContext } from "../helpers/context";

let context: TestContext;
let token: string;

beforeAll(async () => {
  context = await testContext();
  const { account } = await createLocalAccount(context.sql, context.config, {
    username: "smr_alice",
    email: "smr_alice@example.com",
    password: "correct horse battery",
    confirmed: true,
  });
  token = (await issueToken(context.sql, { userId: account.user.id, applicationId: null, scopes: "read" })).token;
});

afterAll(() => context.close());

function connect(url: string, protocols?: string[]) {
  const ws = new WebSocket(url, protocols);
  const closed = new Promise<number>((resolve) => ws.addEventListener("close", (e) => resolve(e.code)));
  const opened = new Promise<void>((resolve, reject) => {
    ws.addEventListener("open", () => resolve());
    ws.addEventListener("error", () => reject(new Error("refused")));
  });
  return { ws, opened, closed };
}

test("woolly streaming: serves WebSocket clients and closes them with 1001 on SIGTERM", async () => {
  const port = await freePort();
  const role = spawnWoolly(["streaming", "--port", String(port)]);
  try {
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/api/v1/streaming/health`).catch(() => undefined))?.ok, 20_000);
    const client = connect(`ws://127.0.0.1:${port}/api/v1/streaming?stream=public`, [token]);
    await client.opened;
    expect(client.ws.protocol).toBe(token);
    role.kill("SIGTERM");
    expect(await client.closed).toBe(1001);
    expect(await role.exited).toBe(0);
  } finally {
    role.kill("SIGKILL");
  }
}, 60_000);

test("woolly all: the web port upgrades /api/v1/streaming too", async () => {
  const hub = createStreamingHub(context);
  const app = new Elysia({ websocket: STREAMING_WEBSOCKET_OPTIONS })
    .use(buildWebApp(context))
    .use(streamingRoutes(context, hub))
    .listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const client = connect(`ws://127.0.0.1:${app.server!.port}/api/v1/streaming?access_token=${token}&stream=public:local`);
    await client.opened;
    client.ws.send("{oops");
    const answer = await new Promise<string>((resolve) => client.ws.addEventListener("message", (e) => resolve(String(e.data))));
    expect(JSON.parse(answer)).toEqual({ error: "Invalid JSON", status: 400 });
    // The REST API still answers on the same port.
    expect((await fetch(`http://127.0.0.1:${app.server!.port}/api/v1/instance`)).status).toBe(200);
    await hub.close();
    expect(await client.closed).toBe(1001);
  } finally {
    await hub.close();
    app.server?.stop(true);
  }
});
