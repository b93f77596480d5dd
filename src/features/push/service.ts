/**
 * Web Push (Mastodon's Web::PushSubscription and Web::PushNotificationWorker). One subscription per access
 * token, with the alerts (notification types) and the policy (whose notifications: all / followed /
 * follower / none) the client chose. Each new notification that passes them is encrypted for the browser's
 * push service with the `web-push` library — RFC 8291 aes128gcm for `standard` subscriptions, the legacy
 * aesgcm draft otherwise, as Mastodon — signed with the instance's VAPID key (RFC 8292), and POSTed through
 * the SSRF-safe client with a TTL and an Urgency. A push service answering 404 or 410 has forgotten the
 * subscription: it is deleted. Other failures are retried by the job.
 */
import { createECDH } from "node:crypto";
import webpush from "web-push";
import { findVisibleAccount } from "../accounts/service";
import { seal, unseal } from "../auth/secrets";
import { relationships } from "../graph/service";
import { findNotification } from "../notifications/service";
import { findVisibleStatus } from "../statuses/service";
import { htmlToPlainText } from "../federation/plain-text";
import { stillKeyOf } from "../media/profile-images";
import { storageFor } from "../../infra/storage/index";
import type { Config } from "../../infra/config";
import type { AppContext } from "../../infra/context";
import { ApiError } from "../../infra/errors";
import { fetchSettings, safeFetch } from "../../infra/http/safe-fetch";
import * as store from "./store";

export type { SubscriptionRow } from "./store";

/** Every notification type a client may ask alerts for (Mastodon's Notification::TYPES as used by push). */
export const ALERT_TYPES = ["mention", "quote", "status", "reblog", "follow", "follow_request", "favourite", "poll", "update", "quoted_update", "admin.sign_up", "admin.report"] as const;
export type AlertType = (typeof ALERT_TYPES)[number];
export const POLICIES = ["all", "followed", "follower", "none"] as const;
export type PushPolicy = (typeof POLICIES)[number];

const TOKEN_SEAL = "web-push-access-token";
/** How long a push service keeps an undelivered message (Mastodon: 48 hours). */
export const PUSH_TTL_SECONDS = 48 * 3600;

export function vapidPublicKey(config: Pick<Config, "vapid">): string {
  return config.vapid?.publicKey ?? "";
}

export interface SubscribeInput {
  endpoint: string;
  p256dh: string;
  auth: string;
  standard: boolean;
  alerts: Partial<Record<AlertType, boolean>>;
  policy?: PushPolicy;
}

/** The browser's keys must be what RFC 8291 needs: a P-256 public point and a 16-byte auth secret. */
function checkKeys(p256dh: string, auth: string): void {
  const point = Buffer.from(p256dh, "base64url");
  let valid = point.length === 65 && point[0] === 4;
  if (valid) {
    try {
      const probe = createECDH("prime256v1");
      probe.generateKeys();
      probe.computeSecret(point); // throws when the point is not on the curve
    } catch {
      valid = false;
    }
  }
  if (!valid) throw ApiError.unprocessable("Validation failed: Key p256dh is not a valid P-256 public key");
  if (Buffer.from(auth, "base64url").length !== 16) throw ApiError.unprocessable("Validation failed: Key auth must be 16 bytes");
}

function allAlerts(given: Partial<Record<AlertType, boolean>>): Record<string, boolean> {
  return Object.fromEntries(ALERT_TYPES.map((type) => [type, given[type] ?? false]));
}

export async function subscribe(context: AppContext, tokenId: string, accountId: string, plainToken: string, input: SubscribeInput): Promise<store.SubscriptionRow> {
  if (!context.config.vapid) throw ApiError.unprocessable("Web Push is not configured on this server");
  checkKeys(input.p256dh, input.auth);
  return store.replaceSubscription(context.sql, {
    accessTokenId: tokenId,
    accountId,
    accessTokenSealed: seal(plainToken, context.config.secretKeyBase, TOKEN_SEAL),
    endpoint: input.endpoint,
    p256dh: input.p256dh,
    auth: input.auth,
    standard: input.standard,
    alerts: allAlerts(input.alerts),
    policy: input.policy ?? "all",
  });
}

export async function currentSubscription(context: AppContext, tokenId: string): Promise<store.SubscriptionRow> {
  const row = await store.findByToken(context.sql, tokenId);
  if (!row) throw ApiError.notFound();
  return row;
}

export async function changeSubscription(context: AppContext, tokenId: string, alerts: Partial<Record<AlertType, boolean>>, policy?: PushPolicy): Promise<store.SubscriptionRow> {
  const given = Object.fromEntries(Object.entries(alerts).filter(([, on]) => on !== undefined)) as Record<string, boolean>;
  const row = await store.updateData(context.sql, tokenId, given, policy);
  if (!row) throw ApiError.notFound();
  return row;
}

export async function unsubscribe(context: AppContext, tokenId: string): Promise<void> {
  await store.deleteByToken(context.sql, tokenId);
}

// ---- delivery ----

/**
 * The subscriptions a new notification goes to: alert on for its type, the policy allowing its sender, the
 * token live, and not a filtered notification (those wait in requests, unannounced).
 */
export async function recipientsOf(context: AppContext, accountId: string, notificationId: string): Promise<string[]> {
  if (!context.config.vapid) return [];
  const notification = await findNotification(context.sql, accountId, notificationId);
  if (!notification || notification.filtered) return [];
  const subscriptions = (await store.liveSubscriptionsOf(context.sql, accountId)).filter((s) => s.alerts[notification.type] === true && s.policy !== "none");
  if (subscriptions.length === 0) return [];
  let relation: { following: boolean; followed_by: boolean } | undefined;
  if (subscriptions.some((s) => s.policy === "followed" || s.policy === "follower")) {
    relation = (await relationships(context.sql, { id: accountId }, [notification.from_account_id]))[0];
  }
  return subscriptions
    .filter((s) => s.policy === "all" || (s.policy === "followed" && relation?.following) || (s.policy === "follower" && relation?.followed_by))
    .map((s) => s.id);
}

/** Mastodon's Web::NotificationSerializer: what the client's service worker gets, in the recipient's locale. */
export interface PushPayload {
  access_token: string;
  preferred_locale: string;
  notification_id: string;
  notification_type: string;
  icon: string;
  title: string;
  body: string;
}

const TITLES: Record<string, (name: string) => string> = {
  mention: (n) => `You were mentioned by ${n}`,
  status: (n) => `${n} just posted`,
  reblog: (n) => `${n} boosted your post`,
  follow: (n) => `${n} is now following you`,
  follow_request: (n) => `${n} has requested to follow you`,
  favourite: (n) => `${n} favorited your post`,
  poll: () => "A poll has ended",
  update: (n) => `${n} edited a post`,
  quote: (n) => `${n} quoted your post`,
  quoted_update: (n) => `${n} edited a post you quoted`,
  "admin.sign_up": (n) => `${n} signed up`,
  "admin.report": (n) => `${n} filed a report`,
};

/** The sender's still avatar, as Account.avatar_static (the default image is served by api/default-images.ts). */
function avatarStaticUrl(config: Config, avatarKey: string | null): string {
  if (!avatarKey) return `${config.baseUrl}/avatars/original/missing.png`;
  return storageFor(config).url(stillKeyOf(avatarKey) ?? avatarKey);
}

export async function buildPayload(context: AppContext, subscription: store.SubscriptionRow, notificationId: string): Promise<PushPayload | undefined> {
  const token = unseal(subscription.access_token_sealed, context.config.secretKeyBase, TOKEN_SEAL);
  const notification = await findNotification(context.sql, subscription.account_id, notificationId);
  if (!token || !notification) return undefined;
  const [recipient, sender] = await Promise.all([findVisibleAccount(context.sql, subscription.account_id), findVisibleAccount(context.sql, notification.from_account_id)]);
  if (!recipient || !sender) return undefined;
  const name = (sender.suspended_at ? "" : sender.display_name.trim()) || sender.username;
  let body = "";
  if (notification.status_id) {
    const status = await findVisibleStatus(context.sql, subscription.account_id, notification.status_id).catch(() => undefined);
    if (status) body = status.spoiler_text ? status.spoiler_text : htmlToPlainText(status.content, 1000);
  } else if (notification.type === "follow" || notification.type === "follow_request") {
    body = htmlToPlainText(sender.note, 1000);
  }
  return {
    access_token: token,
    preferred_locale: recipient.user?.locale ?? "en",
    notification_id: notification.id,
    notification_type: notification.type,
    icon: avatarStaticUrl(context.config, sender.avatar_key),
    title: (TITLES[notification.type] ?? ((n: string) => n))(name),
    body: body.length > 140 ? `${body.slice(0, 139)}…` : body,
  };
}

/** Who push services may contact about our traffic (RFC 8292 `sub`): the instance URL, or a mailto: without https. */
function vapidSubject(config: Config): string {
  return config.baseUrl.startsWith("https://") ? config.baseUrl : `mailto:webmaster@${config.localDomain.replace(/:\d+$/, "")}`;
}

export type DeliveryOutcome = "sent" | "gone" | "rejected" | "skipped";

/**
 * Encrypt and POST one notification to one subscription. Throws on failures worth retrying (network,
 * timeouts, 429 and 5xx); 404 / 410 delete the subscription; other 4xx are dropped (a retry cannot help).
 */
export async function deliverPush(context: AppContext, subscriptionId: string, notificationId: string, urgency: "normal" | "high" = "normal"): Promise<DeliveryOutcome> {
  const vapid = context.config.vapid;
  const subscription = await store.findLive(context.sql, subscriptionId);
  if (!vapid || !subscription) return "skipped";
  const payload = await buildPayload(context, subscription, notificationId);
  if (!payload) return "skipped";
  const details = webpush.generateRequestDetails(
    { endpoint: subscription.endpoint, keys: { p256dh: subscription.key_p256dh, auth: subscription.key_auth } },
    JSON.stringify(payload),
    {
      vapidDetails: { subject: vapidSubject(context.config), publicKey: vapid.publicKey, privateKey: vapid.privateKey },
      TTL: PUSH_TTL_SECONDS,
      urgency,
      contentEncoding: subscription.standard ? "aes128gcm" : "aesgcm",
    },
  );
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(details.headers)) {
    // fetch computes the length itself.
    if (key.toLowerCase() !== "content-length") headers[key.toLowerCase()] = String(value);
  }
  const response = await safeFetch(details.endpoint, fetchSettings(context.config), {
    method: "POST",
    headers,
    body: details.body ? new Uint8Array(details.body) : undefined,
    maxRedirects: 0,
    maxBytes: 64 * 1024,
    headersTimeoutMs: 10_000,
    timeoutMs: 20_000,
  });
  if (response.status === 404 || response.status === 410) {
    await store.deleteById(context.sql, subscription.id);
    return "gone";
  }
  if (response.status === 429 || response.status >= 500) throw new Error(`push service answered ${response.status}`);
  return response.status >= 200 && response.status < 300 ? "sent" : "rejected";
}
