/** The live quote feed: one Socket.IO connection, the watch-list subscription and per-symbol state. */
import { io, type Socket } from "socket.io-client";
import { fetchGuestToken, type QuoteBatch, type QuoteTick, type SubscribeAck, type SymbolsRequest } from "./api.ts";

interface ServerToClientEvents {
  "quote:tick": (tick: QuoteTick) => void;
  "quote:batch": (batch: QuoteBatch) => void;
}

interface ClientToServerEvents {
  "quote:subscribe": (payload: SymbolsRequest, ack: (reply: SubscribeAck) => void) => void;
  "quote:unsubscribe": (payload: SymbolsRequest, ack: (reply: SubscribeAck) => void) => void;
}

export type ConnectionState = "connecting" | "connected" | "reconnecting" | "offline";

/** What the page knows about one symbol: the newest tick and the recent prices for the sparkline. */
export interface SymbolQuotes {
  last: QuoteTick | null;
  /** Prices of the last HISTORY_LENGTH ticks, oldest first; numbers only for drawing. */
  history: number[];
}

export interface QuoteFeedListener {
  quoteChanged(symbol: string, quotes: SymbolQuotes): void;
  connectionChanged(state: ConnectionState): void;
  problem(message: string | null): void;
}

export const HISTORY_LENGTH = 60;
const ACK_TIMEOUT_MS = 5_000;
const SUBSCRIBE_ATTEMPTS = 3;
/** Tick ids remembered for de-duplication (at-least-once replays, the cached tick on re-subscribe). */
const SEEN_IDS_LIMIT = 5_000;
const WATCH_LIST_KEY = "samooh.market.watchList";

export class QuoteFeed {
  private readonly socket: Socket<ServerToClientEvents, ClientToServerEvents>;
  private readonly quotes = new Map<string, SymbolQuotes>();
  private readonly seenIds = new Set<string>();
  private readonly listener: QuoteFeedListener;
  private watched: Set<string>;
  private closed = false;

  constructor(watchList: readonly string[], listener: QuoteFeedListener) {
    this.listener = listener;
    this.watched = new Set(watchList);
    // Same origin, default path /socket.io; the client reconnects by itself with backoff.
    this.socket = io({
      autoConnect: false,
      // Called before every (re)connection: a fresh guest token each time (they last 15 min).
      auth: (send) => {
        fetchGuestToken().then(
          (token) => send({ token }),
          () => send({}), // refused with a reason; retried below
        );
      },
    });

    this.socket.on("connect", () => {
      this.listener.connectionChanged("connected");
      // A (re)connected socket has no subscriptions on the server: ask again for the whole list.
      void this.subscribe([...this.watched]);
    });
    this.socket.on("disconnect", (reason) => {
      if (reason === "io client disconnect") return;
      this.listener.connectionChanged(navigator.onLine ? "reconnecting" : "offline");
      // After a server-side disconnect socket.io-client does not retry on its own.
      if (reason === "io server disconnect") setTimeout(() => !this.closed && this.socket.connect(), 2_000);
    });
    this.socket.on("connect_error", () => {
      this.listener.connectionChanged(this.socket.active && navigator.onLine ? "reconnecting" : "offline");
      // A connection the server refused (no or expired token) is not retried by the client.
      if (!this.socket.active) setTimeout(() => !this.closed && this.socket.connect(), 2_000);
    });
    this.socket.on("quote:tick", (tick) => this.receive(tick));
    // Subscribed with `batch`: a window's quotes arrive in one packet (a web process that
    // coalesces per socket); one `quote:tick` each otherwise.
    this.socket.on("quote:batch", (batch) => {
      for (const tick of batch.quotes) this.receive(tick);
    });

    window.addEventListener("offline", this.onOffline);
    window.addEventListener("online", this.onOnline);
  }

  private readonly onOffline = (): void => {
    if (!this.socket.connected) this.listener.connectionChanged("offline");
  };

  private readonly onOnline = (): void => {
    if (this.closed || this.socket.connected) return;
    this.listener.connectionChanged("reconnecting");
    if (!this.socket.active) this.socket.connect();
  };

  /** Leaving the page: close the socket and stop listening. */
  close(): void {
    this.closed = true;
    window.removeEventListener("offline", this.onOffline);
    window.removeEventListener("online", this.onOnline);
    this.socket.removeAllListeners();
    this.socket.disconnect();
  }

  connect(): void {
    this.listener.connectionChanged("connecting");
    this.socket.connect();
  }

  get(symbol: string): SymbolQuotes | undefined {
    return this.quotes.get(symbol);
  }

  /** Replaces the watch list: unsubscribes what was dropped, subscribes what was added. */
  setWatchList(watchList: readonly string[]): void {
    const next = new Set(watchList);
    const dropped = [...this.watched].filter((symbol) => !next.has(symbol));
    const added = [...next].filter((symbol) => !this.watched.has(symbol));
    this.watched = next;
    if (dropped.length > 0 && this.socket.connected) {
      this.socket.timeout(ACK_TIMEOUT_MS).emit("quote:unsubscribe", { symbols: dropped }, () => {
        // Nothing to do either way: ticks of symbols no longer watched are ignored on arrival.
      });
    }
    void this.subscribe(added);
  }

  private async subscribe(symbols: string[]): Promise<void> {
    for (let attempt = 1; attempt <= SUBSCRIBE_ATTEMPTS; attempt++) {
      // Only while connected: the connect handler subscribes the whole list on (re)connection.
      const wanted = symbols.filter((symbol) => this.watched.has(symbol));
      if (wanted.length === 0 || !this.socket.connected) return;
      try {
        const ack = await this.socket
          .timeout(ACK_TIMEOUT_MS)
          .emitWithAck("quote:subscribe", { symbols: wanted, batch: true });
        if (ack.ok) {
          this.listener.problem(null);
          return;
        }
        this.listener.problem(ack.error?.message ?? "The server refused the quote subscription.");
        return;
      } catch {
        this.listener.problem("The server has not confirmed the quote subscription yet; retrying…");
      }
    }
    this.listener.problem("The server did not confirm the quote subscription.");
  }

  private receive(tick: QuoteTick): void {
    if (!isQuoteTick(tick) || this.seenIds.has(tick.id)) return;
    this.seenIds.add(tick.id);
    if (this.seenIds.size > SEEN_IDS_LIMIT) {
      // Sets iterate in insertion order: the first id is the oldest.
      const oldest = this.seenIds.values().next();
      if (!oldest.done) this.seenIds.delete(oldest.value);
    }
    if (!this.watched.has(tick.symbol)) return;

    let quotes = this.quotes.get(tick.symbol);
    if (quotes === undefined) {
      quotes = { last: null, history: [] };
      this.quotes.set(tick.symbol, quotes);
    }
    // A late, older tick (a redelivery) must not replace a newer price on screen.
    if (quotes.last !== null && Date.parse(tick.ts) < Date.parse(quotes.last.ts)) return;
    quotes.last = tick;
    const price = Number.parseFloat(tick.price);
    if (Number.isFinite(price)) {
      quotes.history.push(price);
      if (quotes.history.length > HISTORY_LENGTH) quotes.history.shift();
    }
    this.listener.quoteChanged(tick.symbol, quotes);
  }
}

function isQuoteTick(value: unknown): value is QuoteTick {
  if (typeof value !== "object" || value === null) return false;
  const tick = value as Record<string, unknown>;
  return ["id", "ts", "symbol", "price"].every((key) => typeof tick[key] === "string");
}

/** The saved watch list, kept to the symbols that exist; every symbol when nothing is saved. */
export function loadWatchList(available: readonly string[]): string[] {
  try {
    const saved: unknown = JSON.parse(localStorage.getItem(WATCH_LIST_KEY) ?? "null");
    if (Array.isArray(saved)) {
      const chosen = new Set(saved.filter((item): item is string => typeof item === "string"));
      return available.filter((symbol) => chosen.has(symbol));
    }
  } catch {
    // Unreadable or blocked storage: fall back to every symbol.
  }
  return [...available];
}

export function saveWatchList(watchList: readonly string[]): void {
  try {
    localStorage.setItem(WATCH_LIST_KEY, JSON.stringify(watchList));
  } catch {
    // Storage full or disabled: the choice lasts for this visit only.
  }
}
