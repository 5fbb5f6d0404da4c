/** The club's money on screen: portfolio (positions, allocation, NAV / unit value), my capital
 * account, contributing through the provider's checkout, withdrawals, and money arriving live. */
import { useState } from "preact/hooks";
import { ApiError } from "../api.ts";
import { AllocationChart, NavChart } from "../charts.tsx";
import type { LiveQuote } from "../livequotes.ts";
import { money, multiplyDecimal, parseAmountInput, signOf, unitsMoved } from "../money.ts";
import { api, newKey, session, uploadFile } from "../session.ts";
import { useSendKey } from "../sendkey.ts";
import type { Club, Contribution, ContributionReceived, Holding, MemberCharge, MemberStatus, Position, Valuation, ValuationStatement, Withdrawal } from "../types.ts";
import { Badge, Button, Empty, ErrorNote, Field, Notice, Panel, clock, label, useAction, useLoad, when } from "../ui.tsx";
import { MyDues } from "./dues.tsx";

/** A statement endpoint answers 422 `invalid_valuation` until the club's first valuation. */
async function orNone<T>(call: Promise<T>): Promise<T | null> {
  try {
    return await call;
  } catch (error) {
    if (error instanceof ApiError && error.code === "invalid_valuation") return null;
    throw error;
  }
}

function Figure({ name, value, testId, tone }: { name: string; value: string; testId: string; tone?: -1 | 0 | 1 }) {
  return (
    <div class="figure" data-testid={testId}>
      <span class="figure-name">{name}</span>
      <span class={`figure-value ${tone === 1 ? "up" : tone === -1 ? "down" : ""}`}>{value}</span>
    </div>
  );
}

/** `GET /portfolio` position of a stock quoted in another currency than the club's: its value
 * now in the club's currency at the ECB rate of the quote's day, and the unrealised gain split
 * into the price's part and the exchange rate's. */
interface ForeignLive {
  symbol: string;
  currency?: string | null;
  market_value: string;
  rate?: string | null;
  rate_date?: string | null;
  price_gain?: string | null;
  fx_gain?: string | null;
}

/** The rows of the positions table: what the club holds now (the books), each with its price
 * and value at the last valuation when it was held then at the same quantity (a position
 * bought or changed since shows its live figures only); before the books load, the
 * valuation's positions. */
function positionRows(valued: Position[], held: Holding[] | null): Position[] {
  if (held === null) return valued;
  const then = new Map(valued.map((p) => [p.symbol, p]));
  return held.filter((h) => h.quantity > 0).map((h) => {
    const p = then.get(h.symbol);
    return p && p.quantity === h.quantity ? p : { symbol: h.symbol, quantity: h.quantity, price: "", market_value: "" };
  });
}

export function PortfolioPanel({ club, quotes, version }: { club: Club; quotes: Record<string, LiveQuote>; version: number }) {
  const c = club.currency;
  // Foreign holdings: their value in the club's currency now, price gain and FX gain apart.
  const live = useLoad(() => api<{ positions: ForeignLive[] }>("GET", `/api/v1/clubs/${club.id}/portfolio`).catch(() => null), [club.id, version]);
  const foreign = new Map((live.data?.positions ?? []).filter((x) => x.currency).map((x) => [x.symbol, x]));
  const statement = useLoad(() => orNone(api<ValuationStatement>("GET", `/api/v1/clubs/${club.id}/valuation-statement`)), [club.id, version]);
  const valuations = useLoad(() => api<{ valuations: Valuation[] }>("GET", `/api/v1/clubs/${club.id}/valuations`), [club.id, version]);
  const holdings = useLoad(() => api<{ holdings: Holding[] }>("GET", `/api/v1/clubs/${club.id}/holdings`), [club.id, version]);
  const [showBalance, setShowBalance] = useState(false);
  const s = statement.data;
  const cost = new Map((holdings.data?.holdings ?? []).map((h) => [h.symbol, h.cost]));
  const points = (valuations.data?.valuations ?? []).map((v) => ({ date: v.valuation_date, nav: v.nav_after, unitValue: v.unit_value }));
  const slices = s ? [...s.holdings.map((h) => ({ label: h.symbol, value: h.market_value })), { label: "Cash", value: s.cash }].filter((x) => signOf(x.value) > 0) : [];
  return (
    <Panel title="Portfolio" testId="portfolio-panel" actions={s && <span class="muted small">as valued on {s.valuation_date}</span>}>
      <ErrorNote error={statement.error ?? valuations.error ?? holdings.error} />
      {s === null && !statement.loading && !statement.error && (
        <Empty testId="no-valuation">No valuation yet: the treasurer values the club to issue units and show its NAV.</Empty>
      )}
      {s && (
        <>
          <div class="figures">
            <Figure name="NAV" value={money(s.nav, c)} testId="nav" />
            <Figure name="Unit value" value={money(s.unit_value, c)} testId="unit-value" />
            <Figure name="Cash" value={money(s.cash, c)} testId="cash" />
            <Figure name="Units outstanding" value={s.units_outstanding} testId="units-outstanding" />
          </div>
          <div class="charts">
            {points.length > 0 && <NavChart points={points} currency={c} />}
            {slices.length > 0 && <AllocationChart slices={slices} />}
          </div>
        </>
      )}
      {(s?.holdings.length ?? 0) > 0 || (holdings.data?.holdings.length ?? 0) > 0 ? (
        <div class="table-wrap">
          <table class="data positions-table" data-testid="positions">
            <thead>
              <tr>
                <th>Symbol</th>
                <th class="num">Quantity</th>
                <th class="num">Book cost</th>
                <th class="num">Price</th>
                <th class="num">Value</th>
                <th class="num">Live price</th>
                <th class="num">Live value</th>
              </tr>
            </thead>
            <tbody>
              {positionRows(s?.holdings ?? [], holdings.data?.holdings ?? null).map((p) => {
                const tick = quotes[p.symbol]?.last;
                const abroad = foreign.get(p.symbol);
                return (
                  <tr key={p.symbol} data-testid={`position-${p.symbol}`}>
                    <th scope="row">{p.symbol}</th>
                    <td class="num">{p.quantity}</td>
                    <td class="num">{money(cost.get(p.symbol), c)}</td>
                    <td class="num" data-testid={`position-price-${p.symbol}`}>{p.price ? money(p.price, p.currency ?? c) : "—"}</td>
                    <td class="num" data-testid={`position-value-${p.symbol}`}>{p.market_value ? money(p.market_value, c) : "—"}{p.rate && <span class="muted small block">at {p.rate} {c}/{p.currency} (ECB, {p.rate_date})</span>}</td>
                    <td class="num" data-testid={`position-live-${p.symbol}`}>{tick ? money(tick.price, tick.currency) : "—"}</td>
                    <td class="num">
                      {tick ? money(multiplyDecimal(tick.price, p.quantity), tick.currency) : "—"}
                      {abroad && abroad.rate && (
                        <span class="muted small block" data-testid={`position-fx-${p.symbol}`}>
                          {money(abroad.market_value, c)} at {abroad.rate} ({abroad.rate_date})
                          {abroad.price_gain && abroad.fx_gain && <> · price gain {money(abroad.price_gain, c)} · FX gain {money(abroad.fx_gain, c)}</>}
                        </span>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
      <details class="trial-balance" onToggle={(e) => setShowBalance((e.currentTarget as HTMLDetailsElement).open)}>
        <summary data-testid="trial-balance-toggle">Trial balance</summary>
        {showBalance && <TrialBalance clubId={club.id} currency={c} />}
      </details>
    </Panel>
  );
}


function TrialBalance({ clubId, currency }: { clubId: string; currency: string }) {
  const tb = useLoad(() => api<{ rows: { account: string; type: string; debit: string; credit: string }[]; total_debit: string; total_credit: string; balanced: boolean }>("GET", `/api/v1/clubs/${clubId}/trial-balance`), [clubId]);
  if (tb.error) return <ErrorNote error={tb.error} />;
  if (!tb.data) return <p class="muted">Loading…</p>;
  return (
    <table class="data" data-testid="trial-balance">
      <thead><tr><th>Account</th><th class="num">Debit</th><th class="num">Credit</th></tr></thead>
      <tbody>
        {tb.data.rows.map((r) => <tr key={r.account}><th scope="row">{r.account} <span class="muted small">{r.type}</span></th><td class="num">{money(r.debit, currency)}</td><td class="num">{money(r.credit, currency)}</td></tr>)}
      </tbody>
      <tfoot>
        <tr><th>Total {tb.data.balanced ? <Badge tone="ok">balanced</Badge> : <Badge tone="bad">out of balance</Badge>}</th><td class="num">{money(tb.data.total_debit, currency)}</td><td class="num">{money(tb.data.total_credit, currency)}</td></tr>
      </tfoot>
    </table>
  );
}

const STATUS_TONE: Record<string, "ok" | "warn" | "bad" | "neutral"> = {
  received: "ok", settled: "ok", paid: "ok", awaiting_payment: "warn", pending_approval: "warn", approved: "warn", pending: "warn", failed: "bad", rejected: "bad",
};

/** Why an online contribution was given up, in words. */
const GIVEN_UP: Record<string, string> = {
  checkout_cancelled: "checkout cancelled",
  checkout_expired: "checkout expired unpaid",
};
/** A checkout given up here but paid at the provider after all (its page stays open there). */
const PAID_AFTER: Record<string, string> = {
  paid_after_cancel: "paid after it was cancelled",
  paid_after_expiry: "paid after it expired",
  paid_after_failure: "paid after it failed",
};
const GIVEN_UP_BADGE: Record<string, string> = { checkout_cancelled: "Cancelled", checkout_expired: "Expired" };

/** The charges the club made to this member (fees, expense shares: paid from their units at a
 * valuation, the money kept by the club), with what each is for. The treasury manages every
 * member's on the desk; this is the member's own list. */
function MyCharges({ club, version }: { club: Club; version: number }) {
  const me = session.me.get()?.id ?? "";
  const charges = useLoad(() => api<{ charges: MemberCharge[] }>("GET", `/api/v1/clubs/${club.id}/charges`), [club.id, version]);
  const own = (charges.data?.charges ?? []).filter((x) => x.user_id === me);
  if (own.length === 0) return null;
  return (
    <>
      <h3 class="subhead">Charges to me</h3>
      <ul class="rows" data-testid="my-charges">
        {own.map((x) => (
          <li key={x.id} data-testid={`my-charge-${x.id}`} data-status={x.status}>
            <span><strong>{money(x.status === "settled" && x.charged ? x.charged : x.amount, club.currency)}</strong><span class="muted small"> · {x.reason}{x.status === "settled" && x.valuation_date ? ` · paid from my units on ${x.valuation_date}` : x.status === "pending" ? " · paid from my units at the next valuation" : ""}</span></span>
            <Badge tone={x.status === "settled" ? "ok" : x.status === "pending" ? "warn" : "neutral"}>{label(x.status)}</Badge>
          </li>
        ))}
      </ul>
    </>
  );
}

export function CapitalPanel({ club, version, nameOf }: { club: Club; version: number; nameOf: (id: string) => string }) {
  const me = session.me.get()?.id ?? "";
  const c = club.currency;
  const status = useLoad(() => orNone(api<MemberStatus>("GET", `/api/v1/clubs/${club.id}/member-status`)), [club.id, version]);
  const contributions = useLoad(() => api<{ contributions: Contribution[] }>("GET", `/api/v1/clubs/${club.id}/contributions`), [club.id, version]);
  const withdrawals = useLoad(() => api<{ withdrawals: Withdrawal[] }>("GET", `/api/v1/clubs/${club.id}/withdrawals`), [club.id, version]);
  const mine = status.data?.members.find((m) => m.user_id === me);
  const treasury = ["owner", "admin", "treasurer"].includes(club.my_role);
  // An unpaid checkout can be given up (it then no longer counts toward the KYC allowance nor
  // keeps its member from leaving); money paid for it after all is still booked.
  const [asking, setAsking] = useState<string | null>(null);
  const giveUp = useAction(async (x: Contribution) => {
    await api<Contribution>("POST", `/api/v1/clubs/${club.id}/contributions/${x.id}/cancel`);
    setAsking(null);
    contributions.reload();
  });
  return (
    <Panel title="My capital account" testId="capital-panel">
      <ErrorNote error={status.error ?? contributions.error ?? giveUp.error} />
      {mine ? (
        <div class="figures">
          <Figure name="Paid in" value={money(mine.paid_in, c)} testId="my-paid-in" />
          <Figure name="Value" value={money(mine.value, c)} testId="my-value" />
          <Figure name="Units" value={mine.units} testId="my-units" />
          <Figure name="Ownership" value={`${mine.ownership_pct}%`} testId="my-ownership" />
          <Figure name="Return" value={`${mine.return_pct}%`} testId="my-return" tone={signOf(mine.return_pct)} />
          <Figure name="Withdrawn" value={money(mine.withdrawn, c)} testId="my-withdrawn" />
          {mine.charged && mine.charged !== "0.00" && <Figure name="Charged by the club" value={money(mine.charged, c)} testId="my-charged" />}
        </div>
      ) : (
        !status.loading && <p class="muted small">Your units are issued at the club's next valuation after your money arrives.</p>
      )}
      <MyCharges club={club} version={version} />
      <MyDues club={club} version={version} onPaid={contributions.reload} />
      <Contribute club={club} onOpened={contributions.reload} known={contributions.data?.contributions ?? []} />
      <h3 class="subhead">{treasury ? "Contributions (everyone)" : "My contributions"}</h3>
      {(contributions.data?.contributions.length ?? 0) === 0 ? (
        <p class="muted small">None yet.</p>
      ) : (
        <ul class="rows" data-testid="contributions">
          {contributions.data?.contributions.slice(0, 12).map((x) => (
            <li key={x.id} data-testid={`contribution-${x.id}`} data-status={x.status} class={asking === x.id ? "row-asking" : undefined}>
              <span>
                <strong>{money(x.amount, x.currency)}</strong>
                <span class="muted small"> · {treasury && x.user_id !== me ? `${nameOf(x.user_id)} · ` : ""}{x.method} · {when(x.created_at)}</span>
              </span>
              <span class="row-end">
                {x.status === "rejected" && x.decision_reason && <span class="muted small" data-testid={`contribution-reason-${x.id}`}>{x.decision_reason}</span>}
                {x.status === "failed" && x.decision_reason && GIVEN_UP[x.decision_reason] && <span class="muted small" data-testid={`contribution-reason-${x.id}`}>{GIVEN_UP[x.decision_reason]}</span>}
                {x.status === "received" && x.decision_reason && PAID_AFTER[x.decision_reason] && <span class="muted small" data-testid={`contribution-reason-${x.id}`}>{PAID_AFTER[x.decision_reason]}</span>}
                {x.status === "awaiting_payment" && x.checkout_url && x.user_id === me && (
                  <a href={x.checkout_url} target="samooh-checkout" rel="noopener" data-external class="small">Pay</a>
                )}
                {x.status === "awaiting_payment" && x.method === "online" && (x.user_id === me || treasury) && asking !== x.id && (
                  <Button kind="ghost" class="btn-small" testId={`contribution-cancel-${x.id}`} onClick={() => setAsking(x.id)}>Cancel</Button>
                )}
                {x.status === "failed" && x.decision_reason && GIVEN_UP_BADGE[x.decision_reason]
                  ? <Badge tone="neutral" testId={`contribution-status-${x.id}`}>{GIVEN_UP_BADGE[x.decision_reason]}</Badge>
                  : <Badge tone={STATUS_TONE[x.status] ?? "neutral"} testId={`contribution-status-${x.id}`}>{label(x.status)}</Badge>}
              </span>
              {asking === x.id && x.status === "awaiting_payment" && (
                <span class="row-ask small" data-testid={`contribution-cancel-ask-${x.id}`}>
                  Cancel {x.user_id === me ? "your" : `${nameOf(x.user_id)}'s`} unpaid checkout of {money(x.amount, x.currency)}? If it was paid after all, the money is still recorded.{" "}
                  <Button kind="danger" class="btn-small" busy={giveUp.busy} testId={`contribution-cancel-yes-${x.id}`} onClick={() => void giveUp.run(x)}>Yes, cancel it</Button>{" "}
                  <Button kind="ghost" class="btn-small" testId={`contribution-cancel-no-${x.id}`} onClick={() => setAsking(null)}>Keep it</Button>
                </span>
              )}
            </li>
          ))}
        </ul>
      )}
      <Withdrawals club={club} list={withdrawals.data?.withdrawals ?? []} onDone={withdrawals.reload} />
    </Panel>
  );
}

export function Contribute({ club, onOpened, known }: { club: Club; onOpened: () => void; known: Contribution[] }) {
  const [amount, setAmount] = useState("");
  const [checkout, setCheckout] = useState<Contribution | null>(null);
  const pay = useAction(async () => {
    const value = parseAmountInput(amount);
    if (value === null) throw new ApiError("Enter an amount like 500 or 500.00.", 422, "validation_error");
    // The checkout opens only once the club accepted the contribution, so a refusal (KYC, a
    // limit) never leaves a blank tab behind; a blocked pop-up leaves the link below to click.
    setCheckout(null);
    const created = await api<Contribution>("POST", `/api/v1/clubs/${club.id}/contributions`, {
      body: { amount: value, method: "online" }, idempotencyKey: newKey(),
    });
    setCheckout(created);
    onOpened();
    if (created.checkout_url) window.open(created.checkout_url, "samooh-checkout", "noopener");
  });
  return (
    <div class="contribute" data-testid="contribute">
      <form class="inline-form" onSubmit={(e) => { e.preventDefault(); void pay.run(); }}>
        <Field label={`Contribute (${club.currency})`} testId="contribute-amount" inputMode="decimal" placeholder="500.00" value={amount} onInput={(e) => setAmount((e.currentTarget as HTMLInputElement).value)} />
        <Button type="submit" busy={pay.busy} testId="contribute-submit">Pay in</Button>
      </form>
      <ErrorNote error={pay.error} testId="contribute-error" />
      <KycHint error={pay.error} />
      {checkout?.checkout_url && (known.find((x) => x.id === checkout.id)?.status ?? "awaiting_payment") === "awaiting_payment" && (
        <p class="muted small" data-testid="checkout-opened">
          Checkout for {money(checkout.amount, checkout.currency)} opened in a new tab.{" "}
          <a href={checkout.checkout_url} target="samooh-checkout" rel="noopener" data-external data-testid="checkout-link">Open it again</a>. This page updates by itself when the money arrives.
        </p>
      )}
      <ManualContribution club={club} onRecorded={onOpened} />
    </div>
  );
}

/** A contribution refused for want of KYC points the member to their KYC page. */
function KycHint({ error }: { error: unknown }) {
  if (!(error instanceof ApiError) || error.code !== "kyc_required") return null;
  return (
    <Notice tone="warn" testId="kyc-required">
      Above the yearly limit, contributions need a verified KYC (your PAN and a proof of address).{" "}
      <a href="/account/kyc" data-testid="kyc-required-link">Complete your KYC</a>
    </Notice>
  );
}

function today(): string {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

/** Money paid outside the app (a bank transfer, cash): recorded with its receipt, for a
 * treasurer to approve. The receipt is uploaded first, then the contribution refers to it. */
function ManualContribution({ club, onRecorded }: { club: Club; onRecorded: () => void }) {
  const [open, setOpen] = useState(false);
  const [amount, setAmount] = useState("");
  const [note, setNote] = useState("");
  const [receipt, setReceipt] = useState<File | null>(null);
  const [done, setDone] = useState<Contribution | null>(null);
  // A retried submit after a lost answer reuses its key (not recorded twice); a corrected one
  // after a refusal is a new request. The receipt is uploaded once per chosen file.
  const sendKey = useSendKey();
  const [uploaded, setUploaded] = useState<{ file: File; id: string } | null>(null);
  const record = useAction(async () => {
    const value = parseAmountInput(amount);
    if (value === null) throw new ApiError("Enter an amount like 500 or 500.00.", 422, "validation_error");
    if (!receipt) throw new ApiError("Attach the receipt (PDF, PNG or JPEG).", 422, "validation_error");
    let fileId = uploaded?.file === receipt ? uploaded.id : null;
    if (fileId === null) {
      fileId = (await uploadFile(receipt, "receipt", club.id)).id;
      setUploaded({ file: receipt, id: fileId });
    }
    const path = `/api/v1/clubs/${club.id}/contributions`;
    const body = { amount: value, method: "manual", receipt_file_id: fileId, note: note.trim() };
    const created = await sendKey.send({ path, body }, (key) => api<Contribution>("POST", path, { body, idempotencyKey: key }));
    setDone(created);
    setOpen(false);
    setAmount("");
    setNote("");
    setReceipt(null);
    setUploaded(null);
    onRecorded();
  });
  if (!open) {
    return (
      <p class="small manual-toggle">
        {done && <span class="ok-text" data-testid="manual-recorded">Recorded {money(done.amount, done.currency)}: a treasurer will check the receipt. </span>}
        <button type="button" class="link" data-testid="manual-open" onClick={() => { setDone(null); setOpen(true); }}>Paid outside the app? Record it with a receipt</button>
      </p>
    );
  }
  return (
    <form class="form manual-form" data-testid="manual-form" onSubmit={(e) => { e.preventDefault(); void record.run(); }}>
      <div class="form-row">
        <Field label={`Amount paid (${club.currency})`} testId="manual-amount" inputMode="decimal" placeholder="500.00" required value={amount} onInput={(e) => setAmount((e.currentTarget as HTMLInputElement).value)} />
        <label class="field">
          <span class="field-label">Receipt</span>
          <input type="file" accept="application/pdf,image/png,image/jpeg" required data-testid="manual-receipt" onChange={(e) => setReceipt((e.currentTarget as HTMLInputElement).files?.[0] ?? null)} />
          <span class="field-hint">PDF, PNG or JPEG</span>
        </label>
      </div>
      <Field label="Note for the treasurer (optional)" testId="manual-note" maxLength={500} placeholder="NEFT ref, date paid…" value={note} onInput={(e) => setNote((e.currentTarget as HTMLInputElement).value)} />
      <ErrorNote error={record.error} testId="manual-error" />
      <KycHint error={record.error} />
      <div class="form-actions">
        <Button kind="ghost" type="button" onClick={() => setOpen(false)}>Cancel</Button>
        <Button type="submit" busy={record.busy} testId="manual-submit">Record contribution</Button>
      </div>
    </form>
  );
}

/** Treasurers (owner/admin/treasurer) approve manual contributions with the date the money
 * arrived, or reject them with a reason. An approval lands like an online payment, live.
 * Shown in the treasurer's desk inbox. */
export function PendingApprovals({ club, list, nameOf, onDecided }: { club: Club; list: Contribution[]; nameOf: (id: string) => string; onDecided: () => void }) {
  const [approving, setApproving] = useState<Set<string>>(new Set());
  const [rejecting, setRejecting] = useState<string | null>(null);
  const [reason, setReason] = useState("");
  const [paidOn, setPaidOn] = useState<Record<string, string>>({});
  const preview = useAction(async (x: Contribution) => {
    // Opened inside the click, so no pop-up blocker stops it; pointed at the signed link below.
    const popup = window.open("", "_blank");
    try {
      const link = await api<{ url: string }>("GET", `/api/v1/files/${x.receipt_file_id}/link?disposition=inline`);
      if (popup) {
        popup.opener = null;
        popup.location.href = link.url;
      }
    } catch (error) {
      popup?.close();
      throw error;
    }
  });
  const decide = useAction(async (x: Contribution, approve: boolean) => {
    if (!approve && !reason.trim()) throw new ApiError("Nothing was rejected yet: write the reason first (the member reads it), then press Reject.", 422, "validation_error");
    await api("POST", `/api/v1/clubs/${club.id}/contributions/${x.id}/decision`, {
      body: approve ? { approve: true, paid_on: paidOn[x.id] ?? today() } : { approve: false, reason: reason.trim() },
      idempotencyKey: newKey(),
    });
    if (approve) setApproving(new Set([...approving, x.id]));
    else {
      setRejecting(null);
      setReason("");
      onDecided();
    }
  });
  // One's own manual contribution is decided by someone else (the server refuses the
  // contributor): it is shown apart, without Approve/Reject, saying who decides it.
  const me = session.me.get()?.id ?? "";
  const mine = list.filter((x) => x.user_id === me);
  const others = list.filter((x) => x.user_id !== me);
  const members = useLoad(
    () => (mine.length > 0 ? api<{ members: { user_id: string; role: string }[] }>("GET", `/api/v1/clubs/${club.id}/members`) : Promise.resolve(null)),
    [club.id, mine.length > 0],
  );
  if (list.length === 0) return null;
  const deciders = (members.data?.members ?? []).filter((m) => m.user_id !== me && ["owner", "admin", "treasurer"].includes(m.role));
  const who = club.my_role === "owner" ? "a treasurer, an admin or another owner" : club.my_role === "treasurer" ? "the owner, an admin or another treasurer" : "the owner, a treasurer or another admin";
  return (
    <div class="approvals" data-testid="pending-approvals">
      {mine.length > 0 && (
        <>
          <h3 class="subhead">Your own, waiting for someone else</h3>
          <ul class="rows">
            {mine.map((x) => (
              <li key={x.id} class="approval" data-testid={`pending-own-${x.id}`}>
                <span>
                  <strong>{money(x.amount, x.currency)}</strong>
                  <span class="muted small"> · recorded by you {when(x.created_at)}</span>
                  <span class="small block" data-testid={`pending-own-who-${x.id}`}>
                    You cannot approve your own contribution: it waits for {who} to check the receipt.
                    {members.data && deciders.length === 0 && " Nobody else in the club can approve it yet: make a member treasurer or admin first."}
                  </span>
                </span>
              </li>
            ))}
          </ul>
        </>
      )}
      {others.length > 0 && <h3 class="subhead">Waiting for your approval</h3>}
      <ul class="rows">
        {others.map((x) => (
          <li key={x.id} class="approval" data-testid={`pending-${x.id}`}>
            <span>
              <strong>{money(x.amount, x.currency)}</strong>
              <span class="muted small"> · {nameOf(x.user_id)} · recorded {when(x.created_at)}</span>
              {x.note && <span class="small block approval-note" data-testid={`pending-note-${x.id}`}>“{x.note}”</span>}
              {x.receipt_file_id && (
                <button type="button" class="link small receipt-link" data-testid={`receipt-${x.id}`} onClick={() => void preview.run(x)}>View receipt</button>
              )}
            </span>
            {approving.has(x.id) ? (
              <span class="muted small" data-testid={`approving-${x.id}`}><span class="spinner" aria-hidden="true" /> Approved — landing…</span>
            ) : rejecting === x.id ? (
              <form class="inline-form" onSubmit={(e) => { e.preventDefault(); void decide.run(x, false); }}>
                <input aria-label="Reason" placeholder="Why? The member reads this." data-testid={`reject-reason-${x.id}`} maxLength={500} value={reason} onInput={(e) => setReason((e.currentTarget as HTMLInputElement).value)} />
                <Button kind="danger" type="submit" class="btn-small" busy={decide.busy} testId={`reject-confirm-${x.id}`}>Reject</Button>
                <Button kind="ghost" type="button" class="btn-small" onClick={() => { setRejecting(null); decide.setError(null); }}>Back</Button>
                {/* Right here, so a refusal without a reason never looks like nothing happened. */}
                <ErrorNote error={decide.error} testId={`reject-error-${x.id}`} />
              </form>
            ) : (
              <span class="row-end approval-actions">
                <label class="small muted paid-on">
                  Arrived on
                  <input type="date" aria-label="Date the money arrived" data-testid={`paid-on-${x.id}`} max={today()} value={paidOn[x.id] ?? today()} onInput={(e) => setPaidOn({ ...paidOn, [x.id]: (e.currentTarget as HTMLInputElement).value })} />
                </label>
                <Button kind="secondary" class="btn-small" busy={decide.busy} testId={`approve-${x.id}`} onClick={() => void decide.run(x, true)}>Approve</Button>
                <Button kind="ghost" class="btn-small" testId={`reject-${x.id}`} onClick={() => { setReason(""); setRejecting(x.id); }}>Reject</Button>
              </span>
            )}
          </li>
        ))}
      </ul>
      <ErrorNote error={(rejecting === null ? decide.error : null) ?? preview.error} testId="approval-error" />
    </div>
  );
}

function Withdrawals({ club, list, onDone }: { club: Club; list: Withdrawal[]; onDone: () => void }) {
  const [open, setOpen] = useState(false);
  const [amount, setAmount] = useState("");
  const [full, setFull] = useState(false);
  const [code, setCode] = useState("");
  const [needsCode, setNeedsCode] = useState(false);
  const request = useAction(async () => {
    const value = full ? null : parseAmountInput(amount);
    if (!full && value === null) throw new ApiError("Enter an amount like 500.00, or withdraw everything.", 422, "validation_error");
    try {
      await api("POST", `/api/v1/clubs/${club.id}/withdrawals`, {
        body: full ? { full: true } : { amount: value }, idempotencyKey: newKey(), headers: code ? { "X-Step-Up-Code": code } : {},
      });
    } catch (error) {
      if (error instanceof ApiError && (error.code === "step_up_required" || error.code === "step_up_failed")) setNeedsCode(true);
      throw error;
    }
    setOpen(false);
    setAmount("");
    setCode("");
    onDone();
  });
  return (
    <div class="withdrawals">
      <div class="subhead-row">
        <h3 class="subhead">Withdrawals</h3>
        {!open && <Button kind="ghost" testId="withdraw-open" onClick={() => setOpen(true)}>Request a withdrawal</Button>}
      </div>
      {open && (
        <form class="form" data-testid="withdraw-form" onSubmit={(e) => { e.preventDefault(); void request.run(); }}>
          <label class="check"><input type="checkbox" checked={full} onChange={(e) => setFull((e.currentTarget as HTMLInputElement).checked)} data-testid="withdraw-full" /> Everything I hold</label>
          {!full && <Field label={`Gross amount (${club.currency})`} testId="withdraw-amount" inputMode="decimal" value={amount} onInput={(e) => setAmount((e.currentTarget as HTMLInputElement).value)} />}
          {needsCode && <Field label="Authenticator code" testId="withdraw-code" inputMode="numeric" value={code} onInput={(e) => setCode((e.currentTarget as HTMLInputElement).value)} />}
          <p class="muted small">Settled at the next valuation's unit value, less the club's fee.</p>
          <ErrorNote error={request.error} />
          <div class="form-actions">
            <Button kind="ghost" type="button" onClick={() => setOpen(false)}>Cancel</Button>
            <Button type="submit" busy={request.busy} testId="withdraw-submit">Request</Button>
          </div>
        </form>
      )}
      {list.length > 0 && (
        <ul class="rows" data-testid="withdrawals">
          {list.slice(0, 8).map((w) => (
            <li key={w.id}>
              <span>
                <strong>{w.full ? "Everything" : money(w.amount, club.currency)}</strong>
                {w.net && <span class="muted small"> · net {money(w.net, club.currency)}</span>}
                {w.units && <span class="muted small" data-testid="withdrawal-units"> · {unitsMoved(w.units)}</span>}
                <span class="muted small"> · {when(w.requested_at)}</span>
              </span>
              <Badge tone={STATUS_TONE[w.status] ?? "neutral"}>{label(w.status)}</Badge>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function ArrivalsFeed({ arrivals, nameOf }: { arrivals: ContributionReceived[]; nameOf: (id: string) => string }) {
  if (arrivals.length === 0) return null;
  return (
    <section class="arrivals panel" data-testid="arrivals" aria-live="polite">
      <h2 class="visually-hidden">Money arriving</h2>
      <ul>
        {arrivals.slice(0, 4).map((a) => (
          <li key={a.id} data-testid={`arrival-${a.contribution_id}`} class="arrival">
            <span class="arrival-dot" aria-hidden="true" />
            <strong>{money(a.amount, a.currency)}</strong> received from {nameOf(a.user_id)}
            <span class="muted small"> · {clock(a.ts)}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
