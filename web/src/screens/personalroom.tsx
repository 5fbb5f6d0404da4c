/** A personal advisory account's room (issue #17): a club of one, so none of a club's panels
 * (chat, votes, members, invites, the treasurer's desk, dues) — a portfolio card instead: its
 * holdings and cash valued at the live quotes, its return on the money paid in, the way to pay
 * more in, the link to its advice page and its orders, all kept current over the room's socket. */
import { money, signOf } from "../money.ts";
import type { LiveQuote } from "../livequotes.ts";
import { api } from "../session.ts";
import type { Club, Contribution, Withdrawal } from "../types.ts";
import { Badge, Empty, ErrorNote, useLoad } from "../ui.tsx";
import { Contribute } from "./money.tsx";

interface Line { symbol: string; quantity: number; price: string; value: string; currency: string | null; fx_rate: string | null }
interface Holdings { currency: string; cash: string; total: string; holdings: Line[] }

/** A two-place decimal string as a whole number of minor units (exact). */
export function toMinor(decimal: string): bigint {
  const text = decimal.trim();
  const negative = text.startsWith("-");
  const [whole = "0", fraction = ""] = text.replace(/^[-+]/, "").split(".");
  const minor = BigInt(whole || "0") * 100n + BigInt((fraction + "00").slice(0, 2));
  return negative ? -minor : minor;
}

/** Minor units back to a two-place decimal string. */
export function fromMinor(minor: bigint): string {
  const negative = minor < 0n;
  const abs = negative ? -minor : minor;
  return `${negative ? "-" : ""}${abs / 100n}.${(abs % 100n).toString().padStart(2, "0")}`;
}

/** gain ÷ base as a percentage with two places, rounded half away from zero ("12.34"). */
export function percentOf(gain: bigint, base: bigint): string {
  const scaled = gain * 20000n / base; // hundredths of a percent, doubled for rounding
  const rounded = scaled >= 0n ? (scaled + 1n) / 2n : (scaled - 1n) / 2n;
  return fromMinor(rounded);
}

/** A line's value now: its shares at the live quote when it is quoted in the account's own
 * currency; else (no tick yet, or another currency converted at the ECB rate by the server)
 * the server's valuation. Returns [value in minor units, live?]. */
function valueNow(line: Line, currency: string, quotes: Record<string, LiveQuote>): [bigint, boolean] {
  const tick = quotes[line.symbol]?.last;
  if (tick && tick.currency === currency && !line.fx_rate) return [toMinor(tick.price) * BigInt(line.quantity), true];
  return [toMinor(line.value), false];
}

export function PersonalAccountRoom({ club, quotes, version }: { club: Club; quotes: Record<string, LiveQuote>; version: number }) {
  const holdings = useLoad(() => api<Holdings>("GET", `/api/v1/portfolios/${club.id}/holdings`), [club.id, version]);
  const contributions = useLoad(() => api<{ contributions: Contribution[] }>("GET", `/api/v1/clubs/${club.id}/contributions`), [club.id, version]);
  const withdrawals = useLoad(() => api<{ withdrawals: Withdrawal[] }>("GET", `/api/v1/clubs/${club.id}/withdrawals`), [club.id, version]);
  const h = holdings.data;
  const c = h?.currency ?? club.currency;
  const held = (h?.holdings ?? []).filter((x) => x.quantity > 0);
  const valued = held.map((x) => ({ line: x, now: valueNow(x, c, quotes) }));
  const total = h ? valued.reduce((sum, x) => sum + x.now[0], toMinor(h.cash)) : null;
  const paidIn = (contributions.data?.contributions ?? [])
    .filter((x) => x.status === "received" || x.status === "settled")
    .reduce((sum, x) => sum + toMinor(x.amount), 0n);
  const withdrawn = (withdrawals.data?.withdrawals ?? [])
    .filter((x) => (x.status === "settled" || x.status === "paid") && x.net)
    .reduce((sum, x) => sum + toMinor(x.net ?? "0"), 0n);
  const gain = total !== null && contributions.data && withdrawals.data ? total + withdrawn - paidIn : null;
  const live = valued.some((x) => x.now[1]);
  return (
    <section class="panel panel-pad personal-card" data-testid="personal-card">
      <div class="page-head">
        <h2 class="subhead">Portfolio</h2>
        <a class="btn btn-secondary" href={`/advice/${club.id}`} data-testid="personal-advice-link">Advice for this account</a>
      </div>
      <ErrorNote error={holdings.error ?? contributions.error ?? withdrawals.error} />
      {h && total !== null && (
        <div class="figures">
          <div class="figure" data-testid="personal-total" data-minor={total.toString()}>
            <span class="figure-name">Value {live ? <Badge tone="ok" testId="personal-live">live</Badge> : null}</span>
            <span class="figure-value">{money(fromMinor(total), c)}</span>
          </div>
          <div class="figure" data-testid="personal-cash">
            <span class="figure-name">Cash</span>
            <span class="figure-value">{money(h.cash, c)}</span>
          </div>
          <div class="figure" data-testid="personal-paid-in">
            <span class="figure-name">Paid in</span>
            <span class="figure-value">{money(fromMinor(paidIn - withdrawn), c)}</span>
          </div>
          <div class="figure" data-testid="personal-return" data-gain={gain === null ? "" : fromMinor(gain)}>
            <span class="figure-name">Return</span>
            <span class={`figure-value ${gain === null ? "" : signOf(fromMinor(gain)) > 0 ? "up" : signOf(fromMinor(gain)) < 0 ? "down" : ""}`}>
              {gain === null ? "—" : `${gain > 0n ? "+" : ""}${money(fromMinor(gain), c)}`}
              {gain !== null && paidIn > 0n && <span class="small block" data-testid="personal-return-pct">{gain > 0n ? "+" : ""}{percentOf(gain, paidIn)}%</span>}
            </span>
          </div>
        </div>
      )}
      {h && held.length === 0 && <Empty testId="personal-no-holdings">No shares yet. Pay money in, then let the advice page recommend targets and place the trades.</Empty>}
      {held.length > 0 && (
        <div class="table-wrap">
          <table class="data" data-testid="personal-holdings">
            <thead><tr><th>Holding</th><th class="num">Price</th><th class="num">Value</th></tr></thead>
            <tbody>
              {valued.map(({ line, now }) => {
                const tick = quotes[line.symbol]?.last;
                return (
                  <tr key={line.symbol} data-testid={`personal-holding-${line.symbol}`} data-live={now[1] ? "true" : "false"}>
                    <th scope="row"><span class="ticker">{line.symbol}</span> <span class="muted small block">{line.quantity} shares</span></th>
                    <td class="num" data-testid={`personal-price-${line.symbol}`}>{now[1] && tick ? money(tick.price, c) : money(line.price, c)}</td>
                    <td class="num" data-testid={`personal-value-${line.symbol}`}>{money(fromMinor(now[0]), c)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <Contribute club={club} onOpened={() => contributions.reload()} known={contributions.data?.contributions ?? []} />
    </section>
  );
}

