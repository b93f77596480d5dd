/**
 * Featured tags (Mastodon's FeaturedTag): an account features up to 10 hashtags on its profile. Creating one
 * creates the tag when nobody has used it yet. Errors: Mastodon's 422 messages; someone else's is 404.
 */
import type { Db, Sql } from "../../infra/db";
import { ApiError } from "../../infra/errors";
import { normalizeTagName } from "../graph/service";
import { findOrCreateTag } from "../graph/store";
import { isStatusId } from "../statuses/service";
import * as store from "./store";

export type { FeaturedTagRow } from "./store";

/** Mastodon's FeaturedTag::LIMIT. */
export const MAX_FEATURED_TAGS = 10;

export const featuredTagsOf = (sql: Db, accountId: string) => store.featuredOf(sql, accountId);

export async function featureTag(sql: Sql, accountId: string, name: string | undefined): Promise<store.FeaturedTagRow> {
  const normal = normalizeTagName(name ?? "");
  if (!normal) throw ApiError.unprocessable("Validation failed: Tag is invalid");
  const id = await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(hashtext('featured_tags'), hashtext(${accountId}))`;
    if ((await store.countFeatured(tx, accountId)) >= MAX_FEATURED_TAGS) {
      throw ApiError.unprocessable(`Validation failed: You already have the maximum of ${MAX_FEATURED_TAGS} featured hashtags`);
    }
    const tag = await findOrCreateTag(tx, normal.name, normal.displayName);
    const id = await store.insertFeatured(tx, accountId, tag.id);
    if (!id) throw ApiError.unprocessable("Validation failed: Tag has already been taken");
    return id;
  });
  return (await store.featuredOf(sql, accountId, id))[0]!;
}

export async function unfeatureTag(sql: Db, accountId: string, id: string): Promise<void> {
  if (!isStatusId(id) || !(await store.deleteFeatured(sql, accountId, id))) throw ApiError.notFound();
}

export const suggestedTags = (sql: Db, accountId: string) => store.suggestions(sql, accountId, 10);
