/**
 * The streaming role's switchboard. One Redis subscriber connection per process; each Redis channel is
 * subscribed once, however many clients need it (reference-counted), and its messages are fanned out in
 * memory to the subscribed connections, filtered per reader. Also: connection limits per token and per
 * address, heartbeats, the periodic token re-check, and the clean shutdown (close 1001 so clients reconnect).
 */
import type { Server } from "bun";
import type { AppContext } from "../infra/context";
import { log } from "../infra/log";
import { createRedis, type Redis } from "../infra/redis";
import { channelPrefix, systemChannel, type StreamMessage } from "../features/streaming/channels";
import { markOnline, PRESENCE_REFRESH_MS, PRESENCE_TTL_MS } from "../features/streaming/presence";
import { recordStreamingMessages, streamingChannels } from "../infra/metrics";
import type { StatusEntity } from "../api/entities/status";
import { buildFrame, Connection, SseConnection, WebSocketConnection, type Subscription } from "./connection";
import { forgetCompiledFilters, trustedFiltersFor } from "../features/filters/cache";
import { splitByFilters } from "./filters";
import { ListGates } from "./lists";
import { streamingMetrics } from "./metrics";
import { RelationsCache } from "./relations";
import { Renderer } from "./render";
import { liveTokenIds } from "./store";
import { resolveStream, StreamError, type StreamRequest } from "./streams";

/** From this many WebSocket readers of one stream on one server, an event is published natively (see deliver). */
const NATIVE_PUBLISH_MIN = 16;

export interface HubOptions {
  maxConnectionsPerToken: number;
  maxConnectionsPerIp: number;
  /** At most this many streams on one WebSocket. */
  maxStreamsPerConnection?: number;
  /** SSE heartbeat; WebSocket pings go every other beat. Mastodon: 15 s and 30 s. */
  heartbeatMs?: number;
  tokenCheckMs?: number;
  /** The "who is listening" record (features/streaming/presence.ts): its TTL and refresh period. */
  presenceTtlMs?: number;
  presenceRefreshMs?: number;
}

export class StreamingHub {
  private readonly subscriber: Redis;
  private readonly channels = new Map<string, Set<Subscription>>();
  private readonly connections = new Set<Connection>();
  private readonly byAccount = new Map<string, Set<Connection>>();
  private readonly perToken = new Map<string, number>();
  private readonly perIp = new Map<string, number>();
  /** Accounts whose home or direct channel this process subscribes to, with how many of the two. */
  private readonly listening = new Map<string, number>();
  readonly relations: RelationsCache;
  readonly lists: ListGates;
  private readonly renderer: Renderer;
  private readonly timers: ReturnType<typeof setInterval>[] = [];
  /** Deliveries run in arrival order (an edit never overtakes its post); renders start at once, in parallel. */
  private tail: Promise<void> = Promise.resolve();
  private beat = 0;
  private readonly pending = new Set<Promise<unknown>>();
  private closing = false;

  constructor(
    private readonly context: AppContext,
    private readonly options: HubOptions,
  ) {
    // The retrying flavour: subscriptions survive a Redis restart (ioredis resubscribes on reconnect).
    this.subscriber = createRedis(context.config.redis, "bullmq", "woolly-streaming-subscriber");
    this.subscriber.on("message", (channel: string, message: string) => this.onRedisMessage(channel, message));
    this.relations = new RelationsCache(context.sql);
    this.lists = new ListGates(context.sql);
    this.renderer = new Renderer(context);
    this.timers.push(setInterval(() => this.heartbeat(), options.heartbeatMs ?? 15_000));
    this.timers.push(setInterval(() => void this.checkTokens(), options.tokenCheckMs ?? 60_000));
    this.timers.push(setInterval(() => void this.refreshPresence(), options.presenceRefreshMs ?? PRESENCE_REFRESH_MS));
    for (const timer of this.timers) timer.unref?.();
  }

  // ---- connections ----

  /** May this token and address open one more connection? */
  admits(tokenId: string, ip: string): boolean {
    const ok = (this.perToken.get(tokenId) ?? 0) < this.options.maxConnectionsPerToken && (this.perIp.get(ip) ?? 0) < this.options.maxConnectionsPerIp;
    if (!ok) streamingMetrics.connectionsRefused++;
    return ok && !this.closing;
  }

  /** Register an authenticated connection (its relations are loaded before the first event can arrive). */
  async attach(connection: Connection): Promise<void> {
    const { account, tokenId, ip } = connection.reader;
    this.connections.add(connection);
    if (connection.kind === "ws") streamingMetrics.websocketClients++;
    else streamingMetrics.sseClients++;
    this.perToken.set(tokenId, (this.perToken.get(tokenId) ?? 0) + 1);
    this.perIp.set(ip, (this.perIp.get(ip) ?? 0) + 1);
    let mine = this.byAccount.get(account.id);
    if (!mine) {
      mine = new Set();
      this.byAccount.set(account.id, mine);
      this.subscribeRedis(systemChannel(this.context.config.redis.namespace, account.id));
    }
    mine.add(connection);
    // Every connection waits: a second one of the same account may arrive while the first load runs.
    await Promise.all([this.relations.ensure(account.id), trustedFiltersFor(this.context, account.id)]);
  }

  /** Forget a connection: its streams, its counts. Safe to call more than once. */
  detach(connection: Connection): void {
    if (!this.connections.delete(connection)) return;
    connection.closed = true;
    if (connection.kind === "ws") streamingMetrics.websocketClients--;
    else streamingMetrics.sseClients--;
    for (const subscription of connection.subscriptions.values()) this.removeSubscription(subscription);
    connection.subscriptions.clear();
    const { account, tokenId, ip } = connection.reader;
    decrement(this.perToken, tokenId);
    decrement(this.perIp, ip);
    const mine = this.byAccount.get(account.id);
    mine?.delete(connection);
    if (mine && mine.size === 0) {
      this.byAccount.delete(account.id);
      this.unsubscribeRedis(systemChannel(this.context.config.redis.namespace, account.id));
      this.relations.drop(account.id);
      forgetCompiledFilters(account.id);
    }
  }

  private resolve(connection: Connection, request: StreamRequest) {
    const reader = { accountId: connection.accountId, scopes: connection.reader.scopes };
    return resolveStream(request, reader, this.context.config.redis.namespace, (listId) => this.lists.owns(connection.accountId, listId));
  }

  /**
   * Before subscribing: a `list` stream needs its list loaded (an async read the synchronous subscribe cannot
   * do). Anything else, or a list that is not the reader's, needs nothing here: subscribe answers the error.
   */
  async prepareStream(connection: Connection, request: StreamRequest): Promise<void> {
    if (request.stream !== "list" || typeof request.list !== "string" || !/^\d{1,19}$/.test(request.list) || BigInt(request.list) > 9223372036854775807n) return;
    await this.lists.prepare(connection.reader.account, request.list).catch((error) => {
      if (!(error instanceof StreamError)) throw error;
    });
  }

  /** Follow a stream; throws StreamError (Mastodon's message and status) when it may not. */
  subscribe(connection: Connection, request: StreamRequest): void {
    const resolved = this.resolve(connection, request);
    const id = JSON.stringify(resolved.key);
    if (connection.subscriptions.has(id) || connection.closed) return;
    if (connection.subscriptions.size >= (this.options.maxStreamsPerConnection ?? 64)) throw new StreamError("Too many streams on one connection", 400);
    const subscription: Subscription = { ...resolved, id, topic: `${resolved.channels.join(" ")} ${id}`, connection };
    connection.subscriptions.set(id, subscription);
    for (const channel of resolved.channels) this.addChannel(channel, subscription);
    if (connection instanceof WebSocketConnection) connection.socket?.subscribe(subscription.topic);
  }

  unsubscribe(connection: Connection, request: StreamRequest): void {
    const resolved = this.resolve(connection, request);
    const subscription = connection.subscriptions.get(JSON.stringify(resolved.key));
    if (!subscription) return;
    connection.subscriptions.delete(subscription.id);
    this.removeSubscription(subscription);
    if (connection instanceof WebSocketConnection && !connection.closed) connection.socket?.unsubscribe(subscription.topic);
  }

  /** How many subscriptions of this process's clients a Redis channel feeds (tests and diagnostics). */
  subscribers(channel: string): number {
    return this.channels.get(channel)?.size ?? 0;
  }

  stats() {
    return { connections: this.connections.size, channels: this.channels.size, accounts: this.byAccount.size };
  }

  // ---- Redis channels, reference-counted ----

  private addChannel(channel: string, subscription: Subscription): void {
    let set = this.channels.get(channel);
    if (!set) {
      set = new Set();
      this.channels.set(channel, set);
      this.subscribeRedis(channel);
      const listener = this.listenerOf(channel);
      if (listener) this.startListening(listener);
    }
    set.add(subscription);
  }

  private removeChannel(channel: string, subscription: Subscription): void {
    const set = this.channels.get(channel);
    if (!set) return;
    set.delete(subscription);
    if (set.size > 0) return;
    this.channels.delete(channel);
    this.unsubscribeRedis(channel);
    const listener = this.listenerOf(channel);
    if (listener) decrement(this.listening, listener);
  }

  // ---- presence: publishers skip home and direct channels nobody listens to ----

  /** The account whose home (`timeline:<id>`) or direct (`timeline:direct:<id>`) channel this is, if it is one. */
  private listenerOf(channel: string): string | undefined {
    const name = channel.slice(channelPrefix(this.context.config.redis.namespace).length);
    const match = /^(?:direct:)?(\d+)$/.exec(name);
    return match?.[1];
  }

  private startListening(accountId: string): void {
    const n = this.listening.get(accountId) ?? 0;
    this.listening.set(accountId, n + 1);
    if (n > 0) return;
    // Awaited by settled() like the SUBSCRIBE: once both are done, the next post is published to this account.
    this.track(this.writePresence([accountId]));
  }

  private writePresence(accountIds: Iterable<string>): Promise<void> {
    return markOnline(this.context.redis, this.context.config.redis.namespace, accountIds, this.options.presenceTtlMs ?? PRESENCE_TTL_MS).catch((error) =>
      log.warn("streaming: presence update failed", { error: String(error?.message ?? error) }),
    );
  }

  /** Keep every listening account's record alive (a process that dies stops this, and its records expire). */
  refreshPresence(): Promise<void> {
    if (this.closing || this.listening.size === 0) return Promise.resolve();
    return this.writePresence(this.listening.keys());
  }

  private track(done: Promise<unknown>): void {
    this.pending.add(done);
    void done.finally(() => this.pending.delete(done));
  }

  /** Stream channels (refcounted above) and per-account system channels (while the account is connected). */
  private subscribeRedis(channel: string): Promise<unknown> {
    streamingMetrics.channels++;
    streamingChannels.inc();
    const done = this.subscriber.subscribe(channel).catch((error) => log.warn("streaming: subscribe failed", { channel, error: String(error?.message ?? error) }));
    this.track(done);
    return done;
  }

  /** Resolves once every Redis SUBSCRIBE sent so far is confirmed (events published after it will arrive). */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  private unsubscribeRedis(channel: string): void {
    streamingMetrics.channels--;
    streamingChannels.dec();
    if (!this.closing) this.subscriber.unsubscribe(channel).catch(() => {});
  }

  private removeSubscription(subscription: Subscription): void {
    for (const channel of subscription.channels) this.removeChannel(channel, subscription);
  }

  // ---- fan-out ----

  private onRedisMessage(channel: string, raw: string): void {
    streamingMetrics.messagesReceived++;
    let message: StreamMessage;
    try {
      message = JSON.parse(raw) as StreamMessage;
    } catch {
      return;
    }
    const prefix = channelPrefix(this.context.config.redis.namespace);
    if (channel.startsWith(`${prefix}system:`)) return this.onSystemMessage(channel.slice(prefix.length + "system:".length), message);
    const subscriptions = this.channels.get(channel);
    if (!subscriptions || subscriptions.size === 0) return;
    const delivery = this.prepare(message, [...subscriptions]);
    this.tail = this.tail.then(() => delivery).catch((error) => log.warn("streaming: delivery failed", { channel, error: String(error?.message ?? error) }));
  }

  private onSystemMessage(accountId: string, message: StreamMessage): void {
    if (message.event === "relations_changed") this.relations.apply(accountId, message.change);
    else if ((message as { event: string }).event === "filters_changed") forgetCompiledFilters(accountId);
    else if (message.event === "kill") for (const connection of this.byAccount.get(accountId) ?? []) this.end(connection, 1008, "Access token revoked");
  }

  /** Start rendering now; the returned promise delivers (awaited in arrival order by the caller). */
  private async prepare(message: StreamMessage, subscriptions: Subscription[]): Promise<void> {
    switch (message.event) {
      case "delete":
        return this.deliver(subscriptions, "delete", message.statusId);
      case "conversation": {
        // The conversations feature announces each participant's conversation once it is recorded (with its
        // id); the bare status-level message the status publisher also sends is left to it.
        const conversationId = (message as { accountConversationId?: string }).accountConversationId;
        if (!conversationId) return;
        return this.deliverPerAccount(subscriptions, (connection) => this.renderer.conversation(connection.reader.account, conversationId));
      }
      case "update":
      case "status.update":
        return this.deliverStatus(message.event, message.statusId, message.ref, subscriptions);
      case "announcement" as StreamMessage["event"]:
      case "announcement.reaction" as StreamMessage["event"]:
      case "announcement.delete" as StreamMessage["event"]: {
        // Rendered once by the publisher (the same for everyone); `user` readers only.
        const payload = (message as unknown as { payload?: unknown }).payload;
        if (typeof payload !== "string") return;
        return this.deliver(subscriptions.filter((s) => s.key[0] === "user"), message.event, payload);
      }
      case "notifications_merged" as StreamMessage["event"]:
        // Accepted notification requests were merged into the main list: clients reload it.
        return this.deliver(subscriptions.filter((s) => s.key[0] === "user"), "notifications_merged", "1");
      case "filters_changed" as StreamMessage["event"]:
        // Mastodon's frame has no payload: clients refetch their filters.
        return this.deliver(subscriptions.filter((s) => s.key[0] === "user"), "filters_changed", undefined);
      case "notification":
        return this.deliverPerAccount(subscriptions, async (connection) => {
          const payload = await this.renderer.notification(connection.reader.account, message.notificationId);
          return payload === undefined ? undefined : { event: "notification", payload };
        });
      default:
        return;
    }
  }

  private async deliverStatus(event: "update" | "status.update", statusId: string, ref: string | undefined, subscriptions: Subscription[]): Promise<void> {
    const shared = await this.renderer.status(statusId, ref);
    // A `list` stream carries only what the list would show.
    const inList = (s: Subscription, status: StatusEntity) => !s.listId || this.lists.allows(s.listId, status);
    if (shared) {
      const allows = (s: Subscription) => (!s.filtered || this.relations.allows(s.connection.accountId, shared.entity)) && inList(s, shared.entity);
      // Readers whose filters match get their own payload (or none, for `hide`); the rest share one.
      const split = await splitByFilters(this.context, subscriptions, shared.entity);
      this.deliver(split.shared, event, shared.json, allows);
      for (const own of split.own) this.deliver(own.subscriptions, event, own.json, allows);
      return;
    }
    // Not visible to just anybody (private, direct): only the reader's own channels carry it, and the
    // publisher chose those readers; render for each reading account. Public streams never fall back.
    const byAccount = new Map<string, Subscription[]>();
    for (const s of subscriptions) {
      if (s.filtered) continue;
      const list = byAccount.get(s.connection.accountId) ?? [];
      list.push(s);
      byAccount.set(s.connection.accountId, list);
    }
    await Promise.all(
      [...byAccount.values()].map(async (list) => {
        const rendered = await this.renderer.status(statusId, ref, list[0]!.connection.reader.account);
        if (!rendered) return;
        const split = await splitByFilters(this.context, list.filter((s) => inList(s, rendered.entity)), rendered.entity);
        this.deliver(split.shared, event, rendered.json);
        for (const own of split.own) this.deliver(own.subscriptions, event, own.json);
      }),
    );
  }

  /** Render once per reading account (several connections of one account share it), then deliver. */
  private async deliverPerAccount(
    subscriptions: Subscription[],
    render: (connection: Connection) => Promise<{ event: string; payload: string } | undefined>,
  ): Promise<void> {
    const byAccount = new Map<string, Subscription[]>();
    for (const s of subscriptions) {
      const list = byAccount.get(s.connection.accountId) ?? [];
      list.push(s);
      byAccount.set(s.connection.accountId, list);
    }
    const rendered = await Promise.all([...byAccount.values()].map(async (list) => ({ list, out: await render(list[0]!.connection) })));
    for (const { list, out } of rendered) if (out) this.deliver(list, out.event, out.payload);
  }

  /**
   * Write one event to subscriptions that `allows` lets through. WebSocket subscribers of one stream on one
   * server share a Bun topic: with many of them the frame is published once, natively (uWS encodes it once
   * and writes it to each socket, several times faster than a send per socket at 10,000 readers), with the
   * few readers the filter rejects stepped out of the topic for that one publish.
   */
  private deliver(subscriptions: Subscription[], event: string, payload: string | undefined, allows?: (s: Subscription) => boolean): void {
    const started = performance.now();
    const frames = new Map<string, string>();
    const frameFor = (s: Subscription) => {
      const cacheKey = `${s.connection.kind}${s.id}`;
      let frame = frames.get(cacheKey);
      if (frame === undefined) {
        frame = buildFrame(s.connection.kind, s.key, event, payload);
        frames.set(cacheKey, frame);
      }
      return frame;
    };
    let sent = 0;
    const writeOne = (s: Subscription) => {
      if (allows && !allows(s)) return;
      if (s.connection.write(frameFor(s))) sent++;
      else if (s.connection.closed) this.detach(s.connection);
    };
    const topics = new Map<Server<unknown>, Map<string, Subscription[]>>();
    for (const subscription of subscriptions) {
      const connection = subscription.connection;
      if (connection.closed) continue;
      if (!(connection instanceof WebSocketConnection) || !connection.server) {
        writeOne(subscription);
        continue;
      }
      let byTopic = topics.get(connection.server);
      if (!byTopic) topics.set(connection.server, (byTopic = new Map()));
      const list = byTopic.get(subscription.topic);
      if (list) list.push(subscription);
      else byTopic.set(subscription.topic, [subscription]);
    }
    for (const [server, byTopic] of topics) {
      for (const [topic, list] of byTopic) {
        if (list.length < NATIVE_PUBLISH_MIN) {
          for (const subscription of list) writeOne(subscription);
          continue;
        }
        const rejected = allows ? list.filter((s) => !allows(s)) : [];
        for (const s of rejected) (s.connection as WebSocketConnection).socket?.unsubscribe(topic);
        server.publish(topic, frameFor(list[0]!));
        for (const s of rejected) if (!s.connection.closed) (s.connection as WebSocketConnection).socket?.subscribe(topic);
        streamingMetrics.messagesSent += list.length - rejected.length;
        sent += list.length - rejected.length;
      }
    }
    recordStreamingMessages(event, sent);
    const ms = performance.now() - started;
    if (ms > 100) log.warn("streaming: slow fan-out", { event, connections: subscriptions.length, ms: Math.round(ms) });
  }

  // ---- upkeep ----

  private heartbeat(): void {
    this.beat++;
    this.renderer.sweep();
    const ping = this.beat % 2 === 0;
    for (const connection of this.connections) {
      if (connection instanceof SseConnection) {
        if (!connection.write(":thump\n\n") && connection.closed) this.detach(connection);
      } else if (ping && connection instanceof WebSocketConnection) {
        // Mastodon pings every 30 s and terminates a socket that did not answer the previous ping.
        if (!connection.alive) {
          connection.closed = true;
          connection.socket?.terminate();
          this.detach(connection);
          continue;
        }
        connection.alive = false;
        connection.socket?.ping();
      }
    }
  }

  /** Revoked tokens, disabled users and suspended accounts lose their connections within a minute. */
  async checkTokens(): Promise<void> {
    const streamedLists = new Set<string>();
    for (const connection of this.connections) for (const s of connection.subscriptions.values()) if (s.listId) streamedLists.add(s.listId);
    await this.lists.refresh(streamedLists).catch((error) => log.warn("streaming: list reload failed", { error: String((error as Error)?.message ?? error) }));
    const ids = [...this.perToken.keys()];
    if (ids.length === 0) return;
    try {
      const live = await liveTokenIds(this.context.sql, ids);
      for (const connection of [...this.connections]) {
        if (!live.has(connection.reader.tokenId)) this.end(connection, 1008, "Access token revoked");
      }
    } catch (error) {
      log.warn("streaming: token check failed", { error: String((error as Error)?.message ?? error) });
    }
  }

  private end(connection: Connection, code: number, reason: string): void {
    connection.end(code, reason);
    this.detach(connection);
  }

  /** Close every connection with 1001 (going away: clients reconnect elsewhere) and leave Redis. */
  async close(): Promise<void> {
    this.closing = true;
    for (const timer of this.timers) clearInterval(timer);
    for (const connection of [...this.connections]) this.end(connection, 1001, "Server shutting down");
    await this.subscriber.quit().catch(() => this.subscriber.disconnect());
  }
}

function decrement(map: Map<string, number>, key: string): void {
  const n = (map.get(key) ?? 1) - 1;
  if (n <= 0) map.delete(key);
  else map.set(key, n);
}
