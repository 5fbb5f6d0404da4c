/** HTTP helpers and the typed payloads of the backend's market API and quote events. */
import { sentence } from "./errors.ts";

/** One tradable symbol, as listed by `GET /api/v1/market/symbols`. */
export interface MarketSymbol {
  symbol: string;
  name: string;
  source: string;
  currency: string;
}

export interface SymbolsResponse {
  symbols: MarketSymbol[];
}

/**
 * A `quote:tick` event. Prices and `change_pct` are decimal strings: they are shown exactly as
 * sent and parsed to numbers only to draw the sparkline or pick a colour.
 */
export interface QuoteTick {
  id: string;
  ts: string;
  symbol: string;
  price: string;
  open: string;
  high: string;
  low: string;
  prev_close: string;
  volume: number | null;
  change_pct: string;
  currency: string;
  trade_date: string;
  source: string;
}

/** A `quote:batch` event: the latest quotes of a window, for a socket that subscribed with `batch`. */
export interface QuoteBatch {
  id: string;
  ts: string;
  quotes: QuoteTick[];
}

/** Payload of `quote:subscribe` / `quote:unsubscribe`; `batch`: take quotes as `quote:batch`. */
export interface SymbolsRequest {
  symbols: string[];
  batch?: boolean;
}

/** The server's acknowledgement of `quote:subscribe` / `quote:unsubscribe`. */
export interface SubscribeAck {
  ok: boolean;
  symbols?: string[];
  error?: { code?: string; message?: string };
}

/** A failed API call, carrying the backend's stable error code when it sent one. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string | undefined;
  readonly details: Record<string, unknown>;

  constructor(message: string, status: number, code?: string, details?: Record<string, unknown>) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details ?? {};
  }
}

/** The backend's one error shape: `{"error": {"code", "message", "details"}}`. */
export interface ErrorBody {
  error?: { code?: string; message?: string; details?: Record<string, unknown> };
}

/** An ApiError from a failed response, reading the error body when there is one. Its message
 * is the sentence a person reads (errors.ts); `Retry-After` joins the details. */
export async function errorOf(response: Response): Promise<ApiError> {
  let message = `${response.status} ${response.statusText}`.trim();
  const retryAfter = Number(response.headers.get("Retry-After"));
  try {
    const body = (await response.json()) as ErrorBody;
    if (body.error) {
      const details = { ...(body.error.details ?? {}) };
      if (Number.isFinite(retryAfter) && retryAfter > 0 && details.retry_after === undefined) details.retry_after = retryAfter;
      return new ApiError(sentence(body.error.code, body.error.message ?? message, details), response.status, body.error.code, details);
    }
  } catch {
    // Not a JSON error body (a proxy page, say): keep the status line.
  }
  if (response.status === 429) return new ApiError(sentence("rate_limited", message, { retry_after: retryAfter }), 429, "rate_limited", { retry_after: retryAfter });
  message = response.status === 0 || response.status >= 502 ? "The server is not answering right now. Try again in a minute." : "Something went wrong. Try again.";
  return new ApiError(message, response.status);
}

async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const response = await fetch(path, { headers: { Accept: "application/json" }, signal });
  if (!response.ok) throw await errorOf(response);
  return (await response.json()) as T;
}

export async function fetchSymbols(signal?: AbortSignal): Promise<MarketSymbol[]> {
  const body = await getJson<SymbolsResponse>("/api/v1/market/symbols", signal);
  return body.symbols;
}

/** `POST /api/v1/auth/guest`: an anonymous token for public market data over Socket.IO. */
interface GuestTokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
}

/**
 * Every Socket.IO connection needs a token; the market page, open to everyone, asks for a
 * short-lived guest token before each connection attempt (a logged-in page would pass its own).
 */
export async function fetchGuestToken(): Promise<string> {
  const response = await fetch("/api/v1/auth/guest", {
    method: "POST",
    headers: { Accept: "application/json" },
  });
  if (!response.ok) throw new ApiError(`guest token: ${response.status}`, response.status);
  const body = (await response.json()) as GuestTokenResponse;
  return body.access_token;
}
