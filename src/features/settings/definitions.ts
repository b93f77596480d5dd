/**
 * Instance settings that an operator changes at run time (admin UI, `woolly admin settings set`). Each key
 * has a schema, a default and a one-line description; unknown keys are refused. Later features add keys here.
 */
import * as v from "valibot";

interface SettingDefinition<T> {
  schema: v.GenericSchema<unknown, T>;
  defaultValue: T;
  description: string;
  /** How to turn the CLI's text argument into the value (numbers, booleans); strings pass through. */
  fromText?: (text: string) => unknown;
}

const text = (max: number) => v.pipe(v.string(), v.maxLength(max));
const days = v.nullable(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(36_500)));
const nullableNumberFromText = (s: string) => (s === "" || s === "null" || s === "0" ? null : Number(s));
/** JSON from the CLI; text that is not JSON is passed on as-is so the schema names the problem. */
const jsonFromText = (s: string) => {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
};

/** Server rules as Mastodon shows them (sign-up, about page, report categories). Ids are their positions. */
const rules = v.pipe(
  v.array(v.strictObject({ text: v.pipe(v.string(), v.minLength(1), v.maxLength(300)), hint: v.optional(v.pipe(v.string(), v.maxLength(300)), "") })),
  v.maxLength(50),
);
export type Rule = v.InferOutput<typeof rules>[number];

export const SETTINGS = {
  site_title: { schema: text(200), defaultValue: "Woolly", description: "Instance name shown to people and clients" },
  site_short_description: { schema: text(500), defaultValue: "", description: "One-paragraph description" },
  site_extended_description: { schema: text(20_000), defaultValue: "", description: "About page text (HTML allowed, sanitised)" },
  site_contact_email: { schema: v.union([v.literal(""), v.pipe(v.string(), v.email())]), defaultValue: "", description: "Public contact address" },
  site_contact_username: { schema: text(30), defaultValue: "", description: "Local account shown as the contact" },
  registrations_mode: {
    schema: v.picklist(["open", "approved", "none"]),
    defaultValue: "none" as "open" | "approved" | "none",
    description: "Who can sign up: open, approved (needs moderator approval) or none",
  },
  rules: {
    schema: rules,
    defaultValue: [] as Rule[],
    description: 'Server rules, as JSON: [{"text": "Be kind", "hint": "optional detail"}]',
    fromText: jsonFromText,
  },
  media_cache_retention_period: { schema: days, defaultValue: null as number | null, description: "Days to keep cached remote media (empty: forever)", fromText: nullableNumberFromText },
  content_cache_retention_period: { schema: days, defaultValue: null as number | null, description: "Days to keep remote posts nobody here interacted with (empty: forever)", fromText: nullableNumberFromText },
  backups_retention_period: { schema: days, defaultValue: 7 as number | null, description: "Days to keep user archives (Mastodon's user archive retention period; empty: forever)", fromText: nullableNumberFromText },
  show_domain_blocks: {
    schema: v.picklist(["disabled", "users", "all"]),
    defaultValue: "disabled" as "disabled" | "users" | "all",
    description: "Who may read /api/v1/instance/domain_blocks: disabled, users (signed in) or all",
  },
  privacy_policy: { schema: text(100_000), defaultValue: "", description: "Privacy policy (HTML allowed, sanitised); empty shows a short default" },
} satisfies Record<string, SettingDefinition<any>>;

export type SettingKey = keyof typeof SETTINGS;
export type SettingValue<K extends SettingKey> = (typeof SETTINGS)[K]["defaultValue"];

export function isSettingKey(key: string): key is SettingKey {
  return Object.hasOwn(SETTINGS, key);
}
