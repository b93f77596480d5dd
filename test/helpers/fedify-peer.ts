/**
 * An independent ActivityPub peer for tests: a Fedify server on a loopback port with its own WebFinger,
 * actors (RSA-2048 keys, as Mastodon uses), signatures and inboxes. Our app must run with
 * ALLOWED_PRIVATE_ADDRESSES=127.0.0.0/8,::1/128 to talk to it.
 *
 * - Actors answer only signed GETs (authorize() requires a valid signature), like AUTHORIZED_FETCH servers;
 *   the keyIds Fedify accepted are kept in `signedFetches`.
 * - The shared inbox (/inbox) and personal inboxes (/users/{name}/inbox) record every activity of any type
 *   whose signature Fedify verified (`received`), with the raw JSON body as sent; `waitForActivity` awaits one.
 * - Notes (/notes/{id}) are served from what the test registers with `addNote`; arbitrary JSON objects (a
 *   Question, an Article…) from `addObject`, also behind a signature check.
 * - Sending: `send` uses Fedify's own sendActivity (its signer, its choice of inbox); `postSigned` signs a raw
 *   body with our draft-cavage signer, for requests Fedify would never make (stale dates, wrong keys…).
 */
import { createFederation, InProcessMessageQueue, MemoryKvStore, verifyRequest, type Context, type Federation } from "@fedify/fedify";
import { Activity, Endpoints, Note, Person } from "@fedify/vocab";
import { signCavage } from "../../src/infra/http/signatures";

export interface ReceivedActivity {
  /** Fedify's parsed activity. */
  activity: Activity;
  /** The body exactly as it arrived (parsed JSON), for checks on our JSON-LD shape. */
  json: Record<string, unknown>;
  type: string;
  /** The personal inbox's owner, or null for the shared inbox. */
  recipient: string | null;
  /** The HTTP headers the POST came with (Collection-Synchronization and the like). */
  headers?: Headers;
}

export interface Recipient {
  uri: string;
  inbox: string;
  sharedInbox?: string;
}

export interface FedifyPeer {
  /** e.g. http://127.0.0.1:41234 */
  base: string;
  /** e.g. 127.0.0.1:41234 — the domain our side stores for its accounts. */
  host: string;
  federation: Federation<void>;
  users: readonly string[];
  keys: Record<string, CryptoKeyPair>;
  signedFetches: string[];
  received: ReceivedActivity[];
  actorUri(name: string): string;
  keyId(name: string): string;
  /** The PEM of a user's key (pkcs8 private, spki public). */
  pem(name: string, kind: "private" | "public"): Promise<string>;
  context(): Context<void>;
  /** Serve a Note at /notes/{id} (its id should be `${base}/notes/${id}`). */
  addNote(id: string, note: Note): void;
  /** Serve any JSON at a path (signed GETs only), e.g. a Question or an Article. */
  addObject(path: string, json: Record<string, unknown>): string;
  /** Resolves with the first recorded activity (already received or still to come) that matches. */
  waitForActivity(match: (received: ReceivedActivity) => boolean, timeoutMs?: number): Promise<ReceivedActivity>;
  /** Fedify's sendActivity from one of the peer's users, delivered immediately. */
  send(from: string, to: Recipient, activity: Activity, options?: { preferSharedInbox?: boolean }): Promise<void>;
  /** POST a body to a URL, signed (draft-cavage, rsa-sha256) by a peer user's key with our signer. */
  postSigned(from: string, url: string, body: string | Record<string, unknown>, options?: { now?: Date; keyOf?: string; keyId?: string; headers?: Record<string, string> }): Promise<Response>;
  close(): void;
}

async function toPem(key: CryptoKey, kind: "pkcs8" | "spki"): Promise<string> {
  const der = Buffer.from(await crypto.subtle.exportKey(kind, key)).toString("base64");
  const label = kind === "pkcs8" ? "PRIVATE KEY" : "PUBLIC KEY";
  return `-----BEGIN ${label}-----\n${der.match(/.{1,64}/g)!.join("\n")}\n-----END ${label}-----\n`;
}

/** RSA-2048 as Mastodon uses (Fedify's generateCryptoKeyPair makes 4096-bit keys, seconds each). */
export function rsaKeyPair(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  ) as Promise<CryptoKeyPair>;
}

export interface FedifyPeerOptions {
  users: string[];
  /** The actor's summary HTML (default: one with a link, a script and an entity). */
  summary?: (name: string) => string;
  /** Actors and objects answer signed GETs only (default true). Two such peers cannot fetch each other's
   *  keys (each needs the other's key to check the fetch), so a peer that only sends can turn it off. */
  authorizedFetch?: boolean;
}

export async function startFedifyPeer(options: FedifyPeerOptions): Promise<FedifyPeer> {
  const authorizedFetch = options.authorizedFetch ?? true;
  const keys: Record<string, CryptoKeyPair> = {};
  for (const name of options.users) keys[name] = await rsaKeyPair();
  const signedFetches: string[] = [];
  const received: ReceivedActivity[] = [];
  const waiters: { match: (r: ReceivedActivity) => boolean; resolve: (r: ReceivedActivity) => void }[] = [];
  const rawBodies = new Map<string, Record<string, unknown>>();
  const rawHeaders = new Map<string, Headers>();
  const notes = new Map<string, Note>();
  const objects = new Map<string, Record<string, unknown>>();
  let base = "";

  const federation = createFederation<void>({ kv: new MemoryKvStore(), queue: new InProcessMessageQueue(), allowPrivateAddress: true });
  federation
    .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
      if (!(identifier in keys)) return null;
      const pairs = await ctx.getActorKeyPairs(identifier);
      return new Person({
        id: ctx.getActorUri(identifier),
        preferredUsername: identifier,
        name: `Peer <b>${identifier}</b>`,
        summary:
          options.summary?.(identifier) ??
          `<p>Hello from <a href="https://example.com">${identifier}</a><script>alert(1)</script></p><p>second &amp; last</p>`,
        inbox: ctx.getInboxUri(identifier),
        endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
        url: new URL(`${base}/@${identifier}`),
        publicKey: pairs[0]!.cryptographicKey,
      });
    })
    .setKeyPairsDispatcher(async (_ctx, identifier) => (identifier in keys ? [keys[identifier]!] : []))
    .authorize(async (ctx) => {
      const key = await ctx.getSignedKey();
      if (key?.id) signedFetches.push(key.id.href);
      return key !== null || !authorizedFetch;
    });
  federation
    .setObjectDispatcher(Note, "/notes/{id}", (_ctx, values) => notes.get(values.id) ?? null)
    .authorize(async (ctx) => !authorizedFetch || (await ctx.getSignedKey()) !== null);
  federation.setInboxListeners("/users/{identifier}/inbox", "/inbox").on(Activity, async (ctx, activity) => {
    const id = activity.id?.href ?? "";
    const json = rawBodies.get(id) ?? ((await activity.toJsonLd({ format: "compact" })) as Record<string, unknown>);
    const typeName = typeof json.type === "string" ? json.type : activity.constructor.name;
    const entry: ReceivedActivity = { activity, json, type: typeName, recipient: ctx.recipient, headers: rawHeaders.get(id) };
    received.push(entry);
    for (const waiter of [...waiters]) {
      if (waiter.match(entry)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(entry);
      }
    }
  });

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const url = new URL(request.url);
      if (request.method === "POST" && (url.pathname === "/inbox" || /^\/users\/[^/]+\/inbox$/.test(url.pathname))) {
        // Keep the body as sent (Fedify hands listeners a re-serialised copy).
        try {
          const json = (await request.clone().json()) as Record<string, unknown>;
          if (typeof json.id === "string") {
            rawBodies.set(json.id, json);
            rawHeaders.set(json.id, new Headers(request.headers));
          }
        } catch {
          // Not JSON: Fedify answers it.
        }
      }
      const raw = request.method === "GET" ? objects.get(url.pathname) : undefined;
      if (raw) {
        const ctx = peer.context();
        const key = await verifyRequest(request, { documentLoader: ctx.documentLoader, contextLoader: ctx.contextLoader }).catch(() => null);
        if (!key && authorizedFetch) return new Response("signature required", { status: 401 });
        if (key?.id) signedFetches.push(key.id.href);
        return new Response(JSON.stringify(raw), { headers: { "content-type": "application/activity+json" } });
      }
      return federation.fetch(request, { contextData: undefined });
    },
  });
  base = `http://127.0.0.1:${server.port}`;

  const peer: FedifyPeer = {
    base,
    host: `127.0.0.1:${server.port}`,
    federation,
    users: options.users,
    keys,
    signedFetches,
    received,
    actorUri: (name) => `${base}/users/${name}`,
    keyId: (name) => `${base}/users/${name}#main-key`,
    pem: (name, kind) => (kind === "private" ? toPem(keys[name]!.privateKey, "pkcs8") : toPem(keys[name]!.publicKey, "spki")),
    context: (): Context<void> => federation.createContext(new URL(base), undefined),
    addNote(id, note) {
      notes.set(id, note);
    },
    addObject(path, json) {
      objects.set(path, json);
      return `${base}${path}`;
    },
    waitForActivity(match, timeoutMs = 15_000) {
      const already = received.find(match);
      if (already) return Promise.resolve(already);
      return new Promise((resolve, reject) => {
        const waiter = { match, resolve };
        waiters.push(waiter);
        setTimeout(() => {
          const index = waiters.indexOf(waiter);
          if (index >= 0) {
            waiters.splice(index, 1);
            reject(new Error(`the peer received no matching activity in ${timeoutMs} ms (got: ${received.map((r) => r.type).join(", ") || "nothing"})`));
          }
        }, timeoutMs);
      });
    },
    async send(from, to, activity, sendOptions = {}) {
      const ctx = peer.context();
      await ctx.sendActivity(
        { identifier: from },
        { id: new URL(to.uri), inboxId: new URL(to.inbox), endpoints: to.sharedInbox ? new Endpoints({ sharedInbox: new URL(to.sharedInbox) }) : null },
        activity,
        { immediate: true, preferSharedInbox: sendOptions.preferSharedInbox ?? false },
      );
    },
    async postSigned(from, target, body, postOptions = {}) {
      const text = typeof body === "string" ? body : JSON.stringify(body);
      const url = new URL(target);
      const headers: Record<string, string> = { "content-type": "application/activity+json", host: url.host };
      Object.assign(
        headers,
        signCavage({
          method: "POST",
          url,
          headers,
          body: text,
          keyId: postOptions.keyId ?? peer.keyId(from),
          privateKeyPem: await peer.pem(postOptions.keyOf ?? from, "private"),
          now: postOptions.now,
        }),
      );
      return fetch(url, { method: "POST", headers: { ...headers, ...postOptions.headers }, body: text });
    },
    close() {
      server.stop(true);
    },
  };
  return peer;
}
