/**
 * The one error type the edges know how to render. Throw it anywhere a request must end with a given
 * status; the HTTP edge turns it into Mastodon's `{"error": "…"}` body. Features pick the status here so
 * handlers never need try/catch ladders.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Extra body fields Mastodon sends for some errors (e.g. `details` on 422, `error_description` in OAuth). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }

  body(): Record<string, unknown> {
    return { error: this.message, ...this.extra };
  }

  static badRequest(message = "Bad request") {
    return new ApiError(400, message);
  }
  static unauthorized(message = "The access token is invalid") {
    return new ApiError(401, message);
  }
  static forbidden(message = "This action is not allowed") {
    return new ApiError(403, message);
  }
  static notFound(message = "Record not found") {
    return new ApiError(404, message);
  }
  static unprocessable(message: string, extra: Record<string, unknown> = {}) {
    return new ApiError(422, message, extra);
  }
  static unavailable(message = "Service unavailable") {
    return new ApiError(503, message);
  }
}

/** True when an error means a backing service (Postgres, Redis) is unreachable, so the answer is 503. */
export function isServiceUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: string }).code ?? "";
  if (["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECTION_DESTROYED", "CONNECT_TIMEOUT", "57P01", "57P03", "08006", "08001", "08003"].includes(code))
    return true;
  return /Connection is closed|connect ECONNREFUSED|Stream isn't writeable|enableOfflineQueue|MaxRetriesPerRequest/i.test(error.message);
}
