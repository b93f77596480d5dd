/** Mastodon's WebPushSubscription entity: the subscription as the client set it, and our VAPID public key. */
import { ALERT_TYPES, type SubscriptionRow } from "../../features/push/service";

export interface WebPushSubscriptionEntity {
  id: string;
  endpoint: string;
  standard: boolean;
  alerts: Record<string, boolean>;
  policy: SubscriptionRow["policy"];
  server_key: string;
}

export function renderWebPushSubscription(row: SubscriptionRow, serverKey: string): WebPushSubscriptionEntity {
  return {
    id: row.id,
    endpoint: row.endpoint,
    standard: row.standard,
    alerts: Object.fromEntries(ALERT_TYPES.map((type) => [type, row.alerts[type] === true])),
    policy: row.policy,
    server_key: serverKey,
  };
}
