/**
 * Instance discovery: /api/v2/instance and /api/v1/instance (what clients read first, to learn limits and
 * the streaming URL), plus rules, peers, weekly activity, the extended description and custom emojis.
 * All public. Cached publicly for a short while, as Mastodon does, so a busy instance page stays cheap.
 */
import { countLocalUsers, findContactAccount, knownDomains, weeklyActivity } from "../../features/accounts/service";
import { registrationsMode } from "../../features/accounts/registration";
import type { Rule } from "../../features/settings/definitions";
import { getSetting, listSettings } from "../../features/settings/service";
import { listEnabledEmojis, renderCustomEmoji } from "../../features/custom-emojis/service";
import type { AppContext } from "../../infra/context";
import { routes } from "../endpoint";
import { renderInstance, renderRules, renderV1Instance, type InstanceFacts } from "../entities/instance";

const THREE_MINUTES = "public, max-age=180";
const ONE_DAY = "public, max-age=86400";
const ACTIVITY_WEEKS = 12;

async function settingsMap(context: AppContext): Promise<Map<string, unknown>> {
  return new Map((await listSettings(context.sql)).map((s) => [s.key, s.value]));
}

async function instanceFacts(context: AppContext): Promise<InstanceFacts> {
  const [settings, mode, users, domains] = await Promise.all([
    settingsMap(context),
    registrationsMode(context),
    countLocalUsers(context.sql),
    knownDomains(context.sql),
  ]);
  const text = (key: string) => String(settings.get(key) ?? "");
  return {
    title: text("site_title"),
    shortDescription: text("site_short_description"),
    contactEmail: text("site_contact_email"),
    contactAccount: await findContactAccount(context.sql, text("site_contact_username")),
    registrationsMode: mode,
    userCount: users.confirmed,
    // Sign-ins are recorded by the sign-in flows; until any are, confirmed users are the best estimate.
    activeMonth: users.signedInLastMonth || users.confirmed,
    domainCount: domains.length,
    rules: settings.get("rules") as Rule[],
  };
}

export function instanceRoutes(context: AppContext) {
  return routes(context, "instance", (r) => {
    const tags = ["instance"];

    r.get("/api/v2/instance", { auth: "optional", summary: "View server information", tags }, async ({ set }) => {
      set.headers["cache-control"] = THREE_MINUTES;
      return renderInstance(context.config, await instanceFacts(context));
    });

    r.get("/api/v1/instance", { auth: "optional", summary: "View server information (v1)", tags }, async ({ set }) => {
      set.headers["cache-control"] = THREE_MINUTES;
      return renderV1Instance(context.config, await instanceFacts(context));
    });

    // The rules live in the `rules` instance setting (`woolly admin settings set rules '[{"text": …}]'`).
    r.get("/api/v1/instance/rules", { auth: "optional", summary: "List of rules", tags }, async ({ set }) => {
      set.headers["cache-control"] = THREE_MINUTES;
      return renderRules(await getSetting(context.sql, "rules"));
    });

    r.get("/api/v1/instance/peers", { auth: "optional", summary: "Domains this server knows", tags }, async ({ set }) => {
      set.headers["cache-control"] = ONE_DAY;
      return knownDomains(context.sql);
    });

    r.get("/api/v1/instance/activity", { auth: "optional", summary: "Weekly activity", tags }, async ({ set }) => {
      set.headers["cache-control"] = ONE_DAY;
      const weeks = await weeklyActivity(context.sql, ACTIVITY_WEEKS);
      // Statuses arrive with their own issue; Mastodon sends every number as a string.
      return weeks.map((w) => ({ week: String(w.week), statuses: "0", logins: String(w.logins), registrations: String(w.registrations) }));
    });

    r.get("/api/v1/instance/extended_description", { auth: "optional", summary: "Extended description", tags }, async ({ set }) => {
      set.headers["cache-control"] = THREE_MINUTES;
      const settings = await settingsMap(context);
      // Settings do not record when each key changed yet, so "now" stands in for updated_at.
      return { updated_at: new Date().toISOString(), content: String(settings.get("site_extended_description") ?? "") };
    });

    // The operator's emojis (`woolly admin emoji import`); clients call this on every start.
    r.get("/api/v1/custom_emojis", { auth: "optional", summary: "Custom emojis", tags: ["custom_emojis"] }, async ({ set }) => {
      set.headers["cache-control"] = THREE_MINUTES;
      return (await listEnabledEmojis(context)).map((row) => renderCustomEmoji(context.config, row));
    });
  });
}
