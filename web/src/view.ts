/** DOM rendering of the live market page. Server text only ever goes in through textContent. */
import type { MarketSymbol } from "./api.ts";
import { HISTORY_LENGTH, type ConnectionState, type SymbolQuotes } from "./quotes.ts";

const EMPTY = "—";
const SVG_NS = "http://www.w3.org/2000/svg";
const SPARK_WIDTH = 100;
const SPARK_HEIGHT = 28;

const CONNECTION_LABELS: Record<ConnectionState, string> = {
  connecting: "Connecting…",
  connected: "Live",
  reconnecting: "Reconnecting…",
  offline: "Offline",
};

type Direction = "up" | "down" | "flat";

interface Row {
  element: HTMLTableRowElement;
  price: HTMLTableCellElement;
  /** The price text inside the price cell; it carries the flash so the cell keeps its layout. */
  priceValue: HTMLSpanElement;
  change: HTMLTableCellElement;
  open: HTMLTableCellElement;
  high: HTMLTableCellElement;
  low: HTMLTableCellElement;
  volume: HTMLTableCellElement;
  tradeDate: HTMLTableCellElement;
  sparkLine: SVGPolylineElement;
  sparkArea: SVGPolygonElement;
  shownPrice: string | null;
}

export interface ViewActions {
  watchListChanged(watchList: string[]): void;
}

function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<Record<string, string>> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value !== undefined) element.setAttribute(name, value);
  }
  element.append(...children);
  return element;
}

function svg<K extends keyof SVGElementTagNameMap>(tag: K, props: Record<string, string>): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(props)) element.setAttribute(name, value);
  return element;
}

/** Sign of a decimal string, read from its text so that "-0.00" counts as flat. */
function directionOf(decimal: string): Direction {
  if (!/[1-9]/.test(decimal)) return "flat";
  return decimal.trim().startsWith("-") ? "down" : "up";
}

function formatChange(changePct: string): string {
  const text = changePct.trim();
  return directionOf(text) === "up" && !text.startsWith("+") ? `+${text}%` : `${text}%`;
}

const volumeFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });

export class MarketView {
  private readonly status: HTMLElement;
  private readonly statusLabel: HTMLElement;
  private readonly lastUpdate: HTMLElement;
  private readonly notice: HTMLElement;
  private readonly watchSummary: HTMLElement;
  private readonly watchOptions: HTMLElement;
  private readonly table: HTMLTableElement;
  private readonly body: HTMLTableSectionElement;
  private readonly empty: HTMLElement;
  private readonly sources: HTMLElement;

  private readonly rows = new Map<string, Row>();
  private readonly pending = new Map<string, SymbolQuotes>();
  private frame: number | null = null;
  private newestTs = Number.NEGATIVE_INFINITY;
  private flashColours: { up: string; down: string } | null = null;
  private symbols: MarketSymbol[] = [];

  private readonly root: HTMLElement;

  constructor(root: HTMLElement) {
    this.root = root;
    this.status = h("div", { class: "status", "data-testid": "connection-status", "data-state": "connecting", role: "status", "aria-live": "polite" });
    this.statusLabel = h("span", { class: "status-label" }, CONNECTION_LABELS.connecting);
    this.status.append(h("span", { class: "status-dot", "aria-hidden": "true" }), this.statusLabel);

    this.lastUpdate = h("p", { class: "muted", "data-testid": "last-update" }, "Loading symbols…");
    this.notice = h("p", { class: "notice", "data-testid": "notice", role: "alert", hidden: "" });
    this.watchSummary = h("summary", {}, "Watch list");
    this.watchOptions = h("div", { class: "watch-options" });
    const watch = h("details", { class: "watch", "data-testid": "watch-list" }, this.watchSummary, this.watchOptions);

    this.body = h("tbody");
    this.table = h(
      "table",
      { class: "quotes", "data-testid": "quotes-table" },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h("th", { scope: "col" }, "Symbol"),
          h("th", { scope: "col", class: "num" }, "Price"),
          h("th", { scope: "col", class: "num" }, "Change"),
          h("th", { scope: "col", class: "spark-col" }, `Last ${HISTORY_LENGTH} ticks`),
          h("th", { scope: "col", class: "num" }, "Open"),
          h("th", { scope: "col", class: "num" }, "High"),
          h("th", { scope: "col", class: "num" }, "Low"),
          h("th", { scope: "col", class: "num" }, "Volume"),
          h("th", { scope: "col", class: "num" }, "Trade date"),
        ),
      ),
      this.body,
    );
    this.empty = h("p", { class: "empty", "data-testid": "empty", hidden: "" });
    this.sources = h("span", { "data-testid": "sources" });

    // The app shell draws the top bar; the market's own connection status sits in its panel.
    root.replaceChildren(
      h(
        "main",
        { class: "page" },
        h(
          "section",
          { class: "panel", "aria-labelledby": "market-title" },
          h(
            "div",
            { class: "panel-head" },
            h("div", {}, h("h1", { id: "market-title" }, "Live market"), this.lastUpdate),
            h("div", { class: "panel-tools" }, this.status, watch),
          ),
          this.notice,
          h("div", { class: "table-wrap" }, this.table),
          this.empty,
        ),
      ),
      h(
        "footer",
        { class: "footer" },
        h("p", {}, "Data: ", this.sources),
        h("p", {}, h("a", { href: "/api-docs", "data-testid": "api-docs-link" }, "API documentation")),
      ),
    );
  }

  setConnection(state: ConnectionState): void {
    this.status.dataset.state = state;
    this.root.dataset.connection = state;
    this.statusLabel.textContent = CONNECTION_LABELS[state];
  }

  showNotice(message: string | null): void {
    this.notice.hidden = message === null;
    this.notice.textContent = message ?? "";
  }

  /** Lays out the symbol list, the watch-list picker and the data sources. */
  setSymbols(symbols: MarketSymbol[], watchList: readonly string[], actions: ViewActions): void {
    this.symbols = symbols;
    this.lastUpdate.textContent = "Waiting for the first quote…";
    const sources = [...new Set(symbols.map((item) => item.source).filter((source) => source !== ""))];
    this.sources.textContent = sources.length > 0 ? sources.join("; ") : EMPTY;

    const chosen = new Set(watchList);
    const boxes = symbols.map((item) =>
      h("input", { type: "checkbox", value: item.symbol, "data-testid": `watch-${item.symbol}` }),
    );
    for (const box of boxes) box.checked = chosen.has(box.value);
    const changed = () => actions.watchListChanged(boxes.filter((box) => box.checked).map((box) => box.value));
    const setAll = (checked: boolean) => () => {
      for (const box of boxes) box.checked = checked;
      changed();
    };
    this.watchOptions.replaceChildren(
      h(
        "fieldset",
        {},
        h("legend", { class: "visually-hidden" }, "Symbols to watch"),
        ...symbols.map((item, index) =>
          h("label", {}, boxes[index] ?? "", h("b", {}, item.symbol), h("span", { class: "muted" }, item.name)),
        ),
      ),
      h(
        "div",
        { class: "watch-actions" },
        h("button", { type: "button", "data-action": "all" }, "All"),
        h("button", { type: "button", "data-action": "none" }, "None"),
      ),
    );
    this.watchOptions.addEventListener("change", changed);
    this.watchOptions.querySelector('[data-action="all"]')?.addEventListener("click", setAll(true));
    this.watchOptions.querySelector('[data-action="none"]')?.addEventListener("click", setAll(false));
    this.setWatchList(watchList);
  }

  /** Shows one row per watched symbol, in the server's order, reusing rows already built. */
  setWatchList(watchList: readonly string[], quotesOf?: (symbol: string) => SymbolQuotes | undefined): void {
    const chosen = new Set(watchList);
    const shown = this.symbols.filter((item) => chosen.has(item.symbol));
    this.body.replaceChildren(
      ...shown.map((item) => {
        let row = this.rows.get(item.symbol);
        if (row === undefined) {
          row = this.buildRow(item);
          this.rows.set(item.symbol, row);
          const quotes = quotesOf?.(item.symbol);
          if (quotes !== undefined) this.paint(row, quotes);
        }
        return row.element;
      }),
    );
    this.watchSummary.textContent = `Watch list · ${shown.length}/${this.symbols.length}`;
    this.table.hidden = shown.length === 0;
    this.empty.hidden = shown.length > 0;
    this.empty.textContent =
      this.symbols.length === 0
        ? "No symbols are listed yet."
        : "Your watch list is empty: pick symbols under “Watch list”.";
  }

  /** Queues a symbol for the next animation frame, so a burst of ticks costs one DOM pass. */
  quoteChanged(symbol: string, quotes: SymbolQuotes): void {
    this.pending.set(symbol, quotes);
    this.frame ??= requestAnimationFrame(() => this.flush());
  }

  private flush(): void {
    this.frame = null;
    for (const [symbol, quotes] of this.pending) {
      const row = this.rows.get(symbol);
      if (row !== undefined) this.paint(row, quotes);
    }
    this.pending.clear();
  }

  private buildRow(item: MarketSymbol): Row {
    const s = item.symbol;
    const cell = (name: string, label: string) =>
      h("td", { class: `num ${name}`, "data-label": label, "data-testid": `${name}-${s}` }, EMPTY);
    const sparkArea = svg("polygon", { class: "spark-area", points: "" });
    const sparkLine = svg("polyline", { class: "spark-line", points: "", "vector-effect": "non-scaling-stroke" });
    const sparkSvg = svg("svg", {
      viewBox: `0 0 ${SPARK_WIDTH} ${SPARK_HEIGHT}`,
      preserveAspectRatio: "none",
      "aria-hidden": "true",
    });
    sparkSvg.append(sparkArea, sparkLine);

    const row: Row = {
      element: h("tr", { "data-testid": `quote-${s}`, "data-symbol": s, "data-direction": "flat" }),
      price: cell("price", "Price"),
      priceValue: h("span", { class: "price-value" }, EMPTY),
      change: cell("change", "Change"),
      open: cell("open", "Open"),
      high: cell("high", "High"),
      low: cell("low", "Low"),
      volume: cell("volume", "Volume"),
      tradeDate: cell("date", "Trade date"),
      sparkLine,
      sparkArea,
      shownPrice: null,
    };
    row.price.replaceChildren(row.priceValue);
    const sparkCell = h("td", { class: "spark", "data-testid": `spark-${s}` });
    sparkCell.append(sparkSvg);
    const currency = item.currency ? ` · ${item.currency}` : "";
    row.element.append(
      h(
        "th",
        { scope: "row", class: "symbol" },
        h("span", { class: "ticker" }, s),
        h("span", { class: "name", title: item.name }, `${item.name}${currency}`),
      ),
      row.price,
      row.change,
      sparkCell,
      row.open,
      row.high,
      row.low,
      row.volume,
      row.tradeDate,
    );
    return row;
  }

  private paint(row: Row, quotes: SymbolQuotes): void {
    const tick = quotes.last;
    if (tick === null) return;
    const direction = directionOf(tick.change_pct);
    row.element.dataset.direction = direction;
    row.element.dataset.tickId = tick.id;
    row.element.dataset.ts = tick.ts;

    if (row.shownPrice !== tick.price) {
      if (row.shownPrice !== null) {
        this.flash(row.priceValue, Number.parseFloat(tick.price) >= Number.parseFloat(row.shownPrice));
      }
      row.priceValue.textContent = tick.price;
      row.shownPrice = tick.price;
    }
    row.change.textContent = formatChange(tick.change_pct);
    row.open.textContent = tick.open;
    row.high.textContent = tick.high;
    row.low.textContent = tick.low;
    row.volume.textContent = tick.volume === null ? EMPTY : volumeFormat.format(tick.volume);
    row.volume.dataset.value = tick.volume === null ? "" : String(tick.volume);
    row.tradeDate.textContent = tick.trade_date;
    this.drawSparkline(row, quotes.history);

    const ts = Date.parse(tick.ts);
    if (Number.isFinite(ts) && ts > this.newestTs) {
      this.newestTs = ts;
      this.lastUpdate.textContent = `Last tick at ${timeFormat.format(ts)}`;
    }
  }

  private drawSparkline(row: Row, history: readonly number[]): void {
    if (history.length < 2) {
      row.sparkLine.setAttribute("points", "");
      row.sparkArea.setAttribute("points", "");
      return;
    }
    const min = Math.min(...history);
    const max = Math.max(...history);
    const pad = 2;
    const step = SPARK_WIDTH / (HISTORY_LENGTH - 1);
    // Right-aligned: the newest tick sits at the right edge and the line grows to the left.
    const points = history.map((price, i) => {
      const x = SPARK_WIDTH - (history.length - 1 - i) * step;
      const y = max === min ? SPARK_HEIGHT / 2 : pad + ((max - price) / (max - min)) * (SPARK_HEIGHT - 2 * pad);
      return `${x.toFixed(2)},${y.toFixed(2)}`;
    });
    const firstX = (SPARK_WIDTH - (history.length - 1) * step).toFixed(2);
    row.sparkLine.setAttribute("points", points.join(" "));
    row.sparkArea.setAttribute("points", `${firstX},${SPARK_HEIGHT} ${points.join(" ")} ${SPARK_WIDTH},${SPARK_HEIGHT}`);
  }

  private flash(cell: HTMLElement, up: boolean): void {
    if (this.flashColours === null) {
      const style = getComputedStyle(document.documentElement);
      this.flashColours = {
        up: style.getPropertyValue("--flash-up").trim() || "rgba(22, 163, 74, 0.25)",
        down: style.getPropertyValue("--flash-down").trim() || "rgba(220, 38, 38, 0.25)",
      };
    }
    for (const animation of cell.getAnimations()) animation.cancel();
    cell.animate([{ backgroundColor: up ? this.flashColours.up : this.flashColours.down }, { backgroundColor: "transparent" }], {
      duration: 900,
      easing: "ease-out",
    });
  }
}
