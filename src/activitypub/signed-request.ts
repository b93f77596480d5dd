/**
 * Checking the HTTP signature of a request from another server: the one piece both the inbox (signed POSTs)
 * and AUTHORIZED_FETCH (signed GETs) use. The key is looked up by keyId (cached), and fetched once more when
 * the cached one does not verify (key rotation). Answers Mastodon's status codes through ApiError: 401 for a
 * missing, malformed or wrong signature and for a key that cannot be had for good, 503 when the key's server
 * is only unreachable for now.
 */
import { FetchFailed } from "../features/federation/fetch";
import { remoteKey, type RemoteKey } from "../features/federation/keys";
import type { AppContext } from "../infra/context";
import { ApiError } from "../infra/errors";
import { parseSignature, SignatureError, type ParsedSignature } from "../infra/http/signatures";

/** Parse without verifying (cheap checks first; the caller may drop the request before any key fetch). */
export function readSignature(context: AppContext, request: Request, method: "GET" | "POST", body: Uint8Array): ParsedSignature {
  const url = new URL(request.url);
  try {
    // The sender signed the URL it used: ours as configured, or (directly, without a proxy) the one seen.
    return parseSignature({ method, urls: [`${context.config.baseUrl}${url.pathname}${url.search}`, request.url], headers: request.headers, body });
  } catch (error) {
    if (error instanceof SignatureError) throw ApiError.unauthorized(error.message);
    throw error;
  }
}

// A key that verified is remembered in-process for a minute: under an inbox flood the same few thousand
// signers post again and again, and the stored key cost a Redis GET and an SQL query per POST. A remembered
// key that no longer verifies (rotated) falls back to the stored one, then to a fresh fetch, as before.
const KEY_MEMORY_MS = 60_000;
const MAX_KEYS = 20_000;
const rememberedKeys = new WeakMap<object, Map<string, { key: RemoteKey; at: number }>>();

function keyMemory(context: AppContext): Map<string, { key: RemoteKey; at: number }> {
  let memory = rememberedKeys.get(context.sql);
  if (!memory) rememberedKeys.set(context.sql, (memory = new Map()));
  return memory;
}

/** The signer's key, once the signature verifies with it; otherwise an ApiError. */
export async function verifiedKey(context: AppContext, signature: ParsedSignature): Promise<RemoteKey> {
  const memory = keyMemory(context);
  const remembered = memory.get(signature.keyId);
  if (remembered && Date.now() - remembered.at < KEY_MEMORY_MS && signature.verify(remembered.key.pem)) return remembered.key;
  const key = await loadVerifiedKey(context, signature);
  if (memory.size >= MAX_KEYS) memory.clear();
  memory.set(signature.keyId, { key, at: Date.now() });
  return key;
}

async function loadVerifiedKey(context: AppContext, signature: ParsedSignature): Promise<RemoteKey> {
  const attempt = async (refresh: boolean) => {
    try {
      const key = await remoteKey(context, signature.keyId, { refresh });
      return signature.verify(key.pem) ? key : undefined;
    } catch (error) {
      if (error instanceof FetchFailed) {
        if (error.transient) throw ApiError.unavailable(`The signer's key could not be fetched: ${error.message}`);
        throw ApiError.unauthorized(`The signer's key could not be fetched: ${error.message}`);
      }
      throw error;
    }
  };
  const key = (await attempt(false)) ?? (await attempt(true));
  if (!key) throw ApiError.unauthorized("The signature does not verify");
  return key;
}
