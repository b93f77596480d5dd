import { existsSync } from "node:fs";
import {
  createLocalAccount,
  deleteLocalAccount,
  findVisibleLocalAccount,
  listLocalAccounts,
  modifyLocalAccount,
  type LocalAccountRow,
} from "../../features/accounts/service";
import { ROLES, isRoleName, type RoleName } from "../../features/accounts/rules";
import { generatePassword } from "../../features/auth/secrets";
import { CliError, EXIT_USAGE, UsageError, type Command, type Group } from "../command";
import { withDatabase } from "./database";
import { announceAccountDeletion } from "../../features/federation/delivery";
import { boot, oneLine, type Booted } from "../boot";
import { ApiError } from "../../infra/errors";
import { cullRemoteAccounts } from "../../features/maintenance/cull";
import { massFollow } from "../../features/maintenance/mass-follow";
import { refreshRemoteAccounts } from "../../features/maintenance/refresh";
import { buildArchive, createArchiveRequest, readArchive } from "../../features/archives/service";
import { requestArchive } from "../../features/archives/jobs";

/**
 * Delete(Person) to the servers that follow or are followed by the account, signed now while its key still
 * exists (features/federation/delivery.ts). Best effort: Redis being away must not block a deletion.
 */
async function announceDeletion(name: string): Promise<void> {
  let booted;
  try {
    booted = await boot("admin", "require");
  } catch (error) {
    console.error(`warning: other servers were not told of the deletion: ${oneLine(error)}`);
    return;
  }
  try {
    const account = await findVisibleLocalAccount(booted.context.sql, name.replace(/^@/, ""));
    if (account) await announceAccountDeletion(booted.context, account.id);
  } finally {
    await booted.close();
  }
}

function roleFlag(value: unknown): RoleName | undefined {
  if (value === undefined) return undefined;
  const match = ROLES.find((r) => r.toLowerCase() === String(value).toLowerCase());
  if (!match || !isRoleName(match)) throw new UsageError(`--role must be one of ${ROLES.join(", ")}`, "");
  return match;
}

function summary(account: LocalAccountRow) {
  return {
    id: account.id,
    username: account.username,
    email: account.user.email,
    role: account.user.role,
    confirmed: account.user.confirmed_at !== null,
    approved: account.user.approved,
    disabled: account.user.disabled,
    created_at: account.created_at.toISOString(),
  };
}

/** Boot the full context (Redis too: jobs and events) for a command; feature refusals become exit 2. */
async function withFeature<T>(fn: (context: Booted["context"]) => Promise<T>): Promise<T> {
  const booted = await boot("admin", "require");
  try {
    return await fn(booted.context);
  } catch (error) {
    if (error instanceof ApiError) throw new CliError(error.message, error.status === 404 || error.status === 422 ? EXIT_USAGE : 1);
    throw error;
  } finally {
    await booted.close();
  }
}

function followCommand(direction: "follow" | "unfollow"): Command {
  return {
    name: direction,
    summary: direction === "follow" ? "Make every local account follow the local account NAME" : "Make every local account stop following the local account NAME",
    synopsis: "NAME",
    positionals: { min: 1, max: 1 },
    async run({ positionals }) {
      const report = await withFeature((context) => massFollow(context, positionals[0]!, direction));
      for (const name of report.refused) console.log(`refused for @${name} (a block between the accounts)`);
      console.log(`${report.changed} local account(s) ${direction === "follow" ? "now follow" : "no longer follow"} @${positionals[0]!.replace(/^@/, "")}`);
      return 0;
    },
  };
}

export const accountsGroup: Group = {
  name: "accounts",
  summary: "Create, change, list, delete, back up and mass-follow local accounts; cull gone remote ones",
  commands: [
    {
      name: "create",
      summary: "Create a local account; prints a generated password once",
      synopsis: "NAME --email EMAIL [--role ROLE] [--confirmed] [--approve]",
      options: { email: { type: "string" }, role: { type: "string" }, confirmed: { type: "boolean" }, approve: { type: "boolean" } },
      optionHelp: { email: "email address (required)", role: ROLES.join(" | "), confirmed: "skip the confirmation mail", approve: "approve at once (approval-mode registrations)" },
      positionals: { min: 1, max: 1 },
      async run({ values, positionals }) {
        if (typeof values.email !== "string") throw new UsageError("--email is required", "");
        const role = roleFlag(values.role);
        const password = generatePassword();
        const { account } = await withDatabase((sql, config) =>
          createLocalAccount(sql, config, {
            username: positionals[0]!,
            email: values.email as string,
            password,
            role,
            confirmed: values.confirmed === true,
            approved: values.approve === true || undefined,
            allowReserved: true,
          }),
        );
        console.log(`Created @${account.username} (${account.user.role})`);
        console.log(`New password: ${password}`);
        return 0;
      },
    },
    {
      name: "modify",
      summary: "Change a local account",
      synopsis: "NAME [--role ROLE] [--approve] [--confirm] [--disable|--enable] [--email EMAIL] [--reset-password]",
      options: {
        role: { type: "string" },
        approve: { type: "boolean" },
        confirm: { type: "boolean" },
        disable: { type: "boolean" },
        enable: { type: "boolean" },
        email: { type: "string" },
        "reset-password": { type: "boolean" },
      },
      optionHelp: { role: ROLES.join(" | "), "reset-password": "set a new generated password and print it once" },
      positionals: { min: 1, max: 1 },
      async run({ values, positionals }) {
        if (values.disable && values.enable) throw new UsageError("--disable and --enable exclude each other", "");
        const password = values["reset-password"] ? generatePassword() : undefined;
        const account = await withDatabase((sql) =>
          modifyLocalAccount(sql, positionals[0]!, {
            role: roleFlag(values.role),
            approve: values.approve === true,
            confirm: values.confirm === true,
            disabled: values.disable ? true : values.enable ? false : undefined,
            email: values.email as string | undefined,
            password,
          }),
        );
        console.log(`Modified @${account.username}: ${JSON.stringify(summary(account))}`);
        if (password) console.log(`New password: ${password}`);
        return 0;
      },
    },
    {
      name: "delete",
      summary: "Delete a local account and everything it owns",
      synopsis: "NAME",
      positionals: { min: 1, max: 1 },
      async run({ positionals }) {
        await announceDeletion(positionals[0]!);
        await withDatabase((sql) => deleteLocalAccount(sql, positionals[0]!));
        console.log(`Deleted @${positionals[0]!.replace(/^@/, "")}`);
        return 0;
      },
    },
    {
      name: "cull",
      summary: "Delete remote accounts whose actor now answers 404 or 410; unreachable ones are kept and listed",
      synopsis: "[--dry-run] [--domain DOMAIN]",
      options: { "dry-run": { type: "boolean" }, domain: { type: "string" } },
      optionHelp: { "dry-run": "only list what would be deleted", domain: "only accounts of this domain" },
      async run({ values }) {
        const dryRun = values["dry-run"] === true;
        const domain = typeof values.domain === "string" ? values.domain.trim() : undefined;
        if (domain !== undefined && !/^[a-z0-9.-]+(:\d{1,5})?$/i.test(domain)) throw new UsageError("--domain must be a host name", "");
        const booted = await boot("admin", "require");
        try {
          const report = await cullRemoteAccounts(booted.context, { dryRun, domain });
          for (const acct of report.gone) console.log(`${dryRun ? "would delete" : "deleted"} @${acct}`);
          for (const u of report.unreachable) console.log(`kept (unreachable) @${u.acct}: ${u.reason}`);
          console.log(`Checked ${report.checked} remote account(s): ${report.gone.length} ${dryRun ? "would be deleted" : "deleted"}, ${report.unreachable.length} unreachable (kept)`);
          return 0;
        } finally {
          await booted.close();
        }
      },
    },
    {
      name: "backup",
      summary: "Request a user archive (outbox, actor, likes, bookmarks, media) kept in storage under archives/",
      synopsis: "NAME [--out FILE] [--force]",
      options: { out: { type: "string" }, force: { type: "boolean" } },
      optionHelp: {
        out: "build it now in this process (no worker needed) and also write it to FILE (.tar.gz)",
        force: "overwrite FILE if it exists",
      },
      positionals: { min: 1, max: 1 },
      async run({ values, positionals }) {
        const out = typeof values.out === "string" ? values.out : undefined;
        if (out !== undefined && out.trim() === "") throw new UsageError("--out needs a file name", "");
        if (out && existsSync(out) && values.force !== true) throw new CliError(`${out} exists; pass --force to overwrite it`, EXIT_USAGE);
        await withFeature(async (context) => {
          if (!out) {
            // As tootctl: the archive is built by a worker on the default queue.
            const id = await requestArchive(context, positionals[0]!);
            console.log(`Archive ${id} queued for @${positionals[0]!.replace(/^@/, "")} (built by a worker on the default queue)`);
            return;
          }
          const row = await createArchiveRequest(context, positionals[0]!);
          const built = await buildArchive(context, row.id);
          const body = built && (await readArchive(context, built));
          if (!body) throw new CliError(`archive ${row.id} could not be built`);
          await Bun.write(out, body);
          console.log(`Archive ${row.id} written to ${out} (${body.size} bytes; kept in storage as ${built!.storage_key})`);
        });
        return 0;
      },
    },
    {
      name: "approve",
      summary: "Approve pending registrations (approval mode): one account, or all pending ones",
      synopsis: "NAME | --all",
      options: { all: { type: "boolean" } },
      optionHelp: { all: "approve every account waiting for approval" },
      positionals: { min: 0, max: 1 },
      async run({ values, positionals }) {
        if ((positionals.length === 1) === (values.all === true)) throw new UsageError("give either NAME or --all", "");
        const names = await withDatabase(async (sql) => {
          const pending = positionals.length === 1 ? [positionals[0]!] : (await listLocalAccounts(sql)).filter((a) => !a.user.approved).map((a) => a.username);
          for (const name of pending) await modifyLocalAccount(sql, name, { approve: true });
          return pending;
        });
        for (const name of names) console.log(`Approved @${name.replace(/^@/, "")}`);
        console.log(`${names.length} account(s) approved`);
        return 0;
      },
    },
    {
      name: "refresh",
      summary: "Fetch remote accounts' profiles again now: one USER@DOMAIN, or every account of --domain",
      synopsis: "USER@DOMAIN | --domain DOMAIN",
      options: { domain: { type: "string" } },
      optionHelp: { domain: "refresh every known account of this domain" },
      positionals: { min: 0, max: 1 },
      async run({ values, positionals }) {
        const domain = typeof values.domain === "string" ? values.domain.trim() : undefined;
        if ((positionals.length === 1) === (domain !== undefined)) throw new UsageError("give either USER@DOMAIN or --domain DOMAIN", "");
        if (domain !== undefined && !/^[a-z0-9.-]+(:\d{1,5})?$/i.test(domain)) throw new UsageError("--domain must be a host name", "");
        if (positionals.length === 1 && !/^@?[^@\s]+@[a-z0-9.-]+(:\d{1,5})?$/i.test(positionals[0]!)) throw new UsageError("give the account as USER@DOMAIN", "");
        const report = await withFeature((context) => refreshRemoteAccounts(context, domain !== undefined ? { domain } : { acct: positionals[0]! }));
        if (report.refreshed.length === 0 && report.failed.length === 0) throw new CliError("no known remote account matches", EXIT_USAGE);
        for (const acct of report.refreshed) console.log(`refreshed @${acct}`);
        for (const f of report.failed) console.log(`failed @${f.acct}: ${f.reason}`);
        console.log(`${report.refreshed.length} refreshed, ${report.failed.length} failed`);
        return 0;
      },
    },
    followCommand("follow"),
    followCommand("unfollow"),
    {
      name: "list",
      summary: "List local accounts",
      options: { json: { type: "boolean" } },
      optionHelp: { json: "print JSON" },
      async run({ values }) {
        const accounts = (await withDatabase((sql) => listLocalAccounts(sql))).map(summary);
        if (values.json) console.log(JSON.stringify(accounts, null, 2));
        else
          for (const a of accounts)
            console.log(`@${a.username}  ${a.email}  ${a.role}${a.confirmed ? "" : "  unconfirmed"}${a.approved ? "" : "  pending approval"}${a.disabled ? "  disabled" : ""}`);
        return 0;
      },
    },
  ],
};
