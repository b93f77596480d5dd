/**
 * The inbox's memory of which hosts are refused (features/federation/domain-blocks.ts isRefusedHost:
 * suspended, or not allow-listed in limited federation mode). Every POST asks, and under an inbox flood that
 * was one SQL query per activity for an answer that changes a few times a year.
 *
 * Answers are remembered per process (per database client) for REMEMBER_MS at most, and forgotten at once
 * when a domain block or allow changes anywhere: migration 0027's triggers NOTIFY `woolly_domain_policy`,
 * which this LISTENs to. Nothing is remembered until the listener is up, so a block takes effect as soon as
 * the notification arrives (milliseconds), and within REMEMBER_MS even if one were lost (a reconnect).
 */
import { isRefusedHost } from "../features/federation/domain-blocks";
import type { AppContext } from "../infra/context";
import type { Sql } from "../infra/db";
import { log } from "../infra/log";

const CHANNEL = "woolly_domain_policy";
const REMEMBER_MS = 10_000;
const MAX_HOSTS = 10_000;

interface Memory {
  listening: boolean;
  /** Bumped by every change: an answer read while one happened is not remembered. */
  generation: number;
  answers: Map<string, { refused: boolean; at: number }>;
}

const memories = new WeakMap<Sql, Memory>();

function memoryFor(sql: Sql): Memory {
  let memory = memories.get(sql);
  if (!memory) {
    const created: Memory = { listening: false, generation: 0, answers: new Map() };
    const forget = () => {
      created.generation++;
      created.answers.clear();
    };
    memory = created;
    memories.set(sql, created);
    // onlisten runs on every (re)connect of the listening connection: what changed meanwhile is unknown.
    sql
      .listen(CHANNEL, forget, () => {
        forget();
        created.listening = true;
      })
      .catch((error: Error) => {
        created.listening = false;
        log.warn("cannot listen for domain block changes; the inbox asks the database every time", { error: error.message });
      });
  }
  return memory;
}

export async function isRefusedHostRemembered(context: Pick<AppContext, "sql" | "config">, host: string): Promise<boolean> {
  const memory = memoryFor(context.sql as Sql);
  const key = host.toLowerCase();
  const known = memory.answers.get(key);
  if (known && Date.now() - known.at < REMEMBER_MS) return known.refused;
  const generation = memory.generation;
  const refused = await isRefusedHost(context, host);
  if (memory.listening && memory.generation === generation) {
    if (memory.answers.size >= MAX_HOSTS) memory.answers.clear();
    memory.answers.set(key, { refused, at: Date.now() });
  }
  return refused;
}
