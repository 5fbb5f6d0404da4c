/** HTTP helpers and the typed payloads of the backend's market API and quote events. */

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

/** Payload of `quote:subscribe` / `quote:unsubscribe`. */
export interface SymbolsRequest {
  symbols: string[];
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

  constructor(message: string, status: number, code?: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const response = await fetch(path, { headers: { Accept: "application/json" }, signal });
  if (!response.ok) {
    let code: string | undefined;
    let message = `${response.status} ${response.statusText}`.trim();
    try {
      const body = (await response.json()) as { error?: { code?: string; message?: string } };
      code = body.error?.code;
      message = body.error?.message ?? message;
    } catch {
      // Not a JSON error body (a proxy page, say): keep the status line.
    }
    throw new ApiError(message, response.status, code);
  }
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
