/**
 * Who is streaming. The token comes, as Mastodon takes it, from the Authorization header, the
 * `access_token` query parameter, or the Sec-WebSocket-Protocol header (browsers cannot set headers on a
 * WebSocket, so masto.js and Ice Cubes send the token as the subprotocol). The lookup and the account
 * checks are the REST API's (api/caller.ts). Since Mastodon 4.2 every stream needs a user token.
 */
import { authorize, resolveCaller } from "../api/caller";
import type { AppContext } from "../infra/context";
import { ApiError } from "../infra/errors";
import type { Reader } from "./connection";

/** The first subprotocol a client offered (`Sec-WebSocket-Protocol: a, b`), echoed back in the handshake. */
export function offeredProtocol(request: Request): string | undefined {
  const header = request.headers.get("sec-websocket-protocol");
  const first = header?.split(",")[0]?.trim();
  return first ? first : undefined;
}

export async function authenticate(context: AppContext, request: Request, url: URL, ip: string): Promise<Reader> {
  let source = request;
  const protocol = offeredProtocol(request);
  if (protocol && !request.headers.has("authorization") && !url.searchParams.has("access_token")) {
    source = new Request(url.toString(), { headers: { authorization: `Bearer ${protocol}` } });
  }
  const caller = await resolveCaller(context, source, ip);
  if (!caller) throw ApiError.unauthorized("Missing access token");
  if (!caller.account) throw ApiError.unauthorized("This method requires an authenticated user");
  authorize({ auth: "user" }, caller);
  return { account: caller.account, tokenId: caller.token.id, scopes: caller.scopes, ip };
}
