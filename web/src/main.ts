/** Bootstrap of the live market page: load the symbols, then stream quotes for the watch list. */
import "./styles.css";
import { fetchSymbols, type MarketSymbol } from "./api.ts";
import { loadWatchList, QuoteFeed, saveWatchList } from "./quotes.ts";
import { MarketView } from "./view.ts";

const RETRY_MAX_MS = 30_000;

async function loadSymbols(view: MarketView): Promise<MarketSymbol[]> {
  for (let delay = 1_000; ; delay = Math.min(delay * 2, RETRY_MAX_MS)) {
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

async function start(root: HTMLElement): Promise<void> {
  const view = new MarketView(root);
  const symbols = await loadSymbols(view);
  const watchList = loadWatchList(symbols.map((item) => item.symbol));

  const feed = new QuoteFeed(watchList, {
    quoteChanged: (symbol, quotes) => view.quoteChanged(symbol, quotes),
    connectionChanged: (state) => view.setConnection(state),
    problem: (message) => view.showNotice(message),
  });
  view.setSymbols(symbols, watchList, {
    watchListChanged(next) {
      saveWatchList(next);
      feed.setWatchList(next);
      view.setWatchList(next, (symbol) => feed.get(symbol));
    },
  });
  feed.connect();
}

const root = document.querySelector<HTMLElement>("#app");
if (root !== null) void start(root);
