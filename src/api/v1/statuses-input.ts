/**
 * Input schemas for the statuses endpoints. They only shape what clients send (forms send every value as
 * text, JSON clients send null for "not given"); the statuses feature applies Mastodon's rules and messages.
 */
import * as v from "valibot";
import { flag } from "../form-inputs";

export { flag };

/** null (JSON clients) means the same as leaving the field out. */
const opt = <S extends v.GenericSchema>(schema: S) => v.pipe(v.nullish(schema), v.transform((value) => value ?? undefined));

/** Raw caps far above Mastodon's limits: the feature answers with Mastodon's own messages. */
const text = (cap: number) => v.pipe(v.string(), v.maxLength(cap, `is too long (maximum is ${cap} characters)`));

/** An id as a string or a JSON number; its format is checked by the feature (unknown → 404 or 422). */
const id = v.pipe(v.union([v.string(), v.number()], "must be an id"), v.transform(String), v.maxLength(40, "is not an id"));

/** `a[]=1&a[]=2`, `a=1` or a JSON array, always a list here. */
export const idList = (max: number) =>
  v.pipe(
    v.union([id, v.array(id)], "must be a list of ids"),
    v.transform((ids) => (Array.isArray(ids) ? ids : [ids])),
    v.maxLength(max, `must not contain more than ${max} items`),
  );

const seconds = v.pipe(
  v.union([v.number(), v.pipe(v.string(), v.trim(), v.regex(/^-?\d{1,12}$/, "must be a number of seconds"), v.transform(Number))], "must be a number of seconds"),
);

const pollInput = v.object({
  options: v.pipe(
    v.union([text(1000), v.array(text(1000))], "must be a list of options"),
    v.transform((o) => (Array.isArray(o) ? o : [o])),
    v.maxLength(50, "must not contain more than 50 items"),
  ),
  expires_in: seconds,
  multiple: opt(flag),
  hide_totals: opt(flag),
});

const contentEntries = {
  status: opt(text(100_000)),
  spoiler_text: opt(text(100_000)),
  sensitive: opt(flag),
  language: opt(text(100)),
  media_ids: opt(idList(40)),
  poll: opt(pollInput),
};

export const composeBody = v.object({
  ...contentEntries,
  visibility: opt(text(100)),
  in_reply_to_id: opt(id),
  scheduled_at: opt(text(100)),
});
export type ComposeBody = v.InferOutput<typeof composeBody>;

const mediaAttribute = v.object({
  id,
  description: opt(text(10_000)),
  focus: opt(text(100)),
});

export const editBody = v.object({
  ...contentEntries,
  media_attributes: opt(v.pipe(v.array(mediaAttribute, "must be a list"), v.maxLength(40, "must not contain more than 40 items"))),
});
export type EditBody = v.InferOutput<typeof editBody>;

export const idParams = v.object({ id: v.pipe(v.string(), v.maxLength(100, "is not an id")) });

export const idsQuery = v.object({ id: opt(idList(1000)) });

export const scheduleBody = v.object({ scheduled_at: opt(text(100)) });
