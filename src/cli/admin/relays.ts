/**
 * `woolly admin relays add|remove|list`: ActivityPub relays (src/features/relays). `add` sends the Follow at
 * once and reports an unreachable URL or one that is not a relay inbox (exit 1, nothing kept); the relay's
 * Accept or Reject arrives later, shown by `list`.
 */
import { addRelay, listRelays, removeRelay, RelayUnreachable } from "../../features/relays/service";
import { CliError, type Group } from "../command";
import { withDatabase } from "./database";

async function reporting<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof RelayUnreachable) throw new CliError(error.message, 1);
    throw error;
  }
}

export const relaysGroup: Group = {
  name: "relays",
  summary: "Subscribe to, unsubscribe from and list ActivityPub relays",
  commands: [
    {
      name: "add",
      summary: "Subscribe to a relay by its inbox URL (pending until the relay accepts)",
      synopsis: "INBOX_URL",
      positionals: { min: 1, max: 1 },
      async run({ positionals }) {
        const row = await reporting(() => withDatabase((sql, config) => addRelay({ sql, config }, positionals[0]!)));
        console.log(`${row.inbox_url}\tpending (Follow sent; waiting for the relay's Accept)`);
        return 0;
      },
    },
    {
      name: "remove",
      summary: "Unsubscribe from a relay (sends Undo(Follow))",
      synopsis: "INBOX_URL",
      positionals: { min: 1, max: 1 },
      async run({ positionals }) {
        const result = await reporting(() => withDatabase((sql, config) => removeRelay({ sql, config }, positionals[0]!)));
        if (result.undoError) console.error(`warning: the Undo could not be sent: ${result.undoError}`);
        console.log(`${result.removed.inbox_url}\tremoved`);
        return 0;
      },
    },
    {
      name: "list",
      summary: "List relays and their state (pending, accepted, rejected)",
      options: { json: { type: "boolean" } },
      optionHelp: { json: "print JSON" },
      async run({ values }) {
        const rows = await withDatabase((sql, config) => listRelays({ sql, config }));
        if (values.json) console.log(JSON.stringify(rows.map((r) => ({ inbox_url: r.inbox_url, state: r.state, actor_uri: r.actor_uri, since: r.updated_at })), null, 2));
        else for (const r of rows) console.log(`${r.inbox_url}\t${r.state}${r.actor_uri ? `\t${r.actor_uri}` : ""}`);
        return 0;
      },
    },
  ],
};
