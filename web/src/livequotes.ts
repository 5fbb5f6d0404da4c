/** Live quotes over the account socket for a set of symbols (the club room's), with short
 * histories for sparklines; subscriptions are renewed after every reconnection. */
import type { QuoteBatch, QuoteTick } from "./api.ts";
import { live } from "./live.ts";
import { Store } from "./store.ts";

export interface LiveQuote {
  last: QuoteTick | null;
  history: number[];
}

const HISTORY = 60;

export class LiveQuotes {
  readonly quotes = new Store<Record<string, LiveQuote>>({});
  private symbols: string[] = [];
  private readonly seen = new Set<string>();
  private readonly cleanups: (() => void)[] = [];

  start(): void {
    this.cleanups.push(
      live.on("quote:tick", (tick: QuoteTick) => this.receive(tick)),
      // Subscribed with `batch`: a window's quotes in one packet (app/realtime/fanout.py).
      live.on("quote:batch", (batch: QuoteBatch) => {
        for (const tick of batch.quotes) this.receive(tick);
      }),
      live.onConnect(() => void this.subscribe(this.symbols)),
    );
  }

  stop(): void {
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    if (this.symbols.length > 0 && live.connected) {
      void live.call("quote:unsubscribe", { symbols: this.symbols }).catch(() => undefined);
    }
  }

  setSymbols(symbols: string[]): void {
    const next = [...new Set(symbols)].sort();
    if (next.join() === this.symbols.join()) return;
    const added = next.filter((s) => !this.symbols.includes(s));
    const dropped = this.symbols.filter((s) => !next.includes(s));
    this.symbols = next;
    const quotes = { ...this.quotes.get() };
    for (const symbol of dropped) delete quotes[symbol];
    for (const symbol of next) quotes[symbol] ??= { last: null, history: [] };
    this.quotes.set(quotes);
    if (dropped.length > 0 && live.connected) void live.call("quote:unsubscribe", { symbols: dropped }).catch(() => undefined);
    void this.subscribe(added);
  }

  private async subscribe(symbols: string[]): Promise<void> {
    if (symbols.length === 0 || !live.connected) return;
    try {
      await live.call("quote:subscribe", { symbols, batch: true });
    } catch {
      // Unknown symbols are refused as a whole: subscribe one by one, keeping the good ones.
      if (symbols.length > 1) for (const symbol of symbols) void this.subscribe([symbol]);
    }
  }

  private receive(tick: QuoteTick): void {
    if (!this.symbols.includes(tick.symbol) || this.seen.has(tick.id)) return;
    this.seen.add(tick.id);
    if (this.seen.size > 5_000) this.seen.delete(this.seen.values().next().value as string);
    const current = this.quotes.get()[tick.symbol] ?? { last: null, history: [] };
    if (current.last && Date.parse(tick.ts) < Date.parse(current.last.ts)) return;
    const price = Number.parseFloat(tick.price); // for drawing only; the text shows tick.price
    const history = Number.isFinite(price) ? [...current.history, price].slice(-HISTORY) : current.history;
    this.quotes.set({ ...this.quotes.get(), [tick.symbol]: { last: tick, history } });
  }
}
