/**
 * The HTML face of a public status (/@name/:id): the post itself, small, with OpenGraph / Twitter-card meta
 * for link previews and `<link rel="alternate" type="application/activity+json">` pointing at its
 * ActivityPub object, as Mastodon's page has. The content is our own sanitised HTML (statuses store it
 * rendered); everything else is escaped by `html`.
 */
import type { NoteInput } from "../features/federation/activities";
import { htmlToPlainText } from "../features/federation/plain-text";
import { html, SafeHtml } from "./html";

export interface StatusPageInput {
  note: NoteInput;
  displayName: string;
  handle: string;
  profileUrl: string;
}

function excerpt(text: string, max = 300): string {
  const chars = [...text];
  return chars.length > max ? `${chars.slice(0, max - 1).join("")}…` : text;
}

export function statusPageHtml({ note, displayName, handle, profileUrl }: StatusPageInput): string {
  const text = htmlToPlainText(note.content);
  // A content warning hides the text in previews too, as Mastodon's meta does.
  const description = note.spoilerText ? `CW: ${note.spoilerText}` : excerpt(text);
  const image = note.sensitive ? undefined : note.media.find((m) => m.mediaType.startsWith("image/"));
  const url = note.url ?? note.uri;
  const title = `${displayName} (${handle})`;
  const published = note.createdAt.toISOString();
  return html`<!doctype html>
<html lang="${note.language ?? "en"}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}: "${excerpt(text, 60)}"</title>
<link rel="alternate" type="application/activity+json" href="${note.uri}">
<link rel="alternate" type="application/json+oembed" href="${oembedLink(url)}">
<meta property="og:type" content="article"><meta property="og:site_name" content="${new URL(url).host}">
<meta property="og:title" content="${title}"><meta property="og:url" content="${url}">
<meta property="og:description" content="${description}"><meta property="og:published_time" content="${published}">
${image ? html`<meta property="og:image" content="${image.url}"><meta property="og:image:alt" content="${image.description ?? ""}">` : ""}
<meta name="twitter:card" content="${image ? "summary_large_image" : "summary"}">
</head><body><main><article class="status">
<header><a href="${profileUrl}"><strong>${displayName}</strong> <span>${handle}</span></a></header>
${note.spoilerText ? html`<details><summary>${note.spoilerText}</summary><div class="content">${new SafeHtml(note.content)}</div></details>` : html`<div class="content">${new SafeHtml(note.content)}</div>`}
${note.media.map((m) => html`<figure><a href="${m.url}">${m.mediaType.startsWith("image/") ? html`<img src="${m.url}" alt="${m.description ?? ""}">` : m.description ?? m.url}</a></figure>`)}
<footer><a href="${url}"><time datetime="${published}">${published}</time></a>${note.editedAt ? " · edited" : ""}</footer>
</article></main></body></html>`.value;
}

function oembedLink(url: string): string {
  const base = new URL(url);
  return `${base.origin}/api/oembed?format=json&url=${encodeURIComponent(url)}`;
}

/** Mastodon's oEmbed answer for a status: a "rich" embed with a blockquote linking back. */
export function statusOembed(input: StatusPageInput, providerName: string, providerUrl: string): Record<string, unknown> {
  const { note } = input;
  const url = note.url ?? note.uri;
  const body = html`<blockquote class="woolly-embed" data-embed-url="${url}/embed"><a href="${url}">${note.spoilerText || excerpt(htmlToPlainText(note.content), 500)}</a> — ${input.displayName} (${input.handle})</blockquote>`;
  return {
    type: "rich",
    version: "1.0",
    title: `New status by ${input.handle.replace(/^@/, "").split("@")[0]}`,
    author_name: input.displayName,
    author_url: input.profileUrl,
    provider_name: providerName,
    provider_url: providerUrl,
    cache_age: 86400,
    html: body.value,
    width: 400,
    height: null,
  };
}
