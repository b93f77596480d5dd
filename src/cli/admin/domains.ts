/**
 * `woolly admin domains block|unblock|list`: instance-level domain blocks (tootctl domains / the admin
 * UI's "Federation" page). A suspended domain's activities are dropped at the inbox and we fetch nothing
 * from it; silence and the reject flags are stored now and enforced as the features that need them land.
 */
import { blockDomain, listDomainBlocks, unblockDomain, type Severity } from "../../features/federation/domain-blocks";
import { CliError, EXIT_USAGE, type Group } from "../command";
import { withDatabase } from "./database";

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
        const block = await withDatabase((sql) =>
          blockDomain(sql, {
            domain: positionals[0]!,
            severity: severity as Severity,
            rejectMedia: values["reject-media"] === true,
            rejectReports: values["reject-reports"] === true,
            comment: (values.comment as string | undefined) ?? null,
          }),
        );
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
  ],
};

function describe(block: { severity: string; reject_media: boolean; reject_reports: boolean }): string {
  return [block.severity, block.reject_media && "reject media", block.reject_reports && "reject reports"].filter(Boolean).join(", ");
}
