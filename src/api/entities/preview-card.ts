/**
 * Mastodon's PreviewCard entity (Status.card). The image is the origin's URL as is: card images are remote
 * references (the media pipeline's lazy remote media may proxy them later); no blurhash without the image.
 */
import type { PreviewCard } from "../../features/cards/service";

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

export function renderCard(card: PreviewCard): PreviewCardEntity {
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
    image: card.image_url,
    image_description: card.image_description,
    embed_url: card.embed_url,
    blurhash: null,
    language: card.language,
    published_at: card.published_at ? card.published_at.toISOString() : null,
  };
}
