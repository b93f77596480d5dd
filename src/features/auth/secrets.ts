/**
 * Random secrets handed to clients and people (tokens, codes, confirmation links) and their stored form.
 * We keep only a SHA-256 of each: a leaked database does not leak usable tokens. Random 32-byte values
 * do not need a slow hash.
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from "node:crypto";

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

/**
 * Sealing: AES-256-GCM under a key derived from SECRET_KEY_BASE. Used where a secret must be handed out again
 * (Mastodon gives the same access token when a person authorizes the same app and scopes twice) while the
 * lookup still goes through the hash. A database dump alone opens nothing; it needs the key base too.
 */

function sealingKey(secretKeyBase: string, purpose: string): Buffer {
  return Buffer.from(hkdfSync("sha256", secretKeyBase, "woolly", purpose, 32));
}

export function seal(plain: string, secretKeyBase: string, purpose: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", sealingKey(secretKeyBase, purpose), iv);
  const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64url");
}

/** The plain secret, or undefined when the box was sealed under another key base (it was rotated) or altered. */
export function unseal(sealed: string, secretKeyBase: string, purpose: string): string | undefined {
  try {
    const bytes = Buffer.from(sealed, "base64url");
    const decipher = createDecipheriv("aes-256-gcm", sealingKey(secretKeyBase, purpose), bytes.subarray(0, 12));
    decipher.setAuthTag(bytes.subarray(12, 28));
    return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString("utf8");
  } catch {
    return undefined;
  }
}
