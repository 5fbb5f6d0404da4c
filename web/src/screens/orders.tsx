/** The club's orders with their status (live through `order:updated`, caught up from the room
 * log) and the live NAV / unit value (`portfolio:nav`, after fills and on price ticks). */
import { money } from "../money.ts";
import { api } from "../session.ts";
import type { Club, Order, PortfolioNav } from "../types.ts";
import { Badge, Empty, ErrorNote, Panel, clock, label, useLoad, when } from "../ui.tsx";
import { BrokerRef, orderReasonText, orderStatusText } from "./broker.tsx";

interface PortfolioNow {
  currency: string;
  cash: string;
  market_value: string;
  liabilities: string;
  nav: string;
  units: string;
  unit_value: string;
  as_of: string;
}

const ORDER_TONE: Record<string, "ok" | "warn" | "bad" | "neutral" | "brand"> = {
  awaiting_execution: "neutral", submitted: "warn", accepted: "warn", partially_filled: "brand", filled: "ok", cancelled: "neutral", rejected: "bad",
};

export function OrdersPanel({ club, live, nav }: { club: Club; live: Record<string, Order>; nav: PortfolioNav | null }) {
  const list = useLoad(() => api<{ orders: Order[] }>("GET", `/api/v1/clubs/${club.id}/orders`), [club.id]);
  const now = useLoad(() => api<PortfolioNow>("GET", `/api/v1/clubs/${club.id}/portfolio`).catch(() => null), [club.id]);
  const byId = new Map((list.data?.orders ?? []).map((o) => [o.id, o]));
  for (const o of Object.values(live)) {
    const known = byId.get(o.id);
    if (!known || known.updated_at <= o.updated_at) byId.set(o.id, o);
  }
  const orders = [...byId.values()].sort((a, b) => b.created_at.localeCompare(a.created_at)).slice(0, 15);
  const shown = nav ?? now.data;
  const c = club.currency;
  return (
    <Panel title="Orders" testId="orders-panel" actions={shown && (
      <span class="live-nav small" data-testid="live-nav" data-source={nav ? "live" : "loaded"}>
        NAV <strong data-testid="live-nav-value">{money(shown.nav, c)}</strong> · unit <strong>{money(shown.unit_value, c)}</strong>
        {nav && <span class="muted"> · {clock(nav.ts)}</span>}
      </span>
    )}>
      <ErrorNote error={list.error} />
      {!list.loading && orders.length === 0 && <Empty testId="orders-empty">No orders yet: an approved investment proposal places one.</Empty>}
      {orders.length > 0 && (
        <div class="table-wrap">
          <table class="data orders-table" data-testid="orders">
            <thead>
              <tr><th>Order</th><th class="num">Filled</th><th class="num">Avg price</th><th class="num">Fees</th><th>Status</th><th>Updated</th></tr>
            </thead>
            <tbody>
              {orders.map((o) => {
                // Prices and fees are in the stock's own currency (a US stock: dollars), as on the desk.
                const oc = o.currency ?? c;
                return (
                  <tr key={o.id} data-testid={`order-${o.id}`} data-status={o.status}>
                    <th scope="row">
                      <span class={o.side === "buy" ? "up" : "down"}>{label(o.side)}</span> {o.quantity ?? ""} <span class="ticker">{o.symbol}</span>
                      <span class="muted small"> {o.kind === "limit" ? `limit ${money(o.limit_price, oc)}` : o.amount ? `for ${money(o.amount, oc)}` : "at market"}</span>
                      <BrokerRef order={o} />
                    </th>
                    <td class="num">{o.filled_quantity}{o.quantity ? ` / ${o.quantity}` : ""}</td>
                    <td class="num" data-testid={`order-price-${o.id}`}>{o.average_price ? money(o.average_price, oc) : "—"}</td>
                    <td class="num">{money(o.fees, oc)}</td>
                    <td><Badge tone={ORDER_TONE[o.status] ?? "neutral"} testId={`order-status-${o.id}`}>{orderStatusText(o)}</Badge>{o.reason && <span class="muted small block" data-testid={`order-reason-${o.id}`}>{orderReasonText(o.reason)}</span>}</td>
                    <td class="small">{when(o.updated_at)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </Panel>
  );
}
