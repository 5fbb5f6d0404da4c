/** Proposals of a club room: live vote bars (weight and count), vote buttons, countdowns, and
 * the form that opens a new proposal. */
import { useState } from "preact/hooks";
import { bpsPercent, microUnits, money, multiplyDecimal, parseAmountInput } from "../money.ts";
import type { ClubRoom } from "../room.ts";
import { api } from "../session.ts";
import type { Club, Proposal, Tally } from "../types.ts";
import { Badge, Button, Countdown, Empty, ErrorNote, Field, Notice, Panel, label, useAction, useLoad } from "../ui.tsx";

type Choice = "yes" | "no" | "abstain";

function weightText(tally: Tally, weight: number | null): string {
  if (weight === null) return "—";
  return tally.weight_unit === "vote" ? `${weight} vote${weight === 1 ? "" : "s"}` : `${microUnits(weight)} units`;
}

function share(part: number | null, whole: number): number {
  return part === null || whole <= 0 ? 0 : (part / whole) * 100; // bar widths only
}

function VoteBars({ proposal }: { proposal: Proposal }) {
  const t = proposal.tally;
  const rows: { choice: Choice; weight: number | null; count: number | null }[] = [
    { choice: "yes", weight: t.yes_weight, count: t.yes_count },
    { choice: "no", weight: t.no_weight, count: t.no_count },
    { choice: "abstain", weight: t.abstain_weight, count: t.abstain_count },
  ];
  return (
    <div class="tally" data-testid={`tally-${proposal.id}`} data-participation={t.participation_count}>
      {t.hidden ? (
        <p class="muted small" data-testid={`tally-hidden-${proposal.id}`}>Results are hidden until the vote closes.</p>
      ) : (
        rows.map((row) => (
          <div class={`tally-row tally-${row.choice}`} key={row.choice} data-testid={`tally-${row.choice}-${proposal.id}`} data-count={row.count ?? ""} data-weight={row.weight ?? ""}>
            <span class="tally-label">{label(row.choice)}</span>
            <span class="tally-bar" aria-hidden="true">
              <span class="tally-fill" style={{ width: `${share(row.weight, t.total_weight)}%` }} />
            </span>
            <span class="tally-figures">
              <strong>{row.count ?? "—"}</strong>
              {t.weight_unit === "micro_unit" && <span class="muted"> · {weightText(t, row.weight)}</span>}
            </span>
          </div>
        ))
      )}
      <p class="tally-summary muted small">
        {t.participation_count} of {t.eligible_count} voted
        {t.participation_bps !== null && ` (${bpsPercent(t.participation_bps)} of the weight)`}
        {!t.hidden && t.yes_bps !== null && ` · yes ${bpsPercent(t.yes_bps)} of yes + no, needs ${bpsPercent(proposal.threshold_bps)}`}
        {proposal.quorum_bps !== null && ` · quorum ${bpsPercent(proposal.quorum_bps)} ${t.quorum_met ? "met" : "not met"}`}
      </p>
    </div>
  );
}

function ProposalCard({ proposal, room, canManage, nameOf, currency }: { proposal: Proposal; room: ClubRoom; canManage: boolean; nameOf: (id: string) => string; currency: string }) {
  const vote = useAction(async (choice: Choice) => room.vote(proposal.id, choice));
  // Closing early or withdrawing cannot be undone: each asks first, on the card itself.
  const [confirming, setConfirming] = useState<"close" | "cancel" | null>(null);
  const manage = useAction(async (what: "close" | "cancel") => {
    await api("POST", `/api/v1/proposals/${proposal.id}/${what}`, what === "cancel" ? { body: { reason: "withdrawn" } } : {});
    setConfirming(null);
  });
  const open = proposal.status === "open";
  const outcome = proposal.status === "approved" ? "ok" : proposal.status === "rejected" ? "bad" : "neutral";
  return (
    <article class={`proposal ${open ? "open" : "closed"}`} data-testid={`proposal-${proposal.id}`} data-status={proposal.status} data-title={proposal.title}>
      <header class="proposal-head">
        <div>
          <h3>{proposal.title}</h3>
          <p class="muted small">
            {proposal.kind === "investment" && proposal.symbol && (
              <strong class="proposal-trade">
                {label(proposal.side ?? "")} {proposal.quantity !== null ? `${proposal.quantity} × ` : ""}{proposal.symbol}
                {proposal.amount !== null ? ` for ${money(proposal.amount, currency)}` : ""}
                {proposal.limit_price !== null ? ` (limit ${money(proposal.limit_price, currency)})` : ""}
                {" · "}
              </strong>
            )}
            by {nameOf(proposal.created_by)}
          </p>
        </div>
        {open ? <Countdown deadline={proposal.deadline} testId={`countdown-${proposal.id}`} /> : <Badge tone={outcome} testId={`outcome-${proposal.id}`}>{label(proposal.status)}</Badge>}
      </header>
      {proposal.description && <p class="proposal-desc">{proposal.description}</p>}
      <VoteBars proposal={proposal} />
      {open && (
        <div class="vote-buttons" role="group" aria-label="Your vote">
          {(["yes", "no", "abstain"] as Choice[]).map((choice) => (
            <Button
              key={choice} kind={proposal.my_vote === choice ? "primary" : "secondary"} class={`vote-${choice}`}
              aria-pressed={proposal.my_vote === choice ? "true" : "false"} testId={`vote-${choice}-${proposal.id}`}
              busy={vote.busy} onClick={() => void vote.run(choice)}
            >
              {label(choice)}
            </Button>
          ))}
          {canManage && confirming === null && (
            <span class="manage">
              <Button kind="ghost" testId={`close-${proposal.id}`} onClick={() => setConfirming("close")}>Close now</Button>
              <Button kind="ghost" testId={`cancel-${proposal.id}`} onClick={() => setConfirming("cancel")}>Withdraw</Button>
            </span>
          )}
          {canManage && confirming !== null && (
            <span class="manage confirm" data-testid={`confirm-${proposal.id}`}>
              <span class="small">{confirming === "close" ? "Close the vote now? It is decided on the votes cast so far." : "Withdraw this proposal? Nobody can vote on it any more."}</span>
              <Button kind="danger" class="btn-small" testId={`${confirming}-confirm-${proposal.id}`} busy={manage.busy} onClick={() => void manage.run(confirming)}>{confirming === "close" ? "Yes, close it" : "Yes, withdraw it"}</Button>
              <Button kind="ghost" class="btn-small" testId={`confirm-back-${proposal.id}`} onClick={() => setConfirming(null)}>Keep it open</Button>
            </span>
          )}
        </div>
      )}
      {proposal.my_vote && open && <p class="muted small" data-testid={`my-vote-${proposal.id}`}>You voted {proposal.my_vote}; you can change it until the close.</p>}
      {proposal.order_id && <p class="muted small">An order was created for the treasurer.</p>}
      <ErrorNote error={vote.error ?? manage.error} testId={`proposal-error-${proposal.id}`} />
    </article>
  );
}

const DURATIONS: [string, number][] = [["5 minutes", 5], ["1 hour", 60], ["1 day", 1440], ["3 days", 4320], ["1 week", 10080]];
// A proposal may ask for more agreement than the club's rule (never less), e.g. to sell everything.
const STRICTER = [6667, 7500, 9000, 10_000];

function NewProposal({ club, room, onDone }: { club: Club; room: ClubRoom; onDone: () => void }) {
  const [form, setForm] = useState({ kind: "investment", title: "", description: "", side: "buy", symbol: "", by: "quantity", quantity: "", amount: "", minutes: "1440", threshold: "" });
  const set = (key: keyof typeof form) => (e: Event) => setForm({ ...form, [key]: (e.currentTarget as HTMLInputElement).value });
  const create = useAction(async () => {
    const investment = form.kind === "investment";
    const body: Record<string, unknown> = {
      kind: form.kind, title: form.title, description: form.description,
      deadline: new Date(Date.now() + Number(form.minutes) * 60_000).toISOString(),
    };
    if (form.threshold) body.threshold_bps = Number(form.threshold);
    if (investment) {
      body.side = form.side;
      body.symbol = form.symbol.trim().toUpperCase();
      if (form.by === "quantity" || form.side === "sell") body.quantity = Number.parseInt(form.quantity, 10);
      else body.amount = form.amount.trim();
    }
    const proposal = await api<Proposal>("POST", `/api/v1/clubs/${club.id}/proposals`, { body });
    room.addProposal(proposal);
    onDone();
  });
  return (
    <form class="form new-proposal" data-testid="new-proposal" onSubmit={(e) => { e.preventDefault(); void create.run(); }}>
      <div class="form-row">
        <label class="field">
          <span class="field-label">Kind</span>
          <select data-testid="proposal-kind" value={form.kind} onChange={set("kind")}>
            <option value="investment">Investment</option>
            <option value="general">General decision</option>
          </select>
        </label>
        <label class="field">
          <span class="field-label">Voting closes in</span>
          <select data-testid="proposal-duration" value={form.minutes} onChange={set("minutes")}>
            {DURATIONS.map(([text, minutes]) => <option key={minutes} value={String(minutes)}>{text}</option>)}
          </select>
        </label>
        <label class="field">
          <span class="field-label">Passes with</span>
          <select data-testid="proposal-threshold" value={form.threshold} onChange={set("threshold")}>
            <option value="">{bpsPercent(club.approval_threshold_bps)} yes (the club's rule)</option>
            {STRICTER.filter((bps) => bps > club.approval_threshold_bps).map((bps) => (
              <option key={bps} value={String(bps)}>{bps === 10_000 ? "Everyone (100%) yes" : `${bpsPercent(bps)} yes`}</option>
            ))}
          </select>
        </label>
      </div>
      <Field label="Title" testId="proposal-title" required minLength={3} maxLength={140} value={form.title} onInput={set("title")} />
      {form.kind === "investment" && (
        <div class="form-row">
          <label class="field">
            <span class="field-label">Side</span>
            <select data-testid="proposal-side" value={form.side} onChange={set("side")}>
              <option value="buy">Buy</option>
              <option value="sell">Sell</option>
            </select>
          </label>
          <Field label="Symbol" testId="proposal-symbol" required placeholder="AAPL" value={form.symbol} onInput={set("symbol")} />
          {form.side === "buy" && (
            <label class="field">
              <span class="field-label">By</span>
              <select data-testid="proposal-by" value={form.by} onChange={set("by")}>
                <option value="quantity">Shares</option>
                <option value="amount">Amount</option>
              </select>
            </label>
          )}
          {form.by === "amount" && form.side === "buy" ? (
            <Field label={`Amount (${club.currency})`} testId="proposal-amount" inputMode="decimal" required value={form.amount} onInput={set("amount")} />
          ) : (
            <Field label="Shares" testId="proposal-quantity" type="number" min="1" required value={form.quantity} onInput={set("quantity")} />
          )}
        </div>
      )}
      {form.kind === "investment" && form.symbol.trim().length > 0 && (
        <TradeContext club={club} symbol={form.symbol.trim().toUpperCase()} side={form.side}
          quantity={form.by === "quantity" || form.side === "sell" ? Number.parseInt(form.quantity, 10) : null}
          amount={form.by === "amount" && form.side === "buy" ? parseAmountInput(form.amount) : null} />
      )}
      <label class="field">
        <span class="field-label">Why (optional)</span>
        <textarea data-testid="proposal-description" rows={2} maxLength={5000} value={form.description} onInput={set("description")} />
      </label>
      <ErrorNote error={create.error} />
      <div class="form-actions">
        <Button kind="ghost" type="button" onClick={onDone}>Cancel</Button>
        <Button type="submit" busy={create.busy} testId="proposal-submit">Open the vote</Button>
      </div>
    </form>
  );
}

export function ProposalsPanel({ club, room, proposals, nameOf }: { club: Club; room: ClubRoom; proposals: Proposal[]; nameOf: (id: string) => string }) {
  const [composing, setComposing] = useState(false);
  const canManage = club.my_role === "owner" || club.my_role === "admin";
  const open = proposals.filter((p) => p.status === "open");
  const closed = proposals.filter((p) => p.status !== "open");
  return (
    <Panel
      title={<>Proposals {open.length > 0 && <Badge tone="brand">{open.length} open</Badge>}</>}
      testId="proposals-panel"
      actions={!composing && <Button kind="secondary" testId="propose" onClick={() => setComposing(true)}>Propose</Button>}
    >
      {composing && <NewProposal club={club} room={room} onDone={() => setComposing(false)} />}
      {proposals.length === 0 && !composing && <Empty testId="no-proposals">No proposals yet. Propose an investment and the club votes on it live.</Empty>}
      <div class="proposal-list">
        {open.map((p) => <ProposalCard key={p.id} proposal={p} room={room} canManage={canManage || p.created_by === room.me} nameOf={nameOf} currency={club.currency} />)}
        {closed.length > 0 && <h3 class="subhead">Decided</h3>}
        {closed.slice(0, 10).map((p) => <ProposalCard key={p.id} proposal={p} room={room} canManage={false} nameOf={nameOf} currency={club.currency} />)}
      </div>
    </Panel>
  );
}

/** What a proposed trade means now: the price, the estimated cost, the club's free cash (cash
 * less money not yet turned into units and payouts owed), and a warning when it could not pay,
 * or when the instrument is quoted in another currency than the club keeps. */
function TradeContext({ club, symbol, side, quantity, amount }: { club: Club; symbol: string; side: string; quantity: number | null; amount: string | null }) {
  const quote = useLoad(() => api<{ price: string; currency: string; trade_date: string }>("GET", `/api/v1/market/quotes/${encodeURIComponent(symbol)}`).catch(() => null), [symbol]);
  const books = useLoad(() => api<{ cash: string; liabilities: string }>("GET", `/api/v1/clubs/${club.id}/portfolio`).catch(() => null), [club.id]);
  const q = quote.data;
  if (quote.loading) return null;
  if (!q) return <p class="muted small" data-testid="proposal-context">No price for {symbol} yet.</p>;
  const foreign = q.currency !== club.currency;
  const cost = quantity && quantity > 0 ? multiplyDecimal(q.price, quantity) : amount;
  const free = books.data ? subtractDecimal(books.data.cash, books.data.liabilities) : null;
  const short = side === "buy" && cost !== null && free !== null && !foreign && compareDecimal(cost, free) > 0;
  return (
    <div class="proposal-context small" data-testid="proposal-context">
      <span>Price now <strong data-testid="context-price">{money(q.price, q.currency)}</strong> ({q.trade_date})</span>
      {cost !== null && !foreign && <span> · estimated {side === "buy" ? "cost" : "proceeds"} <strong data-testid="context-cost">{money(cost, club.currency)}</strong> before fees</span>}
      {free !== null && <span> · free cash <strong data-testid="context-free-cash">{money(free, club.currency)}</strong></span>}
      {foreign && <Notice tone="warn" testId="context-currency">{symbol} is quoted in {q.currency}; this club keeps {club.currency}, so the order could not be placed.</Notice>}
      {short && <Notice tone="warn" testId="context-short">The club could not pay for this today: it costs more than its free cash.</Notice>}
    </div>
  );
}

/** a − b for two-place decimal strings, exactly (BigInt on the digits). */
function subtractDecimal(a: string, b: string): string {
  const cents = (x: string) => BigInt(x.replace(".", ""));
  const diff = cents(a) - cents(b);
  const negative = diff < 0n;
  const digits = (negative ? -diff : diff).toString().padStart(3, "0");
  return `${negative ? "-" : ""}${digits.slice(0, -2)}.${digits.slice(-2)}`;
}

/** Sign of a − b for two-place decimal strings. */
function compareDecimal(a: string, b: string): number {
  const diff = BigInt(a.replace(".", "")) - BigInt(b.replace(".", ""));
  return diff > 0n ? 1 : diff < 0n ? -1 : 0;
}
