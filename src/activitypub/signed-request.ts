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

/** The signer's key, once the signature verifies with it; otherwise an ApiError. */
export async function verifiedKey(context: AppContext, signature: ParsedSignature): Promise<RemoteKey> {
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
