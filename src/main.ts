#!/usr/bin/env bun
/** Entry point of the `woolly` binary. Everything else starts in cli/index.ts. */
import { runCli } from "./cli/index";

const code = await runCli(process.argv.slice(2));
process.exit(code);
