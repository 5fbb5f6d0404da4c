/** The live market page: load the symbols, then stream quotes for the watch list (guest token). */
import { fetchSymbols, type MarketSymbol } from "./api.ts";
import { loadWatchList, QuoteFeed, saveWatchList } from "./quotes.ts";
import { MarketView } from "./view.ts";

const RETRY_MAX_MS = 30_000;

async function loadSymbols(view: MarketView, stopped: () => boolean): Promise<MarketSymbol[] | null> {
  for (let delay = 1_000; ; delay = Math.min(delay * 2, RETRY_MAX_MS)) {
    if (stopped()) return null;
    try {
      const symbols = await fetchSymbols();
      view.showNotice(null);
      return symbols;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      view.setConnection(navigator.onLine ? "reconnecting" : "offline");
      view.showNotice(`Could not load the market symbols (${reason}). Retrying in ${delay / 1000} s…`);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/** Mounts the market page in `root`; returns the function that stops it (socket closed). */
export function startMarket(root: HTMLElement): () => void {
  let stopped = false;
  let feed: QuoteFeed | null = null;
  const view = new MarketView(root);
  void (async () => {
    const symbols = await loadSymbols(view, () => stopped);
    if (symbols === null || stopped) return;
    const watchList = loadWatchList(symbols.map((item) => item.symbol));
    feed = new QuoteFeed(watchList, {
      quoteChanged: (symbol, quotes) => view.quoteChanged(symbol, quotes),
      connectionChanged: (state) => view.setConnection(state),
      problem: (message) => view.showNotice(message),
    });
    view.setSymbols(symbols, watchList, {
      watchListChanged(next) {
        saveWatchList(next);
        feed?.setWatchList(next);
        view.setWatchList(next, (symbol) => feed?.get(symbol));
      },
    });
    feed.connect();
  })();
  return () => {
    stopped = true;
    feed?.close();
  };
}
