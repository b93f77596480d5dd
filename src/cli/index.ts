/**
 * The `woolly` command line: one binary, every role as a subcommand.
 *   woolly [--env-file PATH] <command> [options]
 * `--env-file` may appear anywhere; values already in the process environment win over the file's, as
 * with systemd's EnvironmentFile plus Environment, so an operator can override one variable for one run.
 */
import { readFileSync } from "node:fs";
import { ConfigError, parseEnvFile } from "../infra/config";
import { buildVersion } from "../infra/build-info";
import { adminGroup } from "./admin/index";
import { CliError, EXIT_USAGE, UsageError, dispatch, type Group } from "./command";
import { allCommand } from "./roles/all";
import { migrateCommand } from "./roles/migrate";
import { schedulerCommand } from "./roles/scheduler";
import { streamingCommand } from "./roles/streaming";
import { webCommand } from "./roles/web";
import { workerCommand } from "./roles/worker";

export const root: Group = {
  name: "woolly",
  summary: [
    "Woolly: a Mastodon-compatible server in one binary.",
    "Global option: --env-file PATH  read configuration from PATH (the environment wins over it).",
  ].join("\n"),
  commands: [
    webCommand,
    streamingCommand,
    workerCommand,
    schedulerCommand,
    allCommand,
    migrateCommand,
    adminGroup,
    {
      name: "version",
      summary: "Print the version",
      async run() {
        console.log(`woolly ${buildVersion()}`);
        return 0;
      },
    },
    {
      name: "selftest",
      summary: "Check that native parts (sharp, crypto) work in this build",
      async run() {
        const { runSelftest } = await import("./selftest");
        return runSelftest();
      },
    },
  ],
};

/** Remove `--env-file PATH` / `--env-file=PATH` from argv and load it into process.env (existing values win). */
export function applyEnvFile(argv: string[]): string[] {
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    let path: string | undefined;
    if (arg === "--env-file") {
      path = argv[++i];
      if (path === undefined) throw new UsageError("--env-file needs a path", "woolly --env-file PATH <command>");
    } else if (arg.startsWith("--env-file=")) path = arg.slice("--env-file=".length);
    else {
      rest.push(arg);
      continue;
    }
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (error) {
      throw new CliError(`cannot read env file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, EXIT_USAGE);
    }
    for (const [key, value] of Object.entries(parseEnvFile(text))) {
      if (process.env[key] === undefined) process.env[key] = value;
    }
  }
  return rest;
}

export async function runCli(argv: string[]): Promise<number> {
  try {
    if (argv[0] === "--version" || argv[0] === "-v") argv = ["version"];
    return await dispatch("woolly", root, applyEnvFile(argv));
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`${error.message}\n\n${error.usage}`);
      return EXIT_USAGE;
    }
    if (error instanceof ConfigError) {
      console.error(`woolly: configuration error: ${error.message}`);
      return EXIT_USAGE;
    }
    if (error instanceof CliError) {
      console.error(`woolly: ${error.message}`);
      return error.exitCode;
    }
    console.error(`woolly: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`);
    if (process.env.WOOLLY_DEBUG) console.error(error);
    return 1;
  }
}
