/**
 * Mastodon's PreviewCard entity (Status.card). With the base URL, the image is our proxy's address
 * (/media_proxy/cards/…, fetched and resized on first view, features/media/card-images.ts) and the blurhash
 * appears once it was fetched; without it (callers not updated yet), the origin's URL as is.
 */
import type { PreviewCard } from "../../features/cards/service";
import { cardImageUrl } from "../../features/media/card-images";

export interface PreviewCardEntity {
  url: string;
  title: string;
  description: string;
  type: "link" | "photo" | "video" | "rich";
  author_name: string;
  author_url: string;
  authors: { name: string; url: string; account: null }[];
  provider_name: string;
  provider_url: string;
  html: string;
  width: number;
  height: number;
  image: string | null;
  image_description: string;
  embed_url: string;
  blurhash: string | null;
  language: string | null;
  published_at: string | null;
}

export function renderCard(card: PreviewCard, baseUrl?: string): PreviewCardEntity {
  return {
    url: card.url,
    title: card.title,
    description: card.description,
    type: card.type,
    author_name: card.author_name,
    author_url: card.author_url,
    authors: card.author_name || card.author_url ? [{ name: card.author_name, url: card.author_url, account: null }] : [],
    provider_name: card.provider_name,
    provider_url: card.provider_url,
    html: card.html,
    width: card.width,
    height: card.height,
    image: baseUrl ? cardImageUrl(baseUrl, card) : card.image_url,
    image_description: card.image_description,
    embed_url: card.embed_url,
    blurhash: (baseUrl && card.image_url && card.image_blurhash) || null,
    language: card.language,
    published_at: card.published_at ? card.published_at.toISOString() : null,
  };
}
