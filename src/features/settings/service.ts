/**
 * Reading and changing instance settings. Stored values are re-validated on read, so a row edited by hand
 * into something invalid falls back to the default instead of breaking every page.
 */
import * as v from "valibot";
import type { Sql } from "../../infra/db";
import { ApiError } from "../../infra/errors";
import { SETTINGS, isSettingKey, type SettingKey, type SettingValue } from "./definitions";
import * as store from "./store";

export interface SettingView {
  key: SettingKey;
  value: unknown;
  isDefault: boolean;
  description: string;
}

export async function listSettings(sql: Sql): Promise<SettingView[]> {
  const stored = await store.readAll(sql);
  return (Object.keys(SETTINGS) as SettingKey[]).map((key) => view(key, stored));
}

export async function getSetting<K extends SettingKey>(sql: Sql, key: K): Promise<SettingValue<K>> {
  const stored = await store.readAll(sql);
  return view(key, stored).value as SettingValue<K>;
}

function view(key: SettingKey, stored: Map<string, unknown>): SettingView {
  const definition = SETTINGS[key];
  const raw = stored.get(key);
  const parsed = raw === undefined ? undefined : v.safeParse(definition.schema, raw);
  const usable = parsed?.success === true;
  return { key, value: usable ? parsed.output : definition.defaultValue, isDefault: !usable, description: definition.description };
}

export function requireSettingKey(key: string): SettingKey {
  if (!isSettingKey(key)) throw ApiError.unprocessable(`Unknown setting "${key}"; known settings: ${Object.keys(SETTINGS).join(", ")}`);
  return key;
}

/** Set a value given as the CLI's text (converted per key) or as JSON-typed input from an API. */
export async function setSetting(sql: Sql, key: string, input: unknown, options: { fromText?: boolean } = {}): Promise<SettingView> {
  const checkedKey = requireSettingKey(key);
  const definition = SETTINGS[checkedKey] as { schema: v.GenericSchema; fromText?: (s: string) => unknown; description: string };
  const candidate = options.fromText && typeof input === "string" && definition.fromText ? definition.fromText(input) : input;
  const parsed = v.safeParse(definition.schema, candidate);
  if (!parsed.success) throw ApiError.unprocessable(`Invalid value for ${checkedKey}: ${parsed.issues[0]?.message ?? "invalid"}`);
  await store.write(sql, checkedKey, parsed.output);
  return { key: checkedKey, value: parsed.output, isDefault: false, description: definition.description };
}

export async function resetSetting(sql: Sql, key: string): Promise<void> {
  await store.remove(sql, requireSettingKey(key));
}
