/**
 * Turning ids from Redis into payload strings. A status is rendered once as nobody in particular (what
 * Mastodon streams: no favourited/bookmarked flags) and shared by every channel and connection that gets
 * it within a short window; only what nobody-in-particular may not see (private and direct posts) is
 * rendered per reading account, and only on that account's own channels.
 */
import type { LocalAccountRow } from "../features/accounts/service";
import { findNotification } from "../features/notifications/service";
import type { AppContext } from "../infra/context";
import { log } from "../infra/log";
import { renderNotifications } from "../api/entities/notification";
import { renderStatuses, type StatusEntity } from "../api/entities/status";
import { renderConversations } from "../api/entities/conversation";
import { filterNotifications } from "../api/filtering";
import { findConversation } from "../features/conversations/service";

export interface Rendered<T> {
  entity: T;
  json: string;
}

/** How long a rendered status is reused: long enough to cover one publish burst across channels. */
const CACHE_MS = 2_000;

export class Renderer {
  private readonly cache = new Map<string, { at: number; value: Promise<Rendered<StatusEntity> | undefined> }>();

  constructor(private readonly context: AppContext) {}

  /**
   * The status as anybody may see it (no viewer), or as `viewer` sees it; undefined when not visible (or
   * gone). `ref` names the publish: every channel one publish reaches shares one render, and a later
   * publish (an edit) renders afresh.
   */
  status(statusId: string, ref: string | undefined, viewer?: LocalAccountRow): Promise<Rendered<StatusEntity> | undefined> {
    const key = `${ref ?? Math.random()}:${statusId}:${viewer?.id ?? ""}`;
    const hit = this.cache.get(key);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.value;
    const value = renderStatuses(this.context, viewer, [statusId])
      .then(([entity]) => (entity ? { entity, json: JSON.stringify(entity) } : undefined))
      .catch((error) => {
        log.warn("streaming: rendering a status failed", { status_id: statusId, error: String(error?.message ?? error) });
        return undefined;
      });
    this.cache.set(key, { at: Date.now(), value });
    return value;
  }

  async notification(viewer: LocalAccountRow, notificationId: string): Promise<string | undefined> {
    try {
      const row = await findNotification(this.context.sql, viewer.id, notificationId);
      if (!row) return undefined;
      // The reader's filters in the notifications context: `hide` drops it, warn / blur annotate its status.
      const [entity] = await filterNotifications(this.context, viewer, await renderNotifications(this.context, viewer, [row]));
      return entity ? JSON.stringify(entity) : undefined;
    } catch (error) {
      log.warn("streaming: rendering a notification failed", { notification_id: notificationId, error: String((error as Error)?.message ?? error) });
      return undefined;
    }
  }

  /** A Conversation entity for the `direct` stream, only when the conversation row is the reader's own. */
  async conversation(viewer: LocalAccountRow, accountConversationId: string): Promise<{ event: string; payload: string } | undefined> {
    try {
      const row = await findConversation(this.context.sql, viewer.id, accountConversationId);
      const [entity] = await renderConversations(this.context, viewer, [row]);
      return entity?.last_status ? { event: "conversation", payload: JSON.stringify(entity) } : undefined;
    } catch (error) {
      log.warn("streaming: rendering a conversation failed", { conversation_id: accountConversationId, error: String((error as Error)?.message ?? error) });
      return undefined;
    }
  }

  /** Forget old renders (called from the hub's periodic tick). */
  sweep(): void {
    const now = Date.now();
    for (const [key, entry] of this.cache) if (now - entry.at >= CACHE_MS) this.cache.delete(key);
  }
}
