import { findLocalAccount } from "../../features/accounts/service";
import { issueToken, listTokensForUser, revokeTokenById } from "../../features/auth/tokens";
import { CliError, EXIT_USAGE, type Group } from "../command";
import { withDatabase } from "./database";

export const tokensGroup: Group = {
  name: "tokens",
  summary: "Access tokens for bots, scripts and tests",
  commands: [
    {
      name: "create",
      summary: "Print a new access token for a local account (shown once)",
      synopsis: 'NAME [--scopes "read write follow"] [--description TEXT]',
      options: { scopes: { type: "string" }, description: { type: "string" } },
      optionHelp: { scopes: 'space-separated scopes (default "read write follow push")', description: "a note to recognise the token by" },
      positionals: { min: 1, max: 1 },
      async run({ values, positionals }) {
        const { token } = await withDatabase(async (sql) => {
          const account = await findLocalAccount(sql, positionals[0]!);
          return issueToken(sql, {
            userId: account.user.id,
            applicationId: null,
            scopes: (values.scopes as string | undefined) ?? "read write follow push",
            description: (values.description as string | undefined) ?? "woolly admin tokens create",
          });
        });
        console.log(token);
        return 0;
      },
    },
    {
      name: "list",
      summary: "List a local account's active tokens",
      synopsis: "NAME [--json]",
      options: { json: { type: "boolean" } },
      positionals: { min: 1, max: 1 },
      async run({ values, positionals }) {
        const tokens = await withDatabase(async (sql) => listTokensForUser(sql, (await findLocalAccount(sql, positionals[0]!)).user.id));
        const rows = tokens.map((t) => ({
          id: t.id,
          scopes: t.scopes,
          application: t.application_name,
          description: t.description,
          created_at: t.created_at.toISOString(),
          last_used_at: t.last_used_at?.toISOString() ?? null,
        }));
        if (values.json) console.log(JSON.stringify(rows, null, 2));
        else for (const r of rows) console.log(`${r.id}  ${r.scopes}  ${r.application ?? r.description ?? ""}  last used ${r.last_used_at ?? "never"}`);
        return 0;
      },
    },
    {
      name: "revoke",
      summary: "Revoke a token by its id (from `tokens list`)",
      synopsis: "ID",
      positionals: { min: 1, max: 1 },
      async run({ positionals }) {
        const id = positionals[0]!;
        if (!/^\d{1,19}$/.test(id)) throw new CliError(`not a token id: ${id}`, EXIT_USAGE);
        const revoked = await withDatabase((sql) => revokeTokenById(sql, id));
        if (!revoked) throw new CliError(`no active token with id ${id}`, EXIT_USAGE);
        console.log(`Revoked token ${id}`);
        return 0;
      },
    },
  ],
};
