/**
 * Structured logging: one JSON object per line on stdout, so journald / any log shipper can parse it.
 * Never pass secrets in fields; config values are not logged wholesale anywhere.
 */
import type { LogLevel } from "./config";

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
let threshold = ORDER.info;
let baseFields: Record<string, unknown> = {};

export function configureLog(level: LogLevel, fields: Record<string, unknown> = {}): void {
  threshold = ORDER[level];
  baseFields = fields;
}

/** Whether a line at `level` would be written: for callers whose fields cost something to gather. */
export function logEnabled(level: LogLevel): boolean {
  return ORDER[level] >= threshold;
}

function write(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
  if (ORDER[level] < threshold) return;
  const line = JSON.stringify({ time: new Date().toISOString(), level, msg, ...baseFields, ...fields }, errorReplacer);
  (level === "error" || level === "warn" ? process.stderr : process.stdout).write(line + "\n");
}

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  return value;
}

export const log = {
  debug: (msg: string, fields?: Record<string, unknown>) => write("debug", msg, fields),
  info: (msg: string, fields?: Record<string, unknown>) => write("info", msg, fields),
  warn: (msg: string, fields?: Record<string, unknown>) => write("warn", msg, fields),
  error: (msg: string, fields?: Record<string, unknown>) => write("error", msg, fields),
};
