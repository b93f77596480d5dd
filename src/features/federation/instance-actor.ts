/**
 * The instance actor (Mastodon's /actor, type Application): the server itself as an ActivityPub actor. It
 * signs the GETs we make on the server's behalf (keys, actors, WebFinger follow-ups), so peers that require
 * signed fetches (authorized fetch) still answer us. Its key pair is made on first use and stored.
 */
import type { Config } from "../../infra/config";
import type { Db } from "../../infra/db";
import { newAccountKeyPair } from "../accounts/keys";
import * as store from "./store";

export const INSTANCE_ACTOR_USERNAME = "actor";

export function instanceActorUri(config: Pick<Config, "baseUrl">): string {
  return `${config.baseUrl}/actor`;
}

export function instanceKeyId(config: Pick<Config, "baseUrl">): string {
  return `${instanceActorUri(config)}#main-key`;
}

export interface KeyPair {
  publicKey: string;
  privateKey: string;
}

// One pair per database; remembered per process once read (it never changes after creation).
const cached = new WeakMap<Db, Promise<KeyPair>>();

async function loadOrCreate(sql: Db): Promise<KeyPair> {
  let row = await store.findInstanceKeys(sql);
  if (!row) {
    await store.insertInstanceKeys(sql, await newAccountKeyPair());
    row = await store.findInstanceKeys(sql);
  }
  return { publicKey: row!.public_key, privateKey: row!.private_key };
}

export function instanceKeys(sql: Db): Promise<KeyPair> {
  let pending = cached.get(sql);
  if (!pending) {
    pending = loadOrCreate(sql);
    // A failed read (database down) must not be remembered.
    pending.catch(() => cached.delete(sql));
    cached.set(sql, pending);
  }
  return pending;
}
