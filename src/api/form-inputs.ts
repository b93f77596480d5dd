/**
 * Input shapes that several endpoints share, as Rails reads them: forms send every value as text, JSON
 * clients send booleans and null. Features apply Mastodon's real limits and messages; these only shape.
 */
import * as v from "valibot";

/** What Rails' boolean casting takes as true; FALSE_VALUES are the other accepted spellings. */
export const TRUE_VALUES = ["true", "1", "on", "t", "yes"];
const FALSE_VALUES = ["false", "0", "off", "f", "no"];

/** Forms send booleans as text ("true", "1"…), JSON as booleans; both become a boolean here. */
export const flag = v.pipe(
  v.union([v.boolean(), v.picklist([0, 1]), v.pipe(v.string(), v.trim(), v.toLowerCase(), v.picklist([...TRUE_VALUES, ...FALSE_VALUES]))], "must be true or false"),
  v.transform((value) => value === true || value === 1 || TRUE_VALUES.includes(value as string)),
);

/** Profile text with a generous raw cap (null means empty): the accounts feature applies the real limits. */
export const profileText = (cap: number) =>
  v.pipe(v.nullable(v.string()), v.transform((s) => s ?? ""), v.maxLength(cap, `is too long (maximum is ${cap} characters)`));

const fieldEntry = v.object({ name: v.nullish(profileText(2000), ""), value: v.nullish(profileText(2000), "") });

/** `fields_attributes` arrives as an array (JSON, `a[][name]`) or keyed by position (`a[0][name]`, `{"0": {…}}`). */
export const fieldsAttributes = v.pipe(
  v.union([v.array(fieldEntry), v.record(v.pipe(v.string(), v.regex(/^\d{1,3}$/)), fieldEntry)], "must be a list of {name, value}"),
  v.transform((value) => (Array.isArray(value) ? value : Object.entries(value).sort(([a], [b]) => Number(a) - Number(b)).map(([, f]) => f))),
  v.maxLength(50, "has too many entries"),
);
