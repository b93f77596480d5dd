/** Queue names and meanings as in Mastodon's Sidekiq setup, so operators can reuse what they know. */
export const QUEUE_NAMES = ["default", "push", "pull", "ingress", "mailers", "scheduler"] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

export const QUEUE_PURPOSE: Record<QueueName, string> = {
  default: "local work: fan-out, notifications, media processing",
  push: "outbound delivery to remote inboxes and Web Push",
  pull: "fetching remote things: accounts, posts, media, link previews",
  ingress: "processing inbound activities",
  mailers: "email",
  scheduler: "recurring jobs fired by the scheduler role",
};

export function isQueueName(name: string): name is QueueName {
  return (QUEUE_NAMES as readonly string[]).includes(name);
}

/** Parse `--queues ingress,push` into checked names; throws a message naming the bad one. */
export function parseQueueList(text: string): QueueName[] {
  const names = text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0) throw new Error(`--queues needs at least one of ${QUEUE_NAMES.join(", ")}`);
  for (const name of names) {
    if (!isQueueName(name)) throw new Error(`unknown queue "${name}"; queues are ${QUEUE_NAMES.join(", ")}`);
  }
  return [...new Set(names)] as QueueName[];
}
