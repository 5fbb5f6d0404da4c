/** The server's one error shape, `{"error": {"code", "message", "details"}}`, as a typed error. */

/**
 * A refusal from the server (an HTTP answer of 400 or more, or a socket acknowledgement
 * `{ok: false, error}`), or a failure on the way to it. Switch on `code`: it is stable
 * (app/errors.py); `message` is for people; `details` says more (`mfa_token` for
 * `mfa_required`, `field` errors for `validation_error`, `retry_after`…). `status` is the HTTP
 * status, 0 for a socket refusal or when the server was not reached.
 *
 * Codes made by the client itself: `network_error` (the server was not reached), `not_connected`
 * (a socket call while disconnected), `ack_timeout` (no acknowledgement in time), `unexpected`
 * (an answer without the error shape), `not_signed_in` (a call that needs a session).
 */
export class SamoohError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details: Record<string, unknown>;

  constructor(code: string, message: string, status = 0, details: Record<string, unknown> = {}) {
    super(message);
    this.name = "SamoohError";
    this.code = code;
    this.status = status;
    this.details = details;
  }

  /** The error an answer's body describes (a body without the shape: `unexpected`). */
  static of(body: unknown, status = 0): SamoohError {
    const error = typeof body === "object" && body !== null ? (body as { error?: unknown }).error : undefined;
    if (typeof error !== "object" || error === null) {
      return new SamoohError("unexpected", `unexpected answer (${status}): ${JSON.stringify(body ?? null).slice(0, 200)}`, status);
    }
    const { code, message, details } = error as { code?: unknown; message?: unknown; details?: unknown };
    return new SamoohError(
      typeof code === "string" ? code : "unexpected",
      typeof message === "string" ? message : "Refused by the server.",
      status,
      typeof details === "object" && details !== null ? (details as Record<string, unknown>) : {},
    );
  }

  /** Whether the server refused for good (a 4xx other than 429): retrying the same will not help. */
  get isRefusal(): boolean {
    return this.status >= 400 && this.status < 500 && this.status !== 429;
  }
}
