/** The treasurer's desk (owner, admin, treasurer): the inbox (manual contributions waiting with
 * the member's note, orders waiting, payouts owed), valuing the club at a date with a preview of
 * NAV, unit value and what settles, orders (submit, cancel, place, with fills, fees and reserved
 * cash), and trades made outside. Everything here calls the API; live events keep it current. */
import { Fragment } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { ApiError, fetchSymbols } from "../api.ts";
import { live } from "../live.ts";
import { money, parseAmountInput, unitsMoved } from "../money.ts";
import { api, newKey, session } from "../session.ts";
import { rulesBody } from "../rules.ts";
import { useSendKey } from "../sendkey.ts";
import type { Club, Contribution, DuesGrid, MemberCharge, Order, Withdrawal } from "../types.ts";
import { Badge, Button, Empty, ErrorNote, Field, Notice, Panel, label, useAction, useLoad, when } from "../ui.tsx";
import { BrokerAccount, BrokerRef, orderReasonText, orderStatusText } from "./broker.tsx";
import { DuesDesk, hasDues, lateDues, monthLabel } from "./dues.tsx";
import { PendingApprovals } from "./money.tsx";

/** `GET /portfolio` positions: the latest quote of each holding (null before any tick), in the
 * club's currency; a stock quoted in another `currency` also has its own-currency prices. */
interface LivePosition {
  symbol: string;
  quantity: number;
  average_price: string | null;
  last_price: string | null;
  currency?: string | null;
  last_price_foreign?: string | null;
  average_price_foreign?: string | null;
}

/** A holding priced at a valuation: `price` in the stock's currency, `market_value` in the club's
 * (a foreign one converted at the ECB `rate` of `rate_date`). */
interface PricedPosition {
  symbol: string;
  quantity: number;
  price: string;
  market_value: string;
  currency?: string | null;
  foreign_value?: string | null;
  rate?: string | null;
  rate_date?: string | null;
}

interface Settlement {
  kind: string;
  id: string;
  user_id: string;
  amount: string;
  units: string;
  fee: string;
}

/** A valuation (or its preview): figures before settlement, what settles, the club after. */
interface ValuationAnswer {
  id: string;
  valuation_date: string;
  cash: string;
  market_value: string;
  liabilities: string;
  nav: string;
  units_outstanding: string;
  unit_value: string;
  unit_value_after?: string;
  positions: PricedPosition[];
  settlements: Settlement[];
  nav_after: string;
  units_after: string;
}

interface Fill {
  fill_id: string;
  quantity: number;
  price: string;
  fee: string;
  realised: string;
  trade_date: string;
  booked?: string | null;
  rate?: string | null;
  charges?: { name: string; amount: string }[];
}

/** A broker's charge on a fill, as the contract note names it (app/orders/charges.py). */
const CHARGE_NAMES: Record<string, string> = {
  brokerage: "Brokerage", stt: "STT", exchange: "Exchange charges", sebi: "SEBI fees",
  stamp_duty: "Stamp duty", gst: "GST", sec_fee: "SEC fee", finra_taf: "FINRA TAF",
};

/** What a fill's fee is made of at a real broker (Kite, Alpaca), as a row under the fill;
 * nothing for the paper broker. */
function FillCharges({ fill, currency, columns }: { fill: Fill; currency: string; columns: number }) {
  const shown = (fill.charges ?? []).filter((c) => c.amount !== "0.00");
  if (!shown.length) return null;
  return (
    <tr class="fill-charges">
      <td colSpan={columns} class="muted small" style={{ whiteSpace: "normal", paddingTop: 0 }} data-testid={`fill-charges-${fill.fill_id}`}>
        Broker's charges in the fee: {shown.map((c) => `${CHARGE_NAMES[c.name] ?? c.name.replace(/_/g, " ")} ${money(c.amount, currency)}`).join(" · ")}
      </td>
    </tr>
  );
}

/** The broker's contract note of a finished order: what it charged, and how that differs from
 * the charges its fills were booked with (the difference is booked too). */
function ContractNote({ order: o, currency }: { order: Order; currency: string }) {
  if (!o.contract_charges) return null;
  const shown = o.contract_charges.filter((ch) => ch.amount !== "0.00");
  const total = o.fees;
  const adjustment = o.charges_adjustment ?? "0.00";
  const change = adjustment === "0.00" ? "the same as booked with the fills"
    : adjustment.startsWith("-") ? `${money(adjustment.slice(1), currency)} less than booked with the fills (given back)`
    : `${money(adjustment, currency)} more than booked with the fills (charged)`;
  return (
    <span class="muted small block" data-testid={`desk-order-note-${o.id}`}>
      Contract note: {money(total, currency)} — {change}. {shown.map((ch) => `${CHARGE_NAMES[ch.name] ?? ch.name.replace(/_/g, " ")} ${money(ch.amount, currency)}`).join(" · ")}
    </span>
  );
}

const WORKING = new Set(["awaiting_execution", "submitted", "accepted", "partially_filled"]);

/** Today's date as the server counts it (UTC): a valuation or trade cannot be after it. */
export function serverToday(): string {
  return new Date().toISOString().slice(0, 10);
}

type Tab = "inbox" | "value" | "orders" | "trade" | "charge" | "dues" | "rules";

export function DeskPanel({ club, orders: liveOrders, version, nameOf, onChanged }: {
  club: Club; orders: Record<string, Order>; version: number; nameOf: (id: string) => string; onChanged: () => void;
}) {
  // Back from the broker's login (`?broker=…` / `?broker_error=…`): straight to the broker.
  const fromBroker = /[?&]broker(_error)?=/.test(window.location.search);
  const [tab, setTab] = useState<Tab>(fromBroker ? "orders" : "inbox");
  const [pushed, setPushed] = useState(0);
  // A member recording money paid outside notifies the treasurers: the inbox reloads.
  useEffect(() => live.on("notification:new", (e: { notification: { club_id?: string | null } }) => {
    if (e.notification.club_id === club.id) setPushed((v) => v + 1);
  }), [club.id]);
  const contributions = useLoad(() => api<{ contributions: Contribution[] }>("GET", `/api/v1/clubs/${club.id}/contributions`), [club.id, version, pushed]);
  const withdrawals = useLoad(() => api<{ withdrawals: (Withdrawal & { user_id: string })[] }>("GET", `/api/v1/clubs/${club.id}/withdrawals`), [club.id, version, pushed]);
  const listed = useLoad(() => api<{ orders: Order[] }>("GET", `/api/v1/clubs/${club.id}/orders`), [club.id]);
  const orders = useMemo(() => {
    const byId = new Map((listed.data?.orders ?? []).map((o) => [o.id, o]));
    for (const o of Object.values(liveOrders)) {
      const known = byId.get(o.id);
      if (!known || known.updated_at <= o.updated_at) byId.set(o.id, o);
    }
    return [...byId.values()].sort((a, b) => b.created_at.localeCompare(a.created_at));
  }, [listed.data, liveOrders]);

  const pending = (contributions.data?.contributions ?? []).filter((x) => x.status === "pending_approval");
  // One's own manual contribution is shown but waits for someone else: not counted as waiting for you.
  const me = session.me.get()?.id ?? "";
  const waiting = orders.filter((o) => o.status === "awaiting_execution");
  const payouts = (withdrawals.data?.withdrawals ?? []).filter((w) => w.status === "settled");
  const dues = useLoad(() => (hasDues(club) ? api<DuesGrid>("GET", `/api/v1/clubs/${club.id}/dues?months=3`) : Promise.resolve(null)), [club.id, club.dues_amount, version, pushed]);
  const overdue = lateDues(dues.data);
  const inboxCount = pending.filter((x) => x.user_id !== me).length + waiting.length + payouts.length + overdue.length;
  const tabs: [Tab, string][] = [["inbox", "Inbox"], ["value", "Value the club"], ["orders", "Orders"], ["trade", "Record a trade"], ["charge", "Charge a member"], ["dues", "Dues"]];
  if (club.my_role === "owner") tabs.push(["rules", "Rules"]);
  return (
    <Panel title={<>Treasurer's desk {inboxCount > 0 && <Badge tone="warn" testId="desk-inbox-count">{inboxCount} waiting</Badge>}</>} testId="desk-panel">
      <div class="desk-tabs" role="tablist">
        {tabs.map(([key, text]) => (
          <button key={key} type="button" role="tab" aria-selected={tab === key ? "true" : "false"} class={`desk-tab ${tab === key ? "on" : ""}`} data-testid={`desk-tab-${key}`} onClick={() => setTab(key)}>{text}</button>
        ))}
      </div>
      <ErrorNote error={contributions.error ?? withdrawals.error ?? listed.error} />
      {tab === "inbox" && (
        <div data-testid="desk-inbox">
          {inboxCount === 0 && <Empty testId="desk-inbox-empty">Nothing waits for you. Manual contributions to approve, orders to send and payouts owed show up here as they happen.</Empty>}
          <PendingApprovals club={club} list={pending} nameOf={nameOf} onDecided={contributions.reload} />
          {waiting.length > 0 && (
            <>
              <h3 class="subhead">Orders waiting to be sent</h3>
              <ul class="rows">{waiting.map((o) => <OrderRow key={o.id} club={club} order={o} />)}</ul>
            </>
          )}
          {payouts.length > 0 && <Payouts club={club} list={payouts} nameOf={nameOf} onPaid={() => { withdrawals.reload(); onChanged(); }} />}
          {overdue.length > 0 && (
            <>
              <h3 class="subhead">Dues overdue</h3>
              <ul class="rows" data-testid="desk-dues-overdue">
                {overdue.map(({ user_id, cell }) => (
                  <li key={`${user_id}-${cell.month}`} data-testid={`overdue-${user_id}-${cell.month}`}>
                    <span><strong>{nameOf(user_id)}</strong><span class="muted small"> · {monthLabel(cell.month)} · due {cell.due_on}{cell.late_fee_charged ? " · late fee charged" : ""}</span></span>
                    <Badge tone="bad">Late</Badge>
                  </li>
                ))}
              </ul>
            </>
          )}
        </div>
      )}
      {tab === "value" && <ValueTheClub club={club} version={version} nameOf={nameOf} onValued={onChanged} />}
      {tab === "orders" && <OrdersDesk club={club} orders={orders} />}
      {tab === "orders" && <BrokerAccount club={club} />}
      {tab === "trade" && <RecordTrade club={club} onRecorded={onChanged} />}
      {tab === "charge" && <ChargeMember club={club} nameOf={nameOf} />}
      {tab === "dues" && <DuesDesk club={club} version={version + pushed} nameOf={nameOf} />}
      {tab === "rules" && <RulesForm club={club} onSaved={onChanged} />}
    </Panel>
  );
}

/** Value the club at a date: a price for every holding (the latest quote, editable), a preview
 * of NAV, unit value and what settles, then confirm. */
function ValueTheClub({ club, version, nameOf, onValued }: { club: Club; version: number; nameOf: (id: string) => string; onValued: () => void }) {
  const c = club.currency;
  const portfolio = useLoad(() => api<{ positions: LivePosition[] }>("GET", `/api/v1/clubs/${club.id}/portfolio`), [club.id, version]);
  const [date, setDate] = useState(serverToday());
  const [prices, setPrices] = useState<Record<string, string>>({});
  const [preview, setPreview] = useState<ValuationAnswer | null>(null);
  const [done, setDone] = useState<ValuationAnswer | null>(null);
  const sendKey = useSendKey();
  const positions = portfolio.data?.positions ?? [];
  // Prices are typed in the stock's own currency (the server converts a foreign one at the ECB
  // rate of the valuation date).
  const priceOf = (p: LivePosition) => prices[p.symbol] ?? (p.currency ? p.last_price_foreign ?? p.average_price_foreign : p.last_price ?? p.average_price) ?? "";
  const quoted = (p: LivePosition) => (p.currency ? p.last_price_foreign : p.last_price);
  const body = () => {
    const out: Record<string, string> = {};
    for (const p of positions) {
      const value = parseAmountInput(priceOf(p));
      if (value === null) throw new ApiError(`Enter a price for ${p.symbol}, like 581.25.`, 422, "validation_error");
      out[p.symbol] = value;
    }
    return { valuation_date: date, prices: out };
  };
  const look = useAction(async () => {
    setDone(null);
    setPreview(await api<ValuationAnswer>("POST", `/api/v1/clubs/${club.id}/valuations/preview`, { body: body() }));
  });
  const confirm = useAction(async () => {
    const request = { path: `/api/v1/clubs/${club.id}/valuations`, body: body() };
    const made = await sendKey.send(request, (key) => api<ValuationAnswer>("POST", request.path, { body: request.body, idempotencyKey: key }));
    setDone(made);
    setPreview(null);
    onValued();
  });
  const change = () => {
    setPreview(null);
    setDone(null);
  };
  return (
    <div class="desk-value" data-testid="desk-value">
      <form class="form" onSubmit={(e) => { e.preventDefault(); void look.run(); }}>
        <div class="form-row">
          <Field label="Valuation date" testId="valuation-date" type="date" max={serverToday()} min={club.last_valuation_date ?? undefined} required value={date}
            onInput={(e) => { setDate((e.currentTarget as HTMLInputElement).value); change(); }} />
        </div>
        {club.last_valuation_date && <p class="muted small">Last valued on {club.last_valuation_date}; a new valuation comes after it.</p>}
        {positions.length === 0 ? (
          !portfolio.loading && <p class="muted small" data-testid="valuation-no-holdings">The club holds no investments yet: its value is its cash.</p>
        ) : (
          <div class="table-wrap">
            <table class="data" data-testid="valuation-prices">
              <thead><tr><th>Holding</th><th class="num">Shares</th><th class="num">Price per share</th></tr></thead>
              <tbody>
                {positions.map((p) => (
                  <tr key={p.symbol}>
                    <th scope="row"><span class="ticker">{p.symbol}</span></th>
                    <td class="num">{p.quantity}</td>
                    <td class="num">
                      <span class="price-cell"><span class="muted small" data-testid={`valuation-currency-${p.symbol}`}>{p.currency ?? c}</span>
                      <input class="price-input" inputMode="decimal" aria-label={`Price of ${p.symbol} in ${p.currency ?? c}`} data-testid={`valuation-price-${p.symbol}`} value={priceOf(p)}
                        onInput={(e) => { setPrices({ ...prices, [p.symbol]: (e.currentTarget as HTMLInputElement).value }); change(); }} /></span>
                      <span class="field-hint block">{quoted(p) ? "latest quote" : "book cost (no quote yet)"}</span>
                      {p.currency && <span class="field-hint block" data-testid={`valuation-fx-hint-${p.symbol}`}>in {p.currency}; {c} at the ECB rate of the date</span>}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <ErrorNote error={look.error ?? portfolio.error} testId="valuation-error" />
        <div class="form-actions">
          <Button type="submit" kind="secondary" busy={look.busy} testId="valuation-preview">Preview</Button>
        </div>
      </form>
      {preview && (
        <div class="valuation-preview" data-testid="valuation-preview-figures">
          <h3 class="subhead">On {preview.valuation_date}, before anything settles</h3>
          <dl class="pairs">
            <dt>Cash</dt><dd>{money(preview.cash, c)}</dd>
            <dt>Investments</dt><dd>{money(preview.market_value, c)}</dd>
            <dt>Owed (money not yet in units, payouts)</dt><dd>{money(preview.liabilities, c)}</dd>
            <dt>NAV</dt><dd data-testid="preview-nav">{money(preview.nav, c)}</dd>
            <dt>Unit value (settles at this)</dt><dd data-testid="preview-unit-value">{money(preview.unit_value, c)}</dd>
          </dl>
          {preview.positions.length > 0 && (
            <div class="table-wrap">
              <table class="data" data-testid="preview-positions">
                <thead><tr><th>Holding</th><th class="num">Shares</th><th class="num">Price · rate</th><th class="num">Value ({c})</th></tr></thead>
                <tbody>
                  {preview.positions.map((p) => (
                    <tr key={p.symbol} data-testid={`preview-position-${p.symbol}`}>
                      <th scope="row"><span class="ticker">{p.symbol}</span></th>
                      <td class="num">{p.quantity}</td>
                      <td class="num">
                        <span data-testid={`preview-price-${p.symbol}`}>{money(p.price, p.currency ?? c)}</span>
                        {p.rate && <span class="muted small block fx-rate" data-testid={`preview-rate-${p.symbol}`}>× {p.rate} {c}/{p.currency}<span class="block">ECB, {p.rate_date}</span></span>}
                      </td>
                      <td class="num" data-testid={`preview-value-${p.symbol}`}>{money(p.market_value, c)}{p.foreign_value && <span class="muted small block">{money(p.foreign_value, p.currency ?? c)}</span>}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <h3 class="subhead">What settles at that unit value</h3>
          {preview.settlements.length === 0 ? (
            <p class="muted small" data-testid="preview-nothing-settles">Nothing: no contribution or withdrawal is waiting.</p>
          ) : (
            <ul class="rows" data-testid="preview-settlements">
              {preview.settlements.map((s) => (
                <li key={s.id} data-testid={`preview-settlement-${s.user_id}`}>
                  <span>{s.kind === "contribution" ? "Contribution" : s.kind === "charge" ? "Charge" : "Withdrawal"} · {nameOf(s.user_id)}</span>
                  <span class="row-end">
                    <strong>{money(s.amount, c)}</strong>
                    <span class="muted small" data-testid="preview-settlement-units"> {unitsMoved(s.units)}{s.fee !== "0.00" ? ` · fee ${money(s.fee, c)}` : ""}</span>
                  </span>
                </li>
              ))}
            </ul>
          )}
          <h3 class="subhead">After settlement</h3>
          <dl class="pairs">
            <dt>NAV</dt><dd data-testid="preview-nav-after">{money(preview.nav_after, c)}</dd>
            <dt>Units outstanding</dt><dd data-testid="preview-units-after">{preview.units_after}</dd>
            {preview.unit_value_after && <><dt>Unit value</dt><dd>{money(preview.unit_value_after, c)}</dd></>}
          </dl>
          <ErrorNote error={confirm.error} testId="valuation-confirm-error" />
          <div class="form-actions">
            <Button kind="ghost" type="button" onClick={() => setPreview(null)}>Change</Button>
            <Button busy={confirm.busy} testId="valuation-confirm" onClick={() => void confirm.run()}>Confirm the valuation</Button>
          </div>
        </div>
      )}
      {done && (
        <Notice tone="ok" testId="valuation-done">
          Valued on {done.valuation_date}: NAV {money(done.nav_after, c)} in {done.units_after} units. Every member's units are updated.
        </Notice>
      )}
    </div>
  );
}

/** One order with what the treasurer can do to it, its reserved cash, fills and fees. */
function OrderRow({ club, order: o }: { club: Club; order: Order }) {
  // An order's prices, fees and reserve are in its stock's currency; what it holds from the
  // club's cash is in the club's.
  const c = o.currency ?? club.currency;
  const foreign = c !== club.currency;
  const [fills, setFills] = useState<Fill[] | null>(null);
  const [cancelling, setCancelling] = useState(false);
  const [changing, setChanging] = useState(false);
  const [queued, setQueued] = useState("");
  const act = useAction(async (what: "submit" | "cancel") => {
    setQueued("");
    try {
      await api("POST", `/api/v1/clubs/${club.id}/orders/${o.id}/${what}`, { idempotencyKey: newKey() });
    } catch (error) {
      // The broker did not take it, but the order is kept and re-sent: not a failure to redo.
      if (error instanceof ApiError && error.details.queued === true) {
        setQueued(error.code === "broker_login_required"
          ? "The broker asks for a new login: the order is kept and goes once you have logged in to the broker (below)."
          : "The broker is not answering: the order is queued and will be re-sent automatically when it answers. Nothing more to do.");
        return;
      }
      throw error;
    }
  });
  const loadFills = useAction(async () => {
    setFills((await api<{ fills: Fill[] }>("GET", `/api/v1/clubs/${club.id}/orders/${o.id}`)).fills);
  });
  // Fills shown stay current as the order fills.
  useEffect(() => {
    if (fills !== null) void loadFills.run();
  }, [o.filled_quantity]);
  const size = o.quantity !== null ? `${o.quantity}` : o.amount ? `for ${money(o.amount, c)}` : "";
  return (
    <li class="desk-order" data-testid={`desk-order-${o.id}`} data-status={o.status}>
      <span class="desk-order-main">
        <span class={o.side === "buy" ? "up" : "down"}>{label(o.side)}</span> {size} <strong>{o.symbol}</strong>
        <span class="muted small"> {o.kind === "limit" ? `limit ${money(o.limit_price, c)}` : "at market"}{o.proposal_id ? " · voted by the club" : ""}</span>
        <span class="muted small block">
          Filled {o.filled_quantity}{o.quantity ? ` of ${o.quantity}` : ""}
          {o.average_price ? ` at ${money(o.average_price, c)}` : ""} · fees {money(o.fees, c)}
          {WORKING.has(o.status) && o.reserved !== "0.00" && <> · cash reserved <span data-testid={`desk-order-reserved-${o.id}`}>{money(o.reserved, c)}</span></>}
          {WORKING.has(o.status) && foreign && o.held && o.held !== "0.00" && <> · <span data-testid={`desk-order-held-${o.id}`}>{money(o.held, club.currency)} held at {o.hold_rate} {club.currency}/{c} (ECB, {o.hold_rate_date}) with a margin for rate moves</span></>}
        </span>
        {o.reason && <span class="muted small block" data-testid={`desk-order-reason-${o.id}`}>{orderReasonText(o.reason)}</span>}
        <ContractNote order={o} currency={c} />
        <BrokerRef order={o} />
      </span>
      <span class="row-end">
        <Badge tone={o.status === "filled" ? "ok" : o.status === "rejected" ? "bad" : WORKING.has(o.status) ? "warn" : "neutral"} testId={`desk-order-status-${o.id}`}>{orderStatusText(o)}</Badge>
        {o.status === "awaiting_execution" && <Button class="btn-small" busy={act.busy} testId={`desk-order-submit-${o.id}`} onClick={() => void act.run("submit")}>Send to broker</Button>}
        {MODIFIABLE.has(o.status) && !changing && !cancelling && <Button kind="ghost" class="btn-small" testId={`desk-order-modify-${o.id}`} onClick={() => setChanging(true)}>Change</Button>}
        {WORKING.has(o.status) && !cancelling && <Button kind="ghost" class="btn-small" testId={`desk-order-cancel-${o.id}`} onClick={() => setCancelling(true)}>Cancel</Button>}
        {WORKING.has(o.status) && cancelling && (
          <>
            <span class="small">Cancel this order?</span>
            <Button kind="danger" class="btn-small" busy={act.busy} testId={`desk-order-cancel-confirm-${o.id}`} onClick={() => void act.run("cancel").then(() => setCancelling(false))}>Yes, cancel it</Button>
            <Button kind="ghost" class="btn-small" onClick={() => setCancelling(false)}>Keep it</Button>
          </>
        )}
        {o.filled_quantity > 0 && fills === null && <Button kind="ghost" class="btn-small" busy={loadFills.busy} testId={`desk-order-fills-${o.id}`} onClick={() => void loadFills.run()}>Fills</Button>}
      </span>
      {fills && (
        <table class="data fills" data-testid={`desk-fills-${o.id}`}>
          <thead><tr><th>Date</th><th class="num">Shares</th><th class="num">Price</th><th class="num">Fee</th>{foreign && <th class="num">Booked ({club.currency})</th>}</tr></thead>
          <tbody>{fills.map((f) => <Fragment key={f.fill_id}><tr><td>{f.trade_date}</td><td class="num">{f.quantity}</td><td class="num">{money(f.price, c)}</td><td class="num">{money(f.fee, c)}</td>{foreign && <td class="num">{f.booked ? money(f.booked, club.currency) : "—"}{f.rate && <span class="muted small block">at {f.rate}</span>}</td>}</tr><FillCharges fill={f} currency={c} columns={foreign ? 5 : 4} /></Fragment>)}</tbody>
        </table>
      )}
      {changing && MODIFIABLE.has(o.status) && <ModifyOrder club={club} order={o} onDone={() => setChanging(false)} />}
      {queued && o.status === "submitted" && <Notice tone="info" testId={`desk-order-queued-${o.id}`}>{queued}</Notice>}
      <ErrorNote error={act.error ?? loadFills.error} testId={`desk-order-error-${o.id}`} />
    </li>
  );
}

/** Orders the broker is working on can be changed (quantity, limit price). */
const MODIFIABLE = new Set(["accepted", "partially_filled"]);

/** Change an open order at its broker: the new total quantity (more than filled) and, for a
 * limit order, the limit price. A buy cannot grow beyond the cash it set aside. */
function ModifyOrder({ club, order: o, onDone }: { club: Club; order: Order; onDone: () => void }) {
  const [quantity, setQuantity] = useState(String(o.quantity ?? ""));
  const [limit, setLimit] = useState(o.limit_price ?? "");
  const save = useAction(async () => {
    const body: Record<string, unknown> = {};
    if (quantity.trim() && Number(quantity) !== o.quantity) body.quantity = Number(quantity);
    if (o.kind === "limit" && limit.trim() && limit.trim() !== o.limit_price) body.limit_price = parseAmountInput(limit) ?? limit.trim();
    await api("POST", `/api/v1/clubs/${club.id}/orders/${o.id}/modify`, { body, idempotencyKey: newKey() });
    onDone();
  });
  return (
    <form class="form form-inline" data-testid={`desk-order-modify-form-${o.id}`} onSubmit={(e) => { e.preventDefault(); void save.run(); }}>
      <Field label={`Shares (filled ${o.filled_quantity})`} testId={`desk-order-modify-quantity-${o.id}`} type="number" min={String(o.filled_quantity + 1)} value={quantity} onInput={(e) => setQuantity((e.target as HTMLInputElement).value)} />
      {o.kind === "limit" && <Field label={`Limit (${club.currency})`} testId={`desk-order-modify-limit-${o.id}`} inputMode="decimal" value={limit} onInput={(e) => setLimit((e.target as HTMLInputElement).value)} />}
      <p class="actions-row">
        <Button type="submit" class="btn-small" busy={save.busy} testId={`desk-order-modify-save-${o.id}`}>Change at the broker</Button>
        <Button kind="ghost" class="btn-small" onClick={onDone}>Keep as is</Button>
      </p>
      <ErrorNote error={save.error} testId={`desk-order-modify-error-${o.id}`} />
    </form>
  );
}

function OrdersDesk({ club, orders }: { club: Club; orders: Order[] }) {
  const working = orders.filter((o) => WORKING.has(o.status));
  const done = orders.filter((o) => !WORKING.has(o.status)).slice(0, 8);
  return (
    <div data-testid="desk-orders">
      <PlaceOrder club={club} />
      <h3 class="subhead">Working</h3>
      {working.length === 0 ? <p class="muted small">No order is working.</p> : <ul class="rows">{working.map((o) => <OrderRow key={o.id} club={club} order={o} />)}</ul>}
      {done.length > 0 && (
        <>
          <h3 class="subhead">Done</h3>
          <ul class="rows">{done.map((o) => <OrderRow key={o.id} club={club} order={o} />)}</ul>
        </>
      )}
    </div>
  );
}

function PlaceOrder({ club }: { club: Club }) {
  const [open, setOpen] = useState(false);
  const [form, setForm] = useState({ side: "buy", symbol: "", quantity: "", kind: "market", limit: "" });
  const set = (k: keyof typeof form) => (e: Event) => setForm({ ...form, [k]: (e.currentTarget as HTMLInputElement).value });
  const sendKey = useSendKey();
  const place = useAction(async () => {
    const quantity = Number.parseInt(form.quantity, 10);
    if (!(quantity > 0)) throw new ApiError("Enter how many shares, a whole number.", 422, "validation_error");
    const body: Record<string, unknown> = { side: form.side, symbol: form.symbol.trim().toUpperCase(), quantity, kind: form.kind };
    if (form.kind === "limit") {
      const limit = parseAmountInput(form.limit);
      if (limit === null) throw new ApiError("Enter a limit price like 250.00.", 422, "validation_error");
      body.limit_price = limit;
    }
    const path = `/api/v1/clubs/${club.id}/orders`;
    await sendKey.send({ path, body }, (key) => api("POST", path, { body, idempotencyKey: key }));
    setOpen(false);
    setForm({ side: "buy", symbol: "", quantity: "", kind: "market", limit: "" });
  });
  if (!open) return <p><Button kind="secondary" testId="order-new" onClick={() => setOpen(true)}>Place an order</Button></p>;
  return (
    <form class="form" data-testid="order-form" onSubmit={(e) => { e.preventDefault(); void place.run(); }}>
      <div class="form-row">
        <label class="field"><span class="field-label">Side</span>
          <select data-testid="order-side" value={form.side} onChange={set("side")}><option value="buy">Buy</option><option value="sell">Sell</option></select>
        </label>
        <Field label="Symbol" testId="order-symbol" required placeholder="AAPL" value={form.symbol} onInput={set("symbol")} />
        <Field label="Shares" testId="order-quantity" type="number" min="1" required value={form.quantity} onInput={set("quantity")} />
        <label class="field"><span class="field-label">Price</span>
          <select data-testid="order-kind" value={form.kind} onChange={set("kind")}><option value="market">At market</option><option value="limit">Limit</option></select>
        </label>
        {form.kind === "limit" && <Field label="Limit (in the stock's currency)" testId="order-limit" inputMode="decimal" required value={form.limit} onInput={set("limit")} />}
      </div>
      <p class="muted small">The order waits here until you send it to the broker. A stock quoted in another currency than {club.currency} is paid in {club.currency} at the day's ECB rate; sending it sets aside its cost with a small margin for rate moves.</p>
      <ErrorNote error={place.error} testId="order-error" />
      <div class="form-actions">
        <Button kind="ghost" type="button" onClick={() => setOpen(false)}>Cancel</Button>
        <Button type="submit" busy={place.busy} testId="order-submit">Place the order</Button>
      </div>
    </form>
  );
}

/** A trade made outside the app (at a broker of the club's own), entered to the books. */
function RecordTrade({ club, onRecorded }: { club: Club; onRecorded: () => void }) {
  const [form, setForm] = useState({ side: "buy", symbol: "", quantity: "", price: "", fees: "", date: serverToday() });
  const set = (k: keyof typeof form) => (e: Event) => setForm({ ...form, [k]: (e.currentTarget as HTMLInputElement).value });
  const sendKey = useSendKey();
  const [done, setDone] = useState<string | null>(null);
  const record = useAction(async () => {
    setDone(null);
    const quantity = Number.parseInt(form.quantity, 10);
    const price = parseAmountInput(form.price);
    const fees = form.fees.trim() ? parseAmountInput(form.fees) : "0.00";
    if (!(quantity > 0)) throw new ApiError("Enter how many shares, a whole number.", 422, "validation_error");
    if (price === null) throw new ApiError("Enter the price per share, like 581.25.", 422, "validation_error");
    if (fees === null) throw new ApiError("Enter the fees like 20.00, or leave them empty.", 422, "validation_error");
    const symbol = form.symbol.trim().toUpperCase();
    const path = `/api/v1/clubs/${club.id}/trades`;
    const body = { side: form.side, symbol, quantity, price, fees, trade_date: form.date };
    await sendKey.send({ path, body }, (key) => api("POST", path, { body, idempotencyKey: key }));
    // The price was typed in the stock's own currency: say it with its sign.
    const quoted = await fetchSymbols().then((all) => all.find((x) => x.symbol === symbol)?.currency, () => undefined);
    setDone(`Recorded: ${form.side === "buy" ? "bought" : "sold"} ${quantity} ${symbol} at ${money(price, quoted ?? club.currency)} a share.`);
    setForm({ ...form, symbol: "", quantity: "", price: "", fees: "" });
    onRecorded();
  });
  return (
    <form class="form" data-testid="trade-form" onSubmit={(e) => { e.preventDefault(); void record.run(); }}>
      <div class="form-row">
        <label class="field"><span class="field-label">Side</span>
          <select data-testid="trade-side" value={form.side} onChange={set("side")}><option value="buy">Bought</option><option value="sell">Sold</option></select>
        </label>
        <Field label="Symbol" testId="trade-symbol" required placeholder="AAPL" value={form.symbol} onInput={set("symbol")} />
        <Field label="Shares" testId="trade-quantity" type="number" min="1" required value={form.quantity} onInput={set("quantity")} />
      </div>
      <div class="form-row">
        <Field label="Price per share (stock's currency)" testId="trade-price" inputMode="decimal" required value={form.price} onInput={set("price")} />
        <Field label="Fees (stock's currency)" testId="trade-fees" inputMode="decimal" placeholder="0.00" value={form.fees} onInput={set("fees")} />
        <Field label="Trade date" testId="trade-date" type="date" max={serverToday()} required value={form.date} onInput={set("date")} />
      </div>
      <p class="muted small">Prices and fees are in the currency the stock is quoted in (US dollars for US stocks); the books convert them to {club.currency} at the ECB reference rate of the trade date.</p>
      <ErrorNote error={record.error} testId="trade-error" />
      {done && <Notice tone="ok" testId="trade-done">{done}</Notice>}
      <div class="form-actions">
        <Button type="submit" busy={record.busy} testId="trade-submit">Record the trade</Button>
      </div>
    </form>
  );
}

/** Withdrawals settled at a valuation and not yet paid: pay them out of the club's cash. */
function Payouts({ club, list, nameOf, onPaid }: { club: Club; list: (Withdrawal & { user_id: string })[]; nameOf: (id: string) => string; onPaid: () => void }) {
  const [paidOn, setPaidOn] = useState<Record<string, string>>({});
  const pay = useAction(async (w: Withdrawal) => {
    const day = paidOn[w.id] ?? serverToday();
    await api("POST", `/api/v1/clubs/${club.id}/withdrawals/${w.id}/payout?paid_on=${day}`, { idempotencyKey: newKey() });
    onPaid();
  });
  return (
    <>
      <h3 class="subhead">Payouts owed</h3>
      <ul class="rows">
        {list.map((w) => (
          <li key={w.id} data-testid={`payout-${w.id}`}>
            <span><strong>{money(w.net, club.currency)}</strong><span class="muted small"> · {nameOf(w.user_id)} · settled {when(w.valuation_date)}</span></span>
            <span class="row-end">
              <label class="small muted">
                Money left on{" "}
                <input type="date" aria-label="Date the money left the club" data-testid={`payout-date-${w.id}`} min={w.valuation_date ?? undefined} max={serverToday()}
                  value={paidOn[w.id] ?? serverToday()} onInput={(e) => setPaidOn({ ...paidOn, [w.id]: (e.currentTarget as HTMLInputElement).value })} />
              </label>
              <Button class="btn-small" kind="secondary" busy={pay.busy} testId={`payout-pay-${w.id}`} onClick={() => void pay.run(w)}>Paid out</Button>
            </span>
          </li>
        ))}
      </ul>
      <ErrorNote error={pay.error} testId="payout-error" />
    </>
  );
}

/** A fee or an expense share the club keeps, paid by redeeming the member's units at the next
 * valuation (the money stays in the club: everyone else's unit value rises). */
function ChargeMember({ club, nameOf }: { club: Club; nameOf: (id: string) => string }) {
  const members = useLoad(() => api<{ members: { user_id: string; role: string }[] }>("GET", `/api/v1/clubs/${club.id}/members`), [club.id]);
  const charges = useLoad(() => api<{ charges: MemberCharge[] }>("GET", `/api/v1/clubs/${club.id}/charges`), [club.id]);
  const [form, setForm] = useState({ user: "", amount: "", reason: "" });
  const sendKey = useSendKey();
  const charge = useAction(async () => {
    const amount = parseAmountInput(form.amount);
    if (!form.user) throw new ApiError("Choose the member to charge.", 422, "validation_error");
    if (amount === null) throw new ApiError("Enter the amount, like 100.00.", 422, "validation_error");
    if (form.reason.trim().length < 3) throw new ApiError("Say what the charge is for: the member reads it.", 422, "validation_error");
    const path = `/api/v1/clubs/${club.id}/charges`;
    const body = { user_id: form.user, amount, reason: form.reason.trim() };
    await sendKey.send({ path, body }, (key) => api("POST", path, { body, idempotencyKey: key }));
    setForm({ user: "", amount: "", reason: "" });
    charges.reload();
  });
  const [asking, setAsking] = useState<string | null>(null);
  const cancel = useAction(async (id: string) => {
    await api("POST", `/api/v1/clubs/${club.id}/charges/${id}/cancel`);
    setAsking(null);
    charges.reload();
  });
  return (
    <div data-testid="desk-charge">
      <form class="form" onSubmit={(e) => { e.preventDefault(); void charge.run(); }}>
        <div class="form-row">
          <label class="field"><span class="field-label">Member</span>
            <select data-testid="charge-member" value={form.user} onChange={(e) => setForm({ ...form, user: (e.currentTarget as HTMLSelectElement).value })}>
              <option value="">Choose…</option>
              {(members.data?.members ?? []).map((m) => <option key={m.user_id} value={m.user_id}>{nameOf(m.user_id)}</option>)}
            </select>
          </label>
          <Field label={`Amount (${club.currency})`} testId="charge-amount" inputMode="decimal" value={form.amount} onInput={(e) => setForm({ ...form, amount: (e.currentTarget as HTMLInputElement).value })} />
        </div>
        <Field label="What it is for" testId="charge-reason" maxLength={200} placeholder="Late fee for March" value={form.reason} onInput={(e) => setForm({ ...form, reason: (e.currentTarget as HTMLInputElement).value })} />
        <p class="muted small">Paid from the member's units at the next valuation; the money stays in the club.</p>
        <ErrorNote error={charge.error} testId="charge-error" />
        <div class="form-actions"><Button type="submit" busy={charge.busy} testId="charge-submit">Charge</Button></div>
      </form>
      {(charges.data?.charges.length ?? 0) > 0 && (
        <ul class="rows" data-testid="charges">
          {charges.data?.charges.map((x) => (
            <li key={x.id} data-testid={`charge-${x.id}`} data-status={x.status}>
              <span><strong>{money(x.amount, club.currency)}</strong><span class="muted small"> · {nameOf(x.user_id)} · {x.reason}{x.units ? ` · ${unitsMoved(x.units)} on ${x.valuation_date}` : ""}</span></span>
              <span class="row-end">
                {x.status === "pending" && asking !== x.id && <Button kind="ghost" class="btn-small" testId={`charge-cancel-${x.id}`} onClick={() => setAsking(x.id)}>Cancel</Button>}
                {x.status === "pending" && asking === x.id && (
                  <>
                    <span class="small">Cancel this charge? The member is told.</span>
                    <Button kind="danger" class="btn-small" busy={cancel.busy} testId={`charge-cancel-yes-${x.id}`} onClick={() => void cancel.run(x.id)}>Yes, cancel it</Button>
                    <Button kind="ghost" class="btn-small" onClick={() => setAsking(null)}>Keep it</Button>
                  </>
                )}
                <Badge tone={x.status === "settled" ? "ok" : x.status === "pending" ? "warn" : "neutral"} testId={`charge-status-${x.id}`}>{label(x.status)}</Badge>
              </span>
            </li>
          ))}
        </ul>
      )}
      <ErrorNote error={cancel.error} testId="charge-cancel-error" />
    </div>
  );
}

/** The club's rules, changed by an owner (audited with before and after). */
function RulesForm({ club, onSaved }: { club: Club; onSaved: () => void }) {
  const [form, setForm] = useState({
    voting_mode: club.voting_mode, threshold: String(club.approval_threshold_bps / 100), quorum: club.quorum_bps === null ? "" : String(club.quorum_bps / 100),
    tie_rule: club.tie_rule, fee: String(club.withdrawal_fee_bps / 100), by: club.rules_changed_by ?? "owners",
    dues: club.dues_amount ?? "0.00", duesDay: String(club.dues_day ?? 1), grace: String(club.dues_grace_days ?? 5), lateFee: club.dues_late_fee ?? "0.00",
  });
  const [saved, setSaved] = useState(false);
  const set = (k: keyof typeof form) => (e: Event) => { setSaved(false); setForm({ ...form, [k]: (e.currentTarget as HTMLInputElement).value }); };
  const save = useAction(async () => {
    await api("PATCH", `/api/v1/clubs/${club.id}/rules`, { body: rulesBody(form) });
    setSaved(true);
    onSaved();
  });
  if (club.rules_changed_by === "vote") {
    return (
      <div data-testid="desk-rules-by-vote">
        <Notice tone="info">The members change this club's rules by vote: propose the change under Votes ("Change the club's rules"). When it passes, the rules change for everyone at once.</Notice>
      </div>
    );
  }
  return (
    <form class="form" data-testid="desk-rules" onSubmit={(e) => { e.preventDefault(); void save.run(); }}>
      <div class="form-row">
        <label class="field"><span class="field-label">Voting</span>
          <select data-testid="rules-voting" value={form.voting_mode} onChange={set("voting_mode")}><option value="simple">One member, one vote</option><option value="weighted">By units held</option></select>
        </label>
        <Field label="Passes at (% yes)" testId="rules-threshold" inputMode="decimal" value={form.threshold} onInput={set("threshold")} />
        <Field label="Quorum (% of the club, empty: none)" testId="rules-quorum" inputMode="decimal" value={form.quorum} onInput={set("quorum")} />
      </div>
      <div class="form-row">
        <label class="field"><span class="field-label">A tie is</span>
          <select data-testid="rules-tie" value={form.tie_rule} onChange={set("tie_rule")}><option value="reject">Rejected</option><option value="approve">Approved</option></select>
        </label>
        <Field label="Withdrawal fee (%)" testId="rules-fee" inputMode="decimal" value={form.fee} onInput={set("fee")} />
      </div>
      <div class="form-row">
        <Field label={`Monthly dues per member (${club.currency}, 0: none)`} testId="rules-dues" inputMode="decimal" value={form.dues} onInput={set("dues")} />
        <Field label="Due on day (1–28)" testId="rules-dues-day" type="number" min="1" max="28" value={form.duesDay} onInput={set("duesDay")} />
        <Field label="Grace days" testId="rules-dues-grace" type="number" min="0" max="28" value={form.grace} onInput={set("grace")} />
        <Field label={`Late fee (${club.currency})`} testId="rules-dues-late-fee" inputMode="decimal" value={form.lateFee} onInput={set("lateFee")} />
      </div>
      <div class="form-row">
        <label class="field"><span class="field-label">Rules are changed by</span>
          <select data-testid="rules-by" value={form.by} onChange={set("by")}><option value="owners">The owners</option><option value="vote">The members' vote (owners can no longer change them alone)</option></select>
        </label>
      </div>
      <p class="muted small">Open proposals keep the rules they were opened with. Every change is recorded with the rules before and after.</p>
      <ErrorNote error={save.error} testId="rules-error" />
      {saved && <Notice tone="ok" testId="rules-saved">The club's rules are changed.</Notice>}
      <div class="form-actions"><Button type="submit" busy={save.busy} testId="rules-save">Save the rules</Button></div>
    </form>
  );
}
