/**
 * What happened, as services announce it after their transaction commits. Other parts subscribe to these
 * (home fan-out, notifications, streaming, federation delivery) without the announcing service knowing them.
 * Ids are strings (64-bit). Keep payloads small: subscribers load what they need.
 */
export type DomainEvent =
  | { type: "status.created"; statusId: string; accountId: string }
  | { type: "status.updated"; statusId: string; accountId: string }
  | { type: "status.deleted"; statusId: string; accountId: string; visibility: string; reblogOfId: string | null }
  | { type: "status.reblogged"; statusId: string; reblogOfId: string; accountId: string }
  | { type: "status.favourited"; statusId: string; accountId: string }
  | { type: "account.followed"; accountId: string; targetAccountId: string }
  | { type: "account.follow_requested"; accountId: string; targetAccountId: string }
  | { type: "account.unfollowed"; accountId: string; targetAccountId: string; followId?: string; followUri?: string | null; initiatedBy?: string }
  | { type: "account.blocked"; accountId: string; targetAccountId: string }
  | { type: "status.unfavourited"; statusId: string; accountId: string }
  | { type: "account.follow_rejected"; accountId: string; targetAccountId: string; followId: string; followUri: string | null }
  | { type: "account.unblocked"; accountId: string; targetAccountId: string; blockId: string }
  | { type: "account.unmuted"; accountId: string; targetAccountId: string }
  | { type: "account.muted"; accountId: string; targetAccountId: string }
  | { type: "account.domain_blocked"; accountId: string; domain: string }
  | { type: "account.domain_unblocked"; accountId: string; domain: string }
  | { type: "account.updated"; accountId: string }
  | { type: "notification.created"; notificationId: string; accountId: string }
  /** A vote (local or remote voter) was counted; `choices` are the options chosen in this vote. */
  | { type: "poll.voted"; pollId: string; accountId: string; choices: number[] }
  | { type: "report.created"; reportId: string; accountId: string; targetAccountId: string };

export type DomainEventType = DomainEvent["type"];
export type EventOf<T extends DomainEventType> = Extract<DomainEvent, { type: T }>;

/** An event as it travels: with an id (idempotency of subscriber jobs) and when it happened. */
export type PublishedEvent<E extends DomainEvent = DomainEvent> = E & { eventId: string; at: string };
