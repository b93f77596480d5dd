import { startScheduler } from "../../scheduler/scheduler";
import { RECURRING } from "../../scheduler/recurring";
import { log } from "../../infra/log";
import type { Command } from "../command";
import { boot } from "../boot";
import { runUntilSignal } from "../lifecycle";
import { startMetricsListener } from "./metrics-listener";

export const schedulerCommand: Command = {
  name: "scheduler",
  summary: "Fire recurring jobs onto the scheduler queue (safe to run more than one)",
  async run() {
    const booted = await boot("scheduler", "require");
    const scheduler = startScheduler(booted.context);
    log.info("scheduler started", { recurring: RECURRING.map((r) => `${r.name} every ${r.everyMs / 1000}s`) });
    return runUntilSignal(
      [
        { name: "scheduler", stop: scheduler.stop },
        ...startMetricsListener(booted.context, "scheduler"),
        { name: "connections", stop: booted.close },
      ],
      booted.context.config.shutdownTimeoutMs,
    );
  },
};
