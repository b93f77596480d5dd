/**
 * Random secrets handed to clients and people (tokens, codes, confirmation links) and their stored form.
 * We keep only a SHA-256 of each: a leaked database does not leak usable tokens. Random 32-byte values
 * do not need a slow hash.
 */
import { createHash, randomBytes } from "node:crypto";

export function newSecret(bytes = 32): string {
  return randomBytes(bytes).toString("base64url");
}

export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

export async function hashPassword(password: string): Promise<string> {
  return Bun.password.hash(password, { algorithm: "argon2id" });
}

export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  try {
    return await Bun.password.verify(password, hash);
  } catch {
    return false;
  }
}

/** A hash to compare against when the user does not exist, so timing does not tell whether an email is registered. */
let decoyHash: Promise<string> | undefined;
export function decoyPasswordHash(): Promise<string> {
  decoyHash ??= hashPassword(newSecret());
  return decoyHash;
}

/** A readable generated password for `admin accounts create` (printed once). */
export function generatePassword(): string {
  return randomBytes(18).toString("base64url");
}
