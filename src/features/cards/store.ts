/** SQL for preview cards: one row per normalised URL, and the card each status shows. */
import type { Db } from "../../infra/db";
import type { CardData } from "./parse";

export interface CardRow {
  id: string;
  url: string;
  title: string;
  description: string;
  type: "link" | "photo" | "video" | "rich";
  author_name: string;
  author_url: string;
  provider_name: string;
  provider_url: string;
  html: string;
  width: number;
  height: number;
  image_url: string | null;
  image_description: string;
  embed_url: string;
  language: string | null;
  published_at: Date | null;
  source: "fetched" | "federated";
  /** The media pipeline's part (migration 0021): the proxy URL's token, and the blurhash once fetched. */
  image_token: string;
  image_blurhash: string | null;
  expires_at: Date;
  updated_at: Date;
}

const COLUMNS = `c.id, c.url, c.title, c.description, c.type, c.author_name, c.author_url, c.provider_name, c.provider_url, c.html,
  c.width, c.height, c.image_url, c.image_description, c.embed_url, c.language, c.published_at, c.source, c.image_token, c.image_blurhash, c.expires_at, c.updated_at`;

export async function findCardByUrl(db: Db, url: string): Promise<CardRow | undefined> {
  const [row] = await db<CardRow[]>`select ${db.unsafe(COLUMNS)} from preview_cards c where c.url = ${url}`;
  return row;
}

/**
 * Insert or refresh the card for a URL (one row per URL, whoever wins a race); returns its id. The card's url
 * is the key, the link as posted: not og:url or where a redirect led, which the page itself could choose.
 */
export async function upsertCard(db: Db, key: string, card: CardData, source: CardRow["source"], ttlSeconds: number): Promise<string> {
  const [row] = await db<{ id: string }[]>`
    insert into preview_cards (url, title, description, type, author_name, author_url, provider_name, provider_url, html, width, height,
                               image_url, image_description, embed_url, language, published_at, source, expires_at)
    values (${key}, ${card.title}, ${card.description}, ${card.type}, ${card.authorName}, ${card.authorUrl}, ${card.providerName},
            ${card.providerUrl}, ${card.html}, ${card.width}, ${card.height}, ${card.imageUrl}, ${card.imageDescription}, ${card.embedUrl},
            ${card.language}, ${card.publishedAt}, ${source}, now() + make_interval(secs => ${ttlSeconds}))
    on conflict (url) do update set
      title = excluded.title, description = excluded.description, type = excluded.type, author_name = excluded.author_name,
      author_url = excluded.author_url, provider_name = excluded.provider_name, provider_url = excluded.provider_url,
      html = excluded.html, width = excluded.width, height = excluded.height, image_url = excluded.image_url,
      image_description = excluded.image_description, embed_url = excluded.embed_url, language = excluded.language,
      published_at = excluded.published_at, source = excluded.source, expires_at = excluded.expires_at, updated_at = now()
    returning id`;
  return row!.id;
}

/**
 * Point a status at a card; returns whether anything changed (so unchanged posts are not re-announced). A card
 * the origin server sent (federated) is only replaced when `replaceFederated` says so.
 */
export async function linkStatus(db: Db, statusId: string, cardId: string, url: string, replaceFederated = false): Promise<boolean> {
  const rows = await db`
    insert into preview_cards_statuses as l (status_id, preview_card_id, url)
    select ${statusId}, ${cardId}, ${url} where exists (select 1 from statuses where id = ${statusId} and deleted_at is null)
    on conflict (status_id) do update set preview_card_id = excluded.preview_card_id, url = excluded.url
      where l.preview_card_id <> excluded.preview_card_id
        and (${replaceFederated} or not exists (select 1 from preview_cards c where c.id = l.preview_card_id and c.source = 'federated'))
    returning status_id`;
  return rows.length > 0;
}

/** Take a status's card away (not one its origin server sent, unless `includeFederated`). */
export async function unlinkStatus(db: Db, statusId: string, includeFederated = false): Promise<boolean> {
  const rows = await db`
    delete from preview_cards_statuses l using preview_cards c
    where l.status_id = ${statusId} and c.id = l.preview_card_id and (${includeFederated} or c.source <> 'federated')
    returning l.status_id`;
  return rows.length > 0;
}

export async function cardsOfStatuses(db: Db, statusIds: string[]): Promise<(CardRow & { status_id: string })[]> {
  if (statusIds.length === 0) return [];
  return db<(CardRow & { status_id: string })[]>`
    select s.status_id, ${db.unsafe(COLUMNS)} from preview_cards_statuses s join preview_cards c on c.id = s.preview_card_id
    where s.status_id = any(${statusIds}::bigint[])`;
}

/**
 * What the card job needs of a status: its HTML and whether it is still there. Read-only and narrow; the
 * statuses feature owns the table (a boost has no card of its own: clients show the original's).
 */
export async function statusForCard(db: Db, statusId: string): Promise<{ id: string; content: string; reblog_of_id: string | null } | undefined> {
  const [row] = await db<{ id: string; content: string; reblog_of_id: string | null }[]>`
    select id, content, reblog_of_id from statuses where id = ${statusId} and deleted_at is null`;
  return row;
}
