/**
 * `woolly admin announcements create|list|delete`: the operator's announcements (Mastodon's admin
 * "Announcements" page, until the admin UI has one). Created ones show at once to signed-in users through
 * /api/v1/announcements and their `user` streams.
 */
import { allAnnouncements, createAnnouncement, deleteAnnouncement } from "../../features/announcements/service";
import { renderAnnouncement } from "../../api/entities/announcement";
import { CliError, EXIT_USAGE, type Group } from "../command";
import { openRedis } from "../boot";
import { withDatabase } from "./database";

function parseTime(name: string, value: unknown): Date | null {
  if (value === undefined) return null;
  const date = new Date(String(value));
  if (Number.isNaN(date.getTime())) throw new CliError(`--${name} must be a date and time, e.g. 2026-12-24T18:00:00Z`, EXIT_USAGE);
  return date;
}

export const announcementsGroup: Group = {
  name: "announcements",
  summary: "Create, list and delete announcements shown to every signed-in user",
  commands: [
    {
      name: "create",
      summary: "Publish an announcement (plain text; links are linked)",
      synopsis: "TEXT [--starts-at TIME] [--ends-at TIME] [--all-day] [--json]",
      positionals: { min: 1, max: 1 },
      options: { "starts-at": { type: "string" }, "ends-at": { type: "string" }, "all-day": { type: "boolean" }, json: { type: "boolean" } },
      optionHelp: {
        "starts-at": "when the announced event starts (shown by clients)",
        "ends-at": "when it ends; the announcement disappears then",
        "all-day": "the times are whole days",
        json: "print the Announcement entity as JSON",
      },
      async run({ positionals, values }) {
        const startsAt = parseTime("starts-at", values["starts-at"]);
        const endsAt = parseTime("ends-at", values["ends-at"]);
        const row = await withDatabase(async (sql, config) => {
          const redis = await openRedis(config, "app", "woolly-admin");
          try {
            return await createAnnouncement({ sql, redis, config }, { text: positionals[0]!, startsAt, endsAt, allDay: values["all-day"] === true }, (r) => renderAnnouncement(r));
          } finally {
            await redis.quit().catch(() => redis.disconnect());
          }
        });
        if (values.json) console.log(JSON.stringify(renderAnnouncement(row), null, 2));
        else console.log(`announcement ${row.id} published`);
        return 0;
      },
    },
    {
      name: "list",
      summary: "List every announcement, newest first (ended ones too)",
      options: { json: { type: "boolean" } },
      optionHelp: { json: "print JSON" },
      async run({ values }) {
        const rows = await withDatabase((sql) => allAnnouncements(sql));
        if (values.json) console.log(JSON.stringify(rows.map((row) => ({ ...renderAnnouncement(row), text: row.text })), null, 2));
        else for (const row of rows) console.log(`${row.id}\t${row.published_at.toISOString()}\t${row.ends_at ? `ends ${row.ends_at.toISOString()}` : "no end"}\t${row.text.replace(/\s+/g, " ").slice(0, 60)}`);
        return 0;
      },
    },
    {
      name: "delete",
      summary: "Delete an announcement (clients remove it live)",
      synopsis: "ID",
      positionals: { min: 1, max: 1 },
      async run({ positionals }) {
        const removed = await withDatabase(async (sql, config) => {
          const redis = await openRedis(config, "app", "woolly-admin");
          try {
            return await deleteAnnouncement({ sql, redis, config }, positionals[0]!);
          } finally {
            await redis.quit().catch(() => redis.disconnect());
          }
        });
        if (!removed) throw new CliError(`no announcement ${positionals[0]}`, EXIT_USAGE);
        console.log(`announcement ${positionals[0]} deleted`);
        return 0;
      },
    },
  ],
};
