/**
 * `woolly admin relays add|enable|disable|remove|limit|list`: ActivityPub relays (src/features/relays). `add`
 * and `enable` send the Follow at once and report an unreachable URL or one that is not a relay inbox (exit 1;
 * a new URL is not kept, a known one keeps its state and the reason as its last error); the relay's Accept or
 * Reject arrives later, shown by `list`. `disable` sends Undo(Follow) and keeps the relay as idle.
 */
import { addRelay, disableRelay, enableRelay, listRelays, RelayUnreachable, removeRelay, setRelayMaxPerMinute } from "../../features/relays/service";
import { CliError, EXIT_USAGE, type Group } from "../command";
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
  summary: "Subscribe to, enable, disable, throttle, unsubscribe from and list ActivityPub relays",
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
      name: "enable",
      summary: "Enable a known relay again (sends a fresh Follow: pending until the relay accepts)",
      synopsis: "INBOX_URL",
      positionals: { min: 1, max: 1 },
      async run({ positionals }) {
        const row = await reporting(() => withDatabase((sql, config) => enableRelay({ sql, config }, positionals[0]!)));
        console.log(`${row.inbox_url}\tpending (Follow sent; waiting for the relay's Accept)`);
        return 0;
      },
    },
    {
      name: "disable",
      summary: "Disable a relay but keep it listed as idle (sends Undo(Follow); its traffic is no longer taken)",
      synopsis: "INBOX_URL",
      positionals: { min: 1, max: 1 },
      async run({ positionals }) {
        const result = await reporting(() => withDatabase((sql, config) => disableRelay({ sql, config }, positionals[0]!)));
        if (result.undoError) console.error(`warning: the Undo could not be sent: ${result.undoError}`);
        console.log(`${result.relay.inbox_url}\tidle`);
        return 0;
      },
    },
    {
      name: "remove",
      summary: "Unsubscribe from a relay (sends Undo(Follow)) and forget it",
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
      name: "limit",
      summary: "Set how many activities a minute a relay may send us (the excess is dropped; default 6000)",
      synopsis: "INBOX_URL PER_MINUTE",
      positionals: { min: 2, max: 2 },
      async run({ positionals }) {
        const perMinute = Number(positionals[1]);
        if (!/^\d+$/.test(positionals[1]!)) throw new CliError("PER_MINUTE must be a whole number", EXIT_USAGE);
        await withDatabase((sql, config) => setRelayMaxPerMinute({ sql, config }, positionals[0]!, perMinute));
        console.log(`${positionals[0]}\t${perMinute}/min`);
        return 0;
      },
    },
    {
      name: "list",
      summary: "List relays, their state (idle, pending, accepted, rejected), limit and last error",
      options: { json: { type: "boolean" } },
      optionHelp: { json: "print JSON" },
      async run({ values }) {
        const rows = await withDatabase((sql, config) => listRelays({ sql, config }));
        if (values.json) {
          console.log(JSON.stringify(rows.map((r) => ({ inbox_url: r.inbox_url, state: r.state, actor_uri: r.actor_uri, max_per_minute: r.max_per_minute, last_error: r.last_error, since: r.updated_at })), null, 2));
        } else {
          for (const r of rows) console.log(`${r.inbox_url}\t${r.state}${r.actor_uri ? `\t${r.actor_uri}` : ""}${r.last_error ? `\t(last error: ${r.last_error})` : ""}`);
        }
        return 0;
      },
    },
  ],
};
