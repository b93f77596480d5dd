/** Mastodon's List entity (REST::ListSerializer). */
import type { ListRow } from "../../features/lists/service";

export interface ListEntity {
  id: string;
  title: string;
  replies_policy: "followed" | "list" | "none";
  exclusive: boolean;
}

export function renderList(list: ListRow): ListEntity {
  return { id: list.id, title: list.title, replies_policy: list.replies_policy, exclusive: list.exclusive };
}
