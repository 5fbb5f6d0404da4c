/** Proposals of a club room: live vote bars (weight and count), vote buttons, countdowns, and
 * the form that opens a new proposal. */
import { useEffect, useState } from "preact/hooks";
import { ApiError } from "../api.ts";
import { bpsPercent, microUnits, money, multiplyDecimal, parseAmountInput } from "../money.ts";
import type { ClubRoom } from "../room.ts";
import { api } from "../session.ts";
import { useStore } from "../store.ts";
import type { Club, Proposal, ProposalComment, Tally } from "../types.ts";
import { Badge, Button, Countdown, Empty, ErrorNote, Field, Notice, Panel, label, useAction, useLoad, when } from "../ui.tsx";
import { rulesBody } from "../rules.ts";

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
            {proposal.kind === "rules" && proposal.rules && (
              <strong class="proposal-trade" data-testid={`proposal-rules-${proposal.id}`}>Change the rules: {rulesInWords(proposal.rules, currency)} · </strong>
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
      {proposal.kind === "rules" && proposal.status === "approved" && <p class="muted small" data-testid={`rules-applied-${proposal.id}`}>The club's rules are changed.</p>}
      <ErrorNote error={vote.error ?? manage.error} testId={`proposal-error-${proposal.id}`} />
      {proposal.status !== "cancelled" && <Discussion proposal={proposal} room={room} nameOf={nameOf} />}
    </article>
  );
}

/** The longest comment the server takes (app/proposals/schemas.py COMMENT_MAX_CHARS). */
const COMMENT_MAX = 2000;

/** A proposal's own discussion: opened on demand, then live (and caught up after a reconnect)
 * through the room's `proposal:comment` events. */
function Discussion({ proposal, room, nameOf }: { proposal: Proposal; room: ClubRoom; nameOf: (id: string) => string }) {
  const [open, setOpenState] = useState(room.openThreads.has(proposal.id));
  const setOpen = (value: boolean) => {
    if (value) room.openThreads.add(proposal.id);
    else room.openThreads.delete(proposal.id);
    setOpenState(value);
  };
  const [text, setText] = useState("");
  const view = useStore(room.view);
  const thread: ProposalComment[] = view.comments[proposal.id] ?? [];
  const load = useAction(async () => room.loadComments(proposal.id));
  useEffect(() => {
    if (open) void load.run();
  }, [open]);
  const send = useAction(async () => {
    const body = text.trim();
    if (!body) return;
    await room.comment(proposal.id, body);
    setText("");
  });
  const left = COMMENT_MAX - text.length;
  if (!open) {
    return (
      <div class="discussion">
        <Button kind="ghost" class="btn-small" testId={`discuss-${proposal.id}`} onClick={() => setOpen(true)}>
          Discussion{thread.length > 0 ? ` (${thread.length})` : ""}
        </Button>
      </div>
    );
  }
  return (
    <section class="discussion open" data-testid={`discussion-${proposal.id}`} aria-label="Discussion">
      <h4 class="subhead">Discussion</h4>
      {thread.length === 0 && !load.busy && <p class="muted small" data-testid={`discussion-empty-${proposal.id}`}>No comments yet. Ask a question or say why you vote as you do.</p>}
      <ul class="comments" data-testid={`comments-${proposal.id}`}>
        {thread.map((c) => (
          <li key={c.id} data-testid={`comment-${c.id}`} data-seq={c.seq}>
            <strong>{nameOf(c.author_id)}</strong> <span class="muted small">{when(c.created_at)}</span>
            <p class="comment-body">{c.body}</p>
          </li>
        ))}
      </ul>
      <form class="form comment-form" onSubmit={(e) => { e.preventDefault(); void send.run(); }}>
        <textarea
          data-testid={`comment-input-${proposal.id}`} rows={2} maxLength={COMMENT_MAX} value={text} aria-label="Your comment"
          placeholder="Your comment" onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)}
        />
        <div class="form-actions">
          <span class={`muted small ${left < 100 ? "warn" : ""}`} data-testid={`comment-left-${proposal.id}`}>{left} characters left</span>
          <Button type="submit" class="btn-small" busy={send.busy} disabled={!text.trim()} testId={`comment-send-${proposal.id}`}>Comment</Button>
        </div>
      </form>
      <ErrorNote error={send.error ?? load.error} testId={`discussion-error-${proposal.id}`} />
    </section>
  );
}

const RULE_NAMES: Record<string, string> = {
  voting_mode: "voting", approval_threshold_bps: "passes at", quorum_bps: "quorum", tie_rule: "a tie is",
  hide_running_results: "running results", withdrawal_fee_bps: "withdrawal fee", rules_changed_by: "rules changed by",
  dues_amount: "monthly dues", dues_day: "dues day", dues_grace_days: "grace days", dues_late_fee: "late fee",
};

/** A rules change for people: "passes at 50% · quorum none". */
export function rulesInWords(rules: Record<string, string | number | boolean | null>, currency = "INR"): string {
  return Object.entries(rules).map(([name, value]) => {
    let shown: string;
    if (value === null) shown = "none";
    else if (name.endsWith("_bps") && typeof value === "number") shown = bpsPercent(value);
    else if ((name === "dues_amount" || name === "dues_late_fee") && typeof value === "string") shown = money(value, currency);
    else if (name === "voting_mode") shown = value === "weighted" ? "by units held" : "one member, one vote";
    else if (name === "tie_rule") shown = value === "approve" ? "approved" : "rejected";
    else if (name === "rules_changed_by") shown = value === "vote" ? "members' vote" : "owners";
    else if (typeof value === "boolean") shown = value ? "hidden until the close" : "shown";
    else shown = String(value);
    return `${RULE_NAMES[name] ?? name} ${shown}`;
  }).join(" · ");
}

const DURATIONS: [string, number][] = [["5 minutes", 5], ["1 hour", 60], ["1 day", 1440], ["3 days", 4320], ["1 week", 10080]];
// A proposal may ask for more agreement than the club's rule (never less), e.g. to sell everything.
const STRICTER = [6667, 7500, 9000, 10_000];

function NewProposal({ club, room, onDone }: { club: Club; room: ClubRoom; onDone: () => void }) {
  const [form, setForm] = useState({
    kind: "investment", title: "", description: "", side: "buy", symbol: "", by: "quantity", quantity: "", amount: "", minutes: "1440", threshold: "",
    rThreshold: String(club.approval_threshold_bps / 100), rQuorum: club.quorum_bps === null ? "" : String(club.quorum_bps / 100),
    rVoting: club.voting_mode as string, rTie: club.tie_rule, rBy: club.rules_changed_by ?? "owners", rDues: club.dues_amount ?? "0.00",
    rFee: String(club.withdrawal_fee_bps / 100), rDuesDay: String(club.dues_day ?? 1), rGrace: String(club.dues_grace_days ?? 5), rLateFee: club.dues_late_fee ?? "0.00",
  });
  // A refusal answered the form as it was: changing the form clears it (never a stale
  // "We do not know the symbol …" beside a corrected symbol).
  const set = (key: keyof typeof form) => (e: Event) => {
    setForm({ ...form, [key]: (e.currentTarget as HTMLInputElement).value });
    create.setError(null);
  };
  const create = useAction(async () => {
    const investment = form.kind === "investment";
    const body: Record<string, unknown> = {
      kind: form.kind, title: form.title, description: form.description,
      deadline: new Date(Date.now() + Number(form.minutes) * 60_000).toISOString(),
    };
    if (form.threshold) body.threshold_bps = Number(form.threshold);
    if (form.kind === "rules") body.rules = rulesChanged(club, form);
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
            {club.rules_changed_by === "vote" && <option value="rules">Change the club's rules</option>}
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
          <Field label="Symbol" testId="proposal-symbol" required placeholder={club.currency === "INR" ? "INFY" : "AAPL"} value={form.symbol} onInput={set("symbol")} />
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
      {form.kind === "rules" && (
        <div class="form-row" data-testid="proposal-rules">
          <Field label="Passes at (% yes)" testId="proposal-rules-threshold" inputMode="decimal" value={form.rThreshold} onInput={set("rThreshold")} />
          <Field label="Quorum (% of the club, empty: none)" testId="proposal-rules-quorum" inputMode="decimal" value={form.rQuorum} onInput={set("rQuorum")} />
          <label class="field"><span class="field-label">Voting</span>
            <select data-testid="proposal-rules-voting" value={form.rVoting} onChange={set("rVoting")}><option value="simple">One member, one vote</option><option value="weighted">By units held</option></select>
          </label>
          <label class="field"><span class="field-label">A tie is</span>
            <select data-testid="proposal-rules-tie" value={form.rTie} onChange={set("rTie")}><option value="reject">Rejected</option><option value="approve">Approved</option></select>
          </label>
          <Field label="Withdrawal fee (%)" testId="proposal-rules-fee" inputMode="decimal" value={form.rFee} onInput={set("rFee")} />
          <Field label={`Monthly dues (${club.currency}, 0: none)`} testId="proposal-rules-dues" inputMode="decimal" value={form.rDues} onInput={set("rDues")} />
          <Field label="Due on day (1–28)" testId="proposal-rules-dues-day" type="number" min="1" max="28" value={form.rDuesDay} onInput={set("rDuesDay")} />
          <Field label="Grace days" testId="proposal-rules-dues-grace" type="number" min="0" max="28" value={form.rGrace} onInput={set("rGrace")} />
          <Field label={`Late fee (${club.currency})`} testId="proposal-rules-dues-late-fee" inputMode="decimal" value={form.rLateFee} onInput={set("rLateFee")} />
          <label class="field"><span class="field-label">Rules changed by</span>
            <select data-testid="proposal-rules-by" value={form.rBy} onChange={set("rBy")}><option value="vote">The members' vote</option><option value="owners">The owners</option></select>
          </label>
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

/** The ECB rate answer of GET /api/v1/fx/rate: `rate` units of `quote` per one `base`. */
type FxRate = { base: string; quote: string; rate: string; rate_date: string; broker_fx_margin_bps: number };

/** What a proposed trade means now: the price, the estimated cost, the club's free cash (cash
 * less money not yet turned into units and payouts owed), and a warning when it could not pay.
 * A stock quoted in another currency than the club keeps shows the ECB rate of the quote's
 * trading day (the rate the order's hold converts at, app/orders/service.py), the estimated cost
 * in the club's currency (converted once, half-even) and the broker FX margin its hold adds
 * (rounded up); an amount shows the shares it buys (floor(amount ÷ (price × rate))). */
function TradeContext({ club, symbol, side, quantity, amount }: { club: Club; symbol: string; side: string; quantity: number | null; amount: string | null }) {
  const quote = useLoad(() => api<{ price: string; currency: string; trade_date: string }>("GET", `/api/v1/market/quotes/${encodeURIComponent(symbol)}`).catch(() => null), [symbol]);
  const books = useLoad(() => api<{ cash: string; liabilities: string }>("GET", `/api/v1/clubs/${club.id}/portfolio`).catch(() => null), [club.id]);
  const q = quote.data;
  const foreignCurrency = q && q.currency !== club.currency ? q.currency : null;
  const fx = useLoad(
    () => (foreignCurrency && q
      ? api<FxRate>("GET", `/api/v1/fx/rate?base=${foreignCurrency}&quote=${club.currency}&on=${q.trade_date}`)
      : Promise.resolve(null)),
    [foreignCurrency, q?.trade_date, club.currency],
  );
  if (quote.loading) return null;
  if (!q) return <p class="muted small" data-testid="proposal-context">No price for {symbol} yet.</p>;
  const free = books.data ? subtractDecimal(books.data.cash, books.data.liabilities) : null;
  const doing = side === "buy" ? "cost" : "proceeds";
  if (!foreignCurrency) {
    const cost = quantity && quantity > 0 ? multiplyDecimal(q.price, quantity) : amount;
    const short = side === "buy" && cost !== null && free !== null && compareDecimal(cost, free) > 0;
    return (
      <div class="proposal-context small" data-testid="proposal-context">
        <span>Price now <strong data-testid="context-price">{money(q.price, q.currency)}</strong> ({q.trade_date})</span>
        {cost !== null && <span> · estimated {doing} <strong data-testid="context-cost">{money(cost, club.currency)}</strong> before fees</span>}
        {free !== null && <span> · free cash <strong data-testid="context-free-cash">{money(free, club.currency)}</strong></span>}
        {short && <Notice tone="warn" testId="context-short">The club could not pay for this today: it costs more than its free cash.</Notice>}
      </div>
    );
  }
  const rate = fx.data;
  // Shares: typed, or what the amount (in the club's currency) buys at this price and rate.
  const shares = quantity && quantity > 0 ? quantity : amount && rate ? sharesFor(amount, q.price, rate.rate) : null;
  const foreignCost = shares && shares > 0 ? multiplyDecimal(q.price, shares) : null;
  const cost = foreignCost && rate ? convertDecimal(foreignCost, rate.rate) : null;
  const margin = cost && rate && side === "buy" ? marginOf(cost, rate.broker_fx_margin_bps) : null;
  const hold = cost && margin ? addDecimal(cost, margin) : null;
  const short = hold !== null && free !== null && compareDecimal(hold, free) > 0;
  return (
    <div class="proposal-context small" data-testid="proposal-context">
      <span>Price now <strong data-testid="context-price">{money(q.price, q.currency)}</strong> ({q.trade_date})</span>
      {rate && <span data-testid="context-rate"> · ECB rate <strong>{rate.rate}</strong> {club.currency} per {q.currency} ({rate.rate_date})</span>}
      {free !== null && <span> · free cash <strong data-testid="context-free-cash">{money(free, club.currency)}</strong></span>}
      {fx.error ? <p class="muted small" data-testid="context-no-rate">{symbol} is quoted in {q.currency}, and the ECB publishes no {q.currency} rate in {club.currency} for {q.trade_date}: the club cannot price it in {club.currency}.</p> : null}
      {rate && amount && shares === 0 && <p class="muted small" data-testid="context-shares">{money(amount, club.currency)} does not buy one share at this price.</p>}
      {rate && shares !== null && shares > 0 && foreignCost && cost && (
        <p class="fx-estimate" data-testid="context-estimate">
          {quantity ? "" : <span data-testid="context-shares">{money(amount, club.currency)} buys {shares} {shares === 1 ? "share" : "shares"} at this price. </span>}
          Estimated {doing} <strong data-testid="context-cost-foreign">{money(foreignCost, q.currency)}</strong> = <strong data-testid="context-cost">{money(cost, club.currency)}</strong> before fees
          {margin && hold && <span data-testid="context-margin">; the order's hold adds the broker's FX margin of {bpsPercent(rate.broker_fx_margin_bps)} ({money(margin, club.currency)}) for rate moves: <strong data-testid="context-hold">{money(hold, club.currency)}</strong> set aside</span>}.
        </p>
      )}
      <p class="muted small" data-testid="context-currency">{symbol} is quoted in {q.currency}; the club pays in {club.currency} at the ECB reference rate of the day it trades, so the final {doing} may differ.</p>
      {short && <Notice tone="warn" testId="context-short">The club could not pay for this today: with the FX margin it needs more than its free cash.</Notice>}
    </div>
  );
}

/** Two-place decimal string → minor units (BigInt). */
function minorOf(decimal: string): bigint {
  const negative = decimal.startsWith("-");
  const [whole = "0", fraction = ""] = decimal.replace(/^[-+]/, "").split(".");
  const value = BigInt(whole + fraction.padEnd(2, "0").slice(0, 2));
  return negative ? -value : value;
}

/** Minor units (BigInt) → two-place decimal string. */
function decimalOf(minor: bigint): string {
  const negative = minor < 0n;
  const digits = (negative ? -minor : minor).toString().padStart(3, "0");
  return `${negative ? "-" : ""}${digits.slice(0, -2)}.${digits.slice(-2)}`;
}

/** An eight-place rate string ("83.12345678") → the integer rate × 10^8 (app/fx.py). */
function rateE8(rate: string): bigint {
  const [whole = "0", fraction = ""] = rate.split(".");
  return BigInt(whole + fraction.padEnd(8, "0").slice(0, 8));
}

/** `amount` (two places, the instrument's currency) × `rate`, rounded half-even once to the
 * club's minor unit — the server's FxRate.convert. */
function convertDecimal(amount: string, rate: string): string {
  const product = minorOf(amount) * rateE8(rate);
  const scale = 100_000_000n;
  let quotient = product / scale;
  const twice = 2n * (product % scale);
  if (twice > scale || (twice === scale && quotient % 2n !== 0n)) quotient += 1n;
  return decimalOf(quotient);
}

/** The FX margin a buy's hold adds on `cost` (club currency): cost × bps ÷ 10,000, rounded up
 * (the server raises the converted reserve by the margin and rounds up). */
function marginOf(cost: string, bps: number): string {
  const scaled = minorOf(cost) * BigInt(bps);
  return decimalOf((scaled + 9_999n) / 10_000n);
}

/** Whole shares an `amount` in the club's currency buys at `price` (instrument currency) and
 * `rate`: floor(amount × 10^8 ÷ (price × rate × 10^8)), as the order service computes it. */
function sharesFor(amount: string, price: string, rate: string): number {
  const divisor = minorOf(price) * rateE8(rate);
  return divisor > 0n ? Number((minorOf(amount) * 100_000_000n) / divisor) : 0;
}

/** a + b for two-place decimal strings, exactly. */
function addDecimal(a: string, b: string): string {
  return decimalOf(minorOf(a) + minorOf(b));
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

/** The rules a rules proposal changes: only those that differ from the club's now (percent
 * typed by people → basis points). Throws an ApiError-like sentence for a bad percentage. */
function rulesChanged(club: Club, form: { rThreshold: string; rQuorum: string; rVoting: string; rTie: string; rBy: string; rDues: string; rFee: string; rDuesDay: string; rGrace: string; rLateFee: string }): Record<string, unknown> {
  // The same checks and sentences as the owners' Rules tab; only what differs is proposed.
  const wanted = rulesBody({
    voting_mode: form.rVoting, threshold: form.rThreshold, quorum: form.rQuorum, tie_rule: form.rTie, fee: form.rFee, by: form.rBy,
    dues: form.rDues, duesDay: form.rDuesDay, grace: form.rGrace, lateFee: form.rLateFee,
  });
  const now: Record<string, unknown> = {
    approval_threshold_bps: club.approval_threshold_bps, quorum_bps: club.quorum_bps, voting_mode: club.voting_mode, tie_rule: club.tie_rule,
    rules_changed_by: club.rules_changed_by ?? "owners", dues_amount: club.dues_amount ?? "0.00", withdrawal_fee_bps: club.withdrawal_fee_bps,
    dues_day: club.dues_day ?? 1, dues_grace_days: club.dues_grace_days ?? 5, dues_late_fee: club.dues_late_fee ?? "0.00",
  };
  const changed = Object.fromEntries(Object.entries(wanted).filter(([k, v]) => now[k] !== v));
  if (Object.keys(changed).length === 0) throw new ApiError("Change at least one rule: these are the club's rules already.", 422, "no_rules_change");
  return changed;
}
