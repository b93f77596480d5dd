/**
 * The CLI's small framework: a command is a name, a one-line summary, its flags (node:util parseArgs, strict)
 * and a run function; a group is a name and its commands. Help is generated from the same declarations, so
 * `--help` works at every level and an unknown command or flag always exits 2 with the usage.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export class UsageError extends Error {
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message);
  }
}

/** A failure with a one-line cause (unreachable service, pending migrations): printed without a stack. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = EXIT_FAILURE,
  ) {
    super(message);
  }
}

type Options = NonNullable<ParseArgsConfig["options"]>;

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

export interface Command {
  name: string;
  summary: string;
  /** e.g. "NAME --email EMAIL [--role ROLE]" */
  synopsis?: string;
  options?: Options;
  optionHelp?: Record<string, string>;
  positionals?: { min: number; max: number };
  run(args: ParsedArgs): Promise<number>;
}

export interface Group {
  name: string;
  summary: string;
  commands: (Command | Group)[];
}

export function isGroup(entry: Command | Group): entry is Group {
  return "commands" in entry;
}

export function commandUsage(path: string, command: Command): string {
  const lines = [`Usage: ${path}${command.synopsis ? ` ${command.synopsis}` : ""}`, "", command.summary];
  const options = Object.entries(command.options ?? {});
  if (options.length) {
    lines.push("", "Options:");
    for (const [name, option] of options) {
      const flag = `--${name}${option.type === "string" ? " VALUE" : ""}${option.short ? `, -${option.short}` : ""}`;
      lines.push(`  ${flag.padEnd(28)} ${command.optionHelp?.[name] ?? ""}`.trimEnd());
    }
  }
  lines.push(`  ${"--help".padEnd(28)} show this help`);
  return lines.join("\n");
}

export function groupUsage(path: string, group: Group): string {
  const width = Math.max(...group.commands.map((c) => c.name.length)) + 2;
  return [
    `Usage: ${path} <command> [options]`,
    "",
    group.summary,
    "",
    "Commands:",
    ...group.commands.map((c) => `  ${c.name.padEnd(width)} ${c.summary}`),
    "",
    `Run '${path} <command> --help' for a command's options.`,
  ].join("\n");
}

/** Dispatch argv through a tree of groups and commands. */
export async function dispatch(path: string, entry: Command | Group, argv: string[]): Promise<number> {
  if (isGroup(entry)) {
    const [first, ...rest] = argv;
    if (first === undefined || first === "--help" || first === "-h" || first === "help") {
      const usage = groupUsage(path, entry);
      if (first === undefined) throw new UsageError(`${path}: a command is required`, usage);
      console.log(usage);
      return EXIT_OK;
    }
    const next = entry.commands.find((c) => c.name === first);
    if (!next) throw new UsageError(`${path}: unknown command "${first}"`, groupUsage(path, entry));
    return dispatch(`${path} ${next.name}`, next, rest);
  }
  const usage = commandUsage(path, entry);
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(usage);
    return EXIT_OK;
  }
  let parsed: ParsedArgs;
  try {
    parsed = parseArgs({ args: argv, options: entry.options ?? {}, strict: true, allowPositionals: true }) as ParsedArgs;
  } catch (error) {
    throw new UsageError(`${path}: ${(error as Error).message.split(". To specify")[0]}`, usage);
  }
  const { min, max } = entry.positionals ?? { min: 0, max: 0 };
  if (parsed.positionals.length < min) throw new UsageError(`${path}: missing argument`, usage);
  if (parsed.positionals.length > max) throw new UsageError(`${path}: unexpected argument "${parsed.positionals[max]}"`, usage);
  try {
    return await entry.run(parsed);
  } catch (error) {
    // Commands throw UsageError("…", "") for a bad flag value; the usage is known here.
    if (error instanceof UsageError && error.usage === "") throw new UsageError(`${path}: ${error.message}`, usage);
    throw error;
  }
}

/** Parse an integer flag, or throw a usage error naming it. */
export function intFlag(value: unknown, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== "string" || !/^\d+$/.test(value) || n < min || n > max)
    throw new UsageError(`--${name} must be an integer between ${min} and ${max}`, "");
  return n;
}
