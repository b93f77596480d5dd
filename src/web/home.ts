/**
 * GET /: the front page. It says which instance this is and offers the ways in (sign in, sign up when
 * open); signed in, it says who you are. In single-user mode it shows the owner's profile instead, as
 * Mastodon does. Clients never come here; people do, after signing in or when following a link.
 */
import { Elysia } from "elysia";
import { registrationsMode } from "../features/accounts/registration";
import { findContactAccount } from "../features/accounts/service";
import { getSetting } from "../features/settings/service";
import { plainToHtml } from "../features/text/plain-to-html";
import type { AppContext } from "../infra/context";
import { html, SafeHtml } from "./html";
import { page } from "./layout";
import { PAGE_ROUTE, webHandler, type WebRequest } from "./request";

async function ownerProfile(web: WebRequest): Promise<Response> {
  const owner = await findContactAccount(web.context.sql, "");
  if (!owner) return page(web, { title: "Nobody here yet", body: html`<p>This single-user server has no owner account yet.</p>` });
  const handle = `@${owner.username}@${web.context.config.localDomain}`;
  return page(web, {
    title: owner.display_name || owner.username,
    body: html`<p><strong>${handle}</strong></p>
      <div>${new SafeHtml(plainToHtml(owner.note))}</div>
      <p>${owner.followers_count} followers · ${owner.following_count} following · ${owner.statuses_count} posts</p>`,
  });
}

async function frontPage(web: WebRequest): Promise<Response> {
  if (web.context.config.singleUserMode) return ownerProfile(web);
  const [title, description, mode] = await Promise.all([
    getSetting(web.context.sql, "site_title"),
    getSetting(web.context.sql, "site_short_description"),
    registrationsMode(web.context),
  ]);
  const account = web.session?.account;
  const ways = account
    ? html`<p class="notice" role="status">You are signed in as <strong>@${account.username}</strong>. Use any Mastodon app with this server's address: <strong>${web.context.config.webDomain}</strong>.</p>`
    : html`<div class="actions"><a href="/auth/sign_in">Sign in</a>${mode === "none" ? "" : html` · <a href="/auth/sign_up">Create an account</a>`}</div>`;
  return page(web, {
    title,
    body: html`${description ? html`<p>${description}</p>` : ""}${ways}`,
  });
}

export function homePage(context: AppContext) {
  return new Elysia({ name: "home-page" }).get("/", webHandler(context, frontPage), PAGE_ROUTE);
}
