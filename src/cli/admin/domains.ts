/**
 * `woolly admin domains block|unblock|list|import|export|purge|allow|disallow|allows`: instance-level domain
 * blocks (tootctl domains / the admin UI's "Federation" page). A suspended domain's activities are dropped
 * at the inbox, we fetch nothing from it, and its cached accounts and posts are purged by a background job;
 * silence and the reject flags are stored now and enforced as the features that need them land.
 * Import reads Mastodon's blocklist CSV and only previews unless --apply is given.
 */
import {
  allowDomain,
  applyImport,
  blockDomain,
  disallowDomain,
  formatBlocklistCsv,
  listDomainAllows,
  listDomainBlocks,
  parseBlocklistCsv,
  planImport,
  purgeSuspendedDomain,
  unblockDomain,
  CsvError,
  isSuspendedHost,
  normaliseDomain,
  type DomainBlockFields,
  type Severity,
} from "../../features/federation/domain-blocks";
import { PURGE_BATCH, purgeDomainBatch } from "../../features/admin/jobs";
import { QueueClient, bullPrefix } from "../../infra/queues/client";
import { CliError, EXIT_USAGE, type Group } from "../command";
import { openRedis } from "../boot";
import { withDatabase } from "./database";

/** The CSV may be large but never unbounded: Mastodon's biggest shared lists are a few MB. */
const MAX_CSV_BYTES = 20 * 1024 * 1024;

/** Run fn with the database and a queue client (for purges enqueued after a suspension). */
async function withDatabaseAndQueues<T>(fn: (context: { sql: Parameters<Parameters<typeof withDatabase>[0]>[0]; queues: QueueClient }) => Promise<T>): Promise<T> {
  return withDatabase(async (sql, config) => {
    const redis = await openRedis(config, "app", "woolly-admin");
    const queues = new QueueClient(redis, bullPrefix(config.redis.namespace));
    try {
      return await fn({ sql, queues });
    } finally {
      await queues.close();
      await redis.quit().catch(() => redis.disconnect());
    }
  });
}

const SEVERITIES: Severity[] = ["silence", "suspend", "noop"];

export const domainsGroup: Group = {
  name: "domains",
  summary: "Block, unblock and list remote domains",
  commands: [
    {
      name: "block",
      summary: "Block a domain (and its subdomains); blocking again changes the block",
      synopsis: "DOMAIN [--severity silence|suspend|noop] [--reject-media] [--reject-reports] [--comment TEXT]",
      positionals: { min: 1, max: 1 },
      options: {
        severity: { type: "string" },
        "reject-media": { type: "boolean" },
        "reject-reports": { type: "boolean" },
        comment: { type: "string" },
      },
      optionHelp: {
        severity: "silence (default), suspend, or noop (only the reject flags)",
        "reject-media": "do not store the domain's media",
        "reject-reports": "ignore reports from the domain",
        comment: "a private note for moderators",
      },
      async run({ positionals, values }) {
        const severity = (values.severity as string | undefined) ?? "silence";
        if (!SEVERITIES.includes(severity as Severity)) throw new CliError(`--severity must be one of ${SEVERITIES.join(", ")}`, EXIT_USAGE);
        const block = await withDatabaseAndQueues(async (context) => {
          const block = await blockDomain(context.sql, {
            domain: positionals[0]!,
            severity: severity as Severity,
            rejectMedia: values["reject-media"] === true,
            rejectReports: values["reject-reports"] === true,
            comment: (values.comment as string | undefined) ?? null,
          });
          if (block.severity === "suspend") await purgeSuspendedDomain(context, block.domain);
          return block;
        });
        console.log(`${block.domain} blocked (${describe(block)})`);
        return 0;
      },
    },
    {
      name: "unblock",
      summary: "Remove a domain block",
      synopsis: "DOMAIN",
      positionals: { min: 1, max: 1 },
      async run({ positionals }) {
        const removed = await withDatabase((sql) => unblockDomain(sql, positionals[0]!));
        if (!removed) throw new CliError(`${positionals[0]} is not blocked`, EXIT_USAGE);
        console.log(`${positionals[0]!.toLowerCase()} unblocked`);
        return 0;
      },
    },
    {
      name: "list",
      summary: "List blocked domains",
      options: { json: { type: "boolean" } },
      optionHelp: { json: "print JSON" },
      async run({ values }) {
        const blocks = await withDatabase((sql) => listDomainBlocks(sql));
        if (values.json) console.log(JSON.stringify(blocks.map(({ id: _id, ...rest }) => rest), null, 2));
        else for (const block of blocks) console.log(`${block.domain}\t${describe(block)}`);
        return 0;
      },
    },
    {
      name: "import",
      summary: "Import a blocklist CSV in Mastodon's format; previews unless --apply",
      synopsis: "FILE [--apply] [--json]",
      positionals: { min: 1, max: 1 },
      options: { apply: { type: "boolean" }, json: { type: "boolean" } },
      optionHelp: {
        apply: "write the changes (one transaction); without it nothing is changed",
        json: "print the preview as JSON",
      },
      async run({ positionals, values }) {
        const file = Bun.file(positionals[0]!);
        if (!(await file.exists())) throw new CliError(`${positionals[0]}: no such file`, EXIT_USAGE);
        if (file.size > MAX_CSV_BYTES) throw new CliError(`${positionals[0]}: larger than ${MAX_CSV_BYTES} bytes`, EXIT_USAGE);
        let rows: DomainBlockFields[];
        try {
          rows = parseBlocklistCsv(await file.text());
        } catch (error) {
          if (error instanceof CsvError) throw new CliError(`${positionals[0]}: ${error.message}; nothing was imported`, EXIT_USAGE);
          throw error;
        }
        return withDatabaseAndQueues(async (context) => {
          const plan = await planImport(context.sql, rows);
          if (values.json) {
            console.log(JSON.stringify({ added: plan.added, changed: plan.changed.map((c) => c.after), unchanged: plan.unchanged.length, applied: values.apply === true }, null, 2));
          } else {
            for (const row of plan.added) console.log(`+ ${row.domain}\t${describe(row)}`);
            for (const { before, after } of plan.changed) console.log(`~ ${after.domain}\t${describe(before)} -> ${describe(after)}`);
            console.log(`${plan.added.length} added, ${plan.changed.length} changed, ${plan.unchanged.length} unchanged`);
          }
          if (values.apply) {
            await applyImport(context, plan);
            if (!values.json) console.log("applied");
          } else if (!values.json && plan.added.length + plan.changed.length > 0) {
            console.log("preview only: run again with --apply to write these changes");
          }
          return 0;
        });
      },
    },
    {
      name: "export",
      summary: "Print every domain block as CSV in Mastodon's format",
      async run() {
        const blocks = await withDatabase((sql) => listDomainBlocks(sql));
        process.stdout.write(formatBlocklistCsv(blocks));
        return 0;
      },
    },
    {
      name: "purge",
      summary: "Delete a suspended domain's cached accounts, posts and media now (instead of in the background)",
      synopsis: "DOMAIN",
      positionals: { min: 1, max: 1 },
      async run({ positionals }) {
        const removed = await withDatabase(async (sql, config) => {
          const domain = normaliseDomain(positionals[0]!);
          if (!(await isSuspendedHost(sql, domain))) throw new CliError(`${domain} is not suspended; suspend it first (domains block --severity suspend)`, EXIT_USAGE);
          let total = 0;
          for (;;) {
            const accounts = await purgeDomainBatch({ sql, config }, domain);
            total += accounts;
            if (accounts < PURGE_BATCH) return total;
          }
        });
        console.log(`${positionals[0]!.toLowerCase()}: ${removed} cached account(s) removed with their posts and media`);
        return 0;
      },
    },
    {
      name: "allow",
      summary: "Allow a domain to federate in limited federation mode",
      synopsis: "DOMAIN",
      positionals: { min: 1, max: 1 },
      async run({ positionals }) {
        const allow = await withDatabase((sql) => allowDomain(sql, positionals[0]!));
        console.log(`${allow.domain} allowed`);
        return 0;
      },
    },
    {
      name: "disallow",
      summary: "Remove a domain from the allow-list",
      synopsis: "DOMAIN",
      positionals: { min: 1, max: 1 },
      async run({ positionals }) {
        const removed = await withDatabase((sql) => disallowDomain(sql, { domain: positionals[0]! }));
        if (!removed) throw new CliError(`${positionals[0]} is not allowed`, EXIT_USAGE);
        console.log(`${positionals[0]!.toLowerCase()} disallowed`);
        return 0;
      },
    },
    {
      name: "allows",
      summary: "List allowed domains (limited federation mode)",
      async run() {
        for (const allow of await withDatabase((sql) => listDomainAllows(sql))) console.log(allow.domain);
        return 0;
      },
    },
  ],
};

function describe(block: { severity: string; reject_media: boolean; reject_reports: boolean; obfuscate?: boolean }): string {
  return [block.severity, block.reject_media && "reject media", block.reject_reports && "reject reports", block.obfuscate && "obfuscated"].filter(Boolean).join(", ");
}
