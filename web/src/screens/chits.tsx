/** Chit funds: my schemes with passbook and chit score, the foreman's console (schemes,
 * subscribers, collections this month, defaulters, auction control, commission earned), the live
 * auction room (countdown, bids as they come, my eligibility, my bid, the result with its
 * arithmetic) and admin approval of schemes. Money is shown exactly as the API sends it. */
import { useEffect, useRef, useState } from "preact/hooks";
import "./chits.css";
import { ApiError } from "../api.ts";
import { live } from "../live.ts";
import { type CatchUp, type LogEvent, RoomLog } from "../roomlog.ts";
import { money, parseAmountInput } from "../money.ts";
import { navigate } from "../router.ts";
import { api, newKey, session } from "../session.ts";
import { useStore } from "../store.ts";
import { Badge, Button, Countdown, Empty, ErrorNote, Field, Notice, Panel, clock, label, useAction, useLoad, when } from "../ui.tsx";

interface Scheme {
  id: string;
  name: string;
  foreman_id: string;
  chit_amount: string;
  subscribers: number;
  instalment: string;
  commission_bps: number;
  commission: string;
  min_bid: string;
  bid_step: string;
  max_discount: string;
  commission_source: "discount" | "prize";
  auction_day: number;
  auction_time: string;
  start_date: string;
  status: string;
  filled: number;
  current_month: number;
}

interface Subscription {
  id: string;
  scheme_id: string;
  user_id: string;
  name: string | null;
  member_id: string | null;
  ticket: number;
  status: string;
  holds_ticket: boolean;
  prized_month: number | null;
  surety: { kind: string; details: string; recorded_at: string } | null;
  balance: string;
  due_now: string;
  upcoming: string;
  next_due_date: string | null;
  catch_up: string;
}

interface Bid {
  id?: string | null;
  seq: number;
  ticket: number;
  discount: string;
}

interface Auction {
  id: string;
  month: number;
  status: string;
  opens_at: string;
  ends_at: string;
  foreman_month: boolean;
  best_discount: string | null;
  bid_count: number;
  method: string | null;
  winner_ticket: number | null;
  discount: string | null;
  prize: string | null;
  commission: string | null;
  shares: string[];
  net_instalments: string[];
  draw: { reason: string; seed: string; method: string; candidates: number[]; chosen: number } | null;
  prize_paid_at: string | null;
  prize_payment_id: string | null;
  bids: Bid[];
}

interface Payment {
  id: string;
  kind: string;
  status: string;
  amount: string;
  month: number;
  checkout_url: string | null;
  late: boolean;
  reference: string | null;
  attempts: number;
  last_error: string | null;
  withheld: string | null;
}

interface PassbookRow {
  month: number;
  due_date: string | null;
  due: string;
  paid: string;
  dividend: string;
  penalty: string;
  prize: string;
  balance: string;
}

interface Score {
  score: number;
  has_history: boolean;
  max_score: number;
  factors: { name: string; weight_percent: number; value: string; points: number; explanation: string }[];
  nightly_score: number | null;
  nightly_day: string | null;
}

/** Sentences for the codes a person can cause here (the server's message otherwise). */
const SENTENCES: Record<string, (d: Record<string, unknown>) => string> = {
  bid_below_minimum: (d) => `Your bid is below the minimum bid of ${money(String(d.min_bid ?? ""))}.`,
  bid_above_maximum: (d) => `Your bid is above the maximum discount of ${money(String(d.max_discount ?? ""))}.`,
  bid_off_step: (d) => `Bids move in steps of ${money(String(d.bid_step ?? ""))} from the minimum bid.`,
  bid_not_above_best: (d) =>
    d.best
      ? `The best bid is ${money(String(d.best))} and bids move in steps of ${money(String(d.bid_step ?? ""))}${d.next_bid ? `: bid at least ${money(String(d.next_bid))}` : ""}.`
      : "Another bid came first: look at the best bid and bid again.",
  not_eligible: (d) =>
    ({
      already_prized: "You have already taken a chit in this scheme, so you cannot bid again.",
      not_paid_up: "Pay this month's instalment first: only paid-up subscribers may bid.",
      defaulted: "Your subscription is in default, so you cannot bid.",
      not_subscriber: "Only the scheme's subscribers can bid.",
    })[String(d.reason)] ?? "You cannot bid in this auction.",
  auction_closed: () => "The auction has closed.",
  auction_not_open: () => "The auction is not open for bids right now.",
  kyc_required: () => "Complete your KYC before joining a chit scheme.",
  scheme_full: () => "Every ticket of this scheme is taken.",
  nothing_due: () => "Nothing is due on your ticket right now.",
  insufficient_collections: () => "The collections do not cover the prize yet.",
  prize_already_paid: () => "This month's prize has been paid already.",
  prize_payout_in_progress: () => "This month's prize is being paid through the payout provider.",
  prize_payout_state: () => "Only a refused payout can be tried again.",
  subscription_state: (d) =>
    d.reason === "settlement_changed"
      ? `The settlement changed to ${money(String(d.settlement ?? ""))} since it was shown; look at it again.`
      : d.reason === "prized"
        ? "You have taken the chit, so only a substitute can take over your ticket."
        : "This ticket cannot do that now.",
  payment_provider_unavailable: () => "The payout provider did not answer; try again in a minute.",
  invalid_scheme: (d) => `${FIELD_NAMES[String(d.field)] ?? "A setting"}: ${RULES[String(d.rule)] ?? "breaks a rule of the scheme"}. Check the highlighted value.`,
  nothing_overdue: (d) => `Nothing is overdue on this ticket: a subscriber defaults only with an instalment unpaid past its due date and ${String(d.grace_days ?? "")} days' grace${d.next_deadline ? ` (the oldest unpaid month's grace ends on ${String(d.next_deadline)})` : ""}.`,
  user_not_found: () => "There is no account with that e-mail address or member ID. Check it with the person, who must have signed up first.",
  invalid_phone: () => "Enter an Indian mobile number, like 98765 43210.",
  phone_code_invalid: (d) => `That code is wrong or has expired${typeof d.attempts_left === "number" ? ` (${d.attempts_left} tries left)` : ""}.`,
  sms_unavailable: () => "Text messages cannot be sent right now; try again in a minute.",
  rate_limited: () => "Too many codes asked for; wait a minute.",
};

/** Names of the new-scheme fields a refusal can point at, and the rules it can name. */
const FIELD_NAMES: Record<string, string> = {
  subscribers: "Subscribers", instalment: "Monthly instalment", chit_amount: "Chit amount", commission_bps: "Commission",
  min_bid: "Minimum bid", bid_step: "Bid step", max_discount: "Maximum discount", start_date: "Start date",
  auction_day: "Auction day", auction_time: "Auction time", name: "Name",
};
const RULES: Record<string, string> = {
  range: "a scheme has 2 to 120 subscribers", positive: "must be more than zero", max_7_percent: "at most 700 basis points (7 %)",
  at_least_commission: "must be at least the foreman's commission", at_least_min_bid: "must be at least the minimum bid",
  at_most_half: "at most half the chit amount", on_step: "must be the minimum bid plus whole bid steps",
  not_in_past: "must be today or later", instalment_times_subscribers: "must be the instalment times the subscribers",
};

function sentence(error: unknown): unknown {
  if (error instanceof ApiError && error.code && SENTENCES[error.code]) {
    return new ApiError(SENTENCES[error.code]!(error.details), error.status, error.code, error.details);
  }
  return error;
}

const METHOD: Record<string, string> = {
  foreman: "The foreman's month, without discount",
  highest_bid: "Highest discount wins",
  tie_lot: "A tie at the top, drawn by lot",
  no_bid_lot: "No bid: drawn by lot at the minimum bid",
};

/** `/chits`: my schemes, my chit score, open schemes, the foreman's and admin's lists. */
export function ChitsHome() {
  const me = useStore(session.me);
  const isForeman = me?.roles.includes("foreman") ?? false;
  const isAdmin = me?.roles.includes("admin") ?? false;
  const mine = useLoad(() => api<{ schemes: Scheme[] }>("GET", "/api/v1/schemes?mine=true"), []);
  const open = useLoad(() => api<{ schemes: Scheme[] }>("GET", "/api/v1/schemes?status=APPROVED"), []);
  const pending = useLoad(
    () => (isAdmin ? api<{ schemes: Scheme[] }>("GET", "/api/v1/schemes?status=PENDING_APPROVAL") : Promise.resolve({ schemes: [] })),
    [isAdmin],
  );
  const score = useLoad(() => (me ? api<Score>("GET", `/api/v1/users/${me.id}/chit-score`) : new Promise<Score>(() => undefined)), [me?.id]);
  const decide = useAction(async (id: string, approve: boolean) => {
    await api("POST", `/api/v1/schemes/${id}/approve`, { body: { approve, reason: approve ? "" : "Please revise" } });
    pending.reload();
    open.reload();
  });
  const join = useAction(async (id: string) => {
    await api("POST", "/api/v1/subscriptions", { body: { scheme_id: id } });
    navigate(`/chits/${id}`);
  });
  const mineIds = new Set((mine.data?.schemes ?? []).map((s) => s.id));
  return (
    <main class="page" data-testid="chits-home">
      <div class="page-head">
        <div>
          <h1>Chit funds</h1>
          <p class="muted">Save monthly with your group; each month one subscriber takes the chit in a live auction.</p>
        </div>
        {isForeman && <a class="btn btn-primary" href="/chits/new" data-testid="new-scheme-link">Start a scheme</a>}
      </div>
      <Panel title="My chit score" testId="chit-score">
        {score.data ? (
          <div>
            {score.data.has_history ? (
              <p class="big-number" data-testid="chit-score-value">{score.data.score} <span class="muted">/ {score.data.max_score}</span></p>
            ) : (
              <p data-testid="chit-score-value" data-history="none"><strong>No chit history yet.</strong> <span class="muted">Your score starts with your first ticket and instalment; today it would rest on KYC and profile alone.</span></p>
            )}
            {score.data.nightly_score !== null && score.data.nightly_day && (
              <p class="small muted" data-testid="chit-score-nightly">Nightly score on {score.data.nightly_day}: {score.data.nightly_score}</p>
            )}
            <ul class="plain-list">
              {score.data.factors.map((f) => (
                <li key={f.name}>{label(f.name)} ({f.weight_percent}%): {f.points} points — {f.explanation}</li>
              ))}
            </ul>
          </div>
        ) : (
          <ErrorNote error={score.error} />
        )}
      </Panel>
      <PhonePanel />
      <Panel title="My schemes" testId="my-schemes">
        <ErrorNote error={mine.error} />
        {mine.data?.schemes.length === 0 && <Empty>You are not in a chit scheme yet.</Empty>}
        <ul class="club-grid">
          {(mine.data?.schemes ?? []).map((s) => (
            <li key={s.id}>
              <a class="club-card panel" href={`/chits/${s.id}`} data-testid={`scheme-${s.id}`}>
                <span class="club-card-name">{s.name}</span>
                <span class="muted">{money(s.chit_amount)} · {s.subscribers} months · {money(s.instalment)} a month</span>
                <span class="club-card-meta">
                  <Badge tone={s.status === "ACTIVE" ? "ok" : "brand"}>{label(s.status)}</Badge>
                  {s.foreman_id === me?.id && <Badge>Foreman</Badge>}
                </span>
              </a>
            </li>
          ))}
        </ul>
      </Panel>
      {isAdmin && (
        <Panel title="Schemes waiting for approval" testId="pending-schemes">
          <ErrorNote error={sentence(decide.error)} />
          {pending.data?.schemes.length === 0 && <Empty>Nothing waits for approval.</Empty>}
          <ul class="plain-list">
            {(pending.data?.schemes ?? []).map((s) => (
              <li key={s.id} class="row-between" data-testid={`pending-${s.id}`}>
                <span data-testid={`pending-terms-${s.id}`}>
                  <strong>{s.name}</strong> — {money(s.chit_amount)}, {s.subscribers} × {money(s.instalment)}; commission {money(s.commission)} ({(s.commission_bps / 100).toFixed(2)} %) out of the {s.commission_source};
                  {" "}bids {money(s.min_bid)} to {money(s.max_discount)} in steps of {money(s.bid_step)}; auctions on day {s.auction_day} at {s.auction_time} UTC; starts {s.start_date}
                </span>
                <span>
                  <Button kind="primary" testId={`approve-${s.id}`} busy={decide.busy} onClick={() => void decide.run(s.id, true)}>Approve</Button>{" "}
                  <Button kind="secondary" testId={`reject-${s.id}`} busy={decide.busy} onClick={() => void decide.run(s.id, false)}>Send back</Button>
                </span>
              </li>
            ))}
          </ul>
        </Panel>
      )}
      <Panel title="Open for subscribers" testId="open-schemes">
        <ErrorNote error={sentence(join.error)} />
        {open.data?.schemes.filter((s) => !mineIds.has(s.id)).length === 0 && <Empty>No scheme is taking subscribers now.</Empty>}
        <ul class="plain-list">
          {(open.data?.schemes ?? [])
            .filter((s) => !mineIds.has(s.id))
            .map((s) => (
              <li key={s.id} class="row-between" data-testid={`open-${s.id}`}>
                <span>
                  <strong>{s.name}</strong> — {money(s.chit_amount)} over {s.subscribers} months; {s.filled} of {s.subscribers} tickets taken
                </span>
                <Button testId={`join-${s.id}`} busy={join.busy} onClick={() => void join.run(s.id)}>Join</Button>
              </li>
            ))}
        </ul>
      </Panel>
    </main>
  );
}

/** My mobile number for SMS reminders and auction results: a code is sent to it by SMS and
 * entered here (only verified numbers get messages). */
function PhonePanel() {
  const phone = useLoad(() => api<{ phone: string | null; verified: boolean }>("GET", "/api/v1/me/phone"), []);
  const [number, setNumber] = useState("");
  const [code, setCode] = useState("");
  const [sent, setSent] = useState(false);
  const send = useAction(async () => {
    await api("POST", "/api/v1/me/phone", { body: { phone: number } });
    setSent(true);
    phone.reload();
  });
  const confirm = useAction(async () => {
    await api("POST", "/api/v1/me/phone/confirm", { body: { code } });
    setSent(false);
    setCode("");
    phone.reload();
  });
  const p = phone.data;
  return (
    <Panel title="Text message reminders" testId="phone-panel">
      <p data-testid="phone-status" data-verified={p?.verified ? "true" : "false"}>
        {p?.verified ? <>Reminders and auction results go by SMS to <strong>{p.phone}</strong>.</> : p?.phone ? <>Enter the code sent to {p.phone} to get reminders by SMS.</> : <>Add your mobile number to get payment reminders and auction results by SMS.</>}
      </p>
      <form class="inline-form" onSubmit={(e) => { e.preventDefault(); void send.run(); }}>
        <Field label="Mobile number" testId="phone-input" value={number} inputMode="tel" onInput={(e) => setNumber((e.currentTarget as HTMLInputElement).value)} />
        <Button type="submit" kind="secondary" testId="phone-send" busy={send.busy}>Send a code</Button>
      </form>
      <ErrorNote error={sentence(send.error)} testId="phone-error" />
      {(sent || (p?.phone && !p.verified)) && (
        <form class="inline-form" onSubmit={(e) => { e.preventDefault(); void confirm.run(); }}>
          <Field label="Code from the SMS" testId="code-input" value={code} inputMode="numeric" onInput={(e) => setCode((e.currentTarget as HTMLInputElement).value)} />
          <Button type="submit" testId="code-confirm" busy={confirm.busy}>Verify</Button>
        </form>
      )}
      <ErrorNote error={sentence(confirm.error)} testId="code-error" />
    </Panel>
  );
}

/** `/chits/new`: a foreman's new scheme (DRAFT), then submitted for approval. */
export function NewScheme() {
  const [form, setForm] = useState({
    name: "", subscribers: "10", instalment: "10000", commission_bps: "500", min_bid: "5000",
    bid_step: "500", max_discount: "30000", commission_source: "discount", auction_day: "10",
    auction_time: "10:00", start_date: new Date().toISOString().slice(0, 10),
  });
  const set = (key: keyof typeof form) => (e: Event) => setForm({ ...form, [key]: (e.currentTarget as HTMLInputElement).value });
  const create = useAction(async () => {
    const instalment = parseAmountInput(form.instalment);
    const n = Number(form.subscribers);
    if (!instalment || !Number.isInteger(n)) throw new ApiError("Enter the instalment as an amount and the number of subscribers as a whole number.", 422);
    const cents = BigInt(instalment.replace(".", "")) * BigInt(n);
    const chit = `${cents / 100n}.${String(cents % 100n).padStart(2, "0")}`;
    const scheme = await api<Scheme>("POST", "/api/v1/schemes", {
      body: {
        name: form.name, chit_amount: chit, subscribers: n, instalment,
        commission_bps: Number(form.commission_bps), min_bid: parseAmountInput(form.min_bid),
        bid_step: parseAmountInput(form.bid_step), max_discount: parseAmountInput(form.max_discount),
        commission_source: form.commission_source, auction_day: Number(form.auction_day),
        auction_time: form.auction_time, start_date: form.start_date,
      },
    });
    await api("POST", `/api/v1/schemes/${scheme.id}/submit`);
    navigate(`/chits/${scheme.id}`);
  });
  // the field a refusal names (``details.field``) is highlighted; the chit amount is derived
  // from the instalment, so its refusals point there
  const refused = create.error instanceof ApiError && create.error.code === "invalid_scheme" ? String(create.error.details.field ?? "") : "";
  const bad = (...keys: string[]) => (keys.includes(refused) ? "true" : undefined);
  return (
    <main class="page narrow" data-testid="new-scheme">
      <h1>Start a chit scheme</h1>
      <p class="muted">The scheme goes to an admin for approval; you hold ticket 1 and take the first month's chit without discount.</p>
      <ErrorNote error={sentence(create.error)} />
      <form class="stack" onSubmit={(e) => { e.preventDefault(); void create.run(); }}>
        <Field label="Name" testId="scheme-name" value={form.name} aria-invalid={bad("name")} onInput={set("name")} required />
        <Field label="Subscribers (= months)" testId="scheme-subscribers" value={form.subscribers} aria-invalid={bad("subscribers")} onInput={set("subscribers")} inputMode="numeric" />
        <Field label="Monthly instalment (₹)" testId="scheme-instalment" value={form.instalment} aria-invalid={bad("instalment", "chit_amount")} onInput={set("instalment")} inputMode="decimal" />
        <Field label="Commission (basis points, at most 700)" testId="scheme-commission" value={form.commission_bps} aria-invalid={bad("commission_bps")} onInput={set("commission_bps")} inputMode="numeric" />
        <Field label="Minimum bid (₹, at least the commission)" testId="scheme-min-bid" value={form.min_bid} aria-invalid={bad("min_bid")} onInput={set("min_bid")} inputMode="decimal" />
        <Field label="Bid step (₹)" testId="scheme-step" value={form.bid_step} aria-invalid={bad("bid_step")} onInput={set("bid_step")} inputMode="decimal" />
        <Field label="Maximum discount (₹)" testId="scheme-max" value={form.max_discount} aria-invalid={bad("max_discount")} onInput={set("max_discount")} inputMode="decimal" />
        <label class="field">
          <span class="field-label">Commission comes out of</span>
          <select value={form.commission_source} onChange={set("commission_source")} data-testid="scheme-source" aria-invalid={bad("commission_source")}>
            <option value="discount">the discount</option>
            <option value="prize">the prize</option>
          </select>
        </label>
        <Field label="Auction day of the month" testId="scheme-day" value={form.auction_day} aria-invalid={bad("auction_day")} onInput={set("auction_day")} inputMode="numeric" />
        <Field label="Auction time (UTC)" testId="scheme-time" value={form.auction_time} aria-invalid={bad("auction_time")} onInput={set("auction_time")} />
        <Field label="Start date" testId="scheme-start" type="date" value={form.start_date} aria-invalid={bad("start_date")} onInput={set("start_date")} />
        <Button type="submit" testId="scheme-create" busy={create.busy}>Create and send for approval</Button>
      </form>
    </main>
  );
}

/** Re-check a draw by lot in the browser: the seed is SHA-256 of the auction id and every bid
 * (id:ticket:discount in paise) in bid order, joined by "|"; the ticket drawn is the seed as a
 * number modulo the candidates, sorted by ticket (app/chits/rules.py DRAW_METHOD). */
async function recheckDraw(shown: Auction): Promise<{ seed: string; chosen: number; ok: boolean }> {
  // the recorded bids with their ids, as the minutes hold them
  const auction = await api<Auction>("GET", `/api/v1/auctions/${shown.id}`);
  const draw = auction.draw!;
  const parts = [auction.id, ...(draw.reason === "tie" ? auction.bids.map((b) => `${b.id}:${b.ticket}:${BigInt(b.discount.replace(".", ""))}`) : [])];
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(parts.join("|")));
  const seed = Array.from(new Uint8Array(digest), (x) => x.toString(16).padStart(2, "0")).join("");
  const sorted = [...draw.candidates].sort((a, b) => a - b);
  const chosen = sorted[Number(BigInt(`0x${seed}`) % BigInt(sorted.length))]!;
  return { seed, chosen, ok: seed === draw.seed && chosen === draw.chosen };
}

function DrawCheck({ auction }: { auction: Auction }) {
  const [outcome, setOutcome] = useState<{ seed: string; chosen: number; ok: boolean } | null>(null);
  const check = useAction(async () => setOutcome(await recheckDraw(auction)));
  if (!auction.draw) return null;
  return (
    <div class="small" data-testid={`draw-${auction.month}`}>
      <p class="muted" data-testid="result-draw">
        Drawn by lot among tickets {auction.draw.candidates.join(", ")}: seed {auction.draw.seed.slice(0, 16)}… ({auction.draw.method}).
      </p>
      <Button kind="secondary" testId={`draw-check-${auction.month}`} busy={check.busy} onClick={() => void check.run()}>Re-check the draw</Button>
      {outcome && (
        <p data-testid={`draw-check-result-${auction.month}`} data-ok={outcome.ok ? "true" : "false"}>
          {outcome.ok
            ? `Checked in your browser: the seed matches and ticket ${outcome.chosen} is drawn, as recorded.`
            : `The re-check disagrees: seed ${outcome.seed.slice(0, 16)}… draws ticket ${outcome.chosen}.`}
        </p>
      )}
      <ErrorNote error={check.error} />
    </div>
  );
}

/** The result of a month with its arithmetic: chit amount = prize + commission + shares, and
 * every ticket's share of discount and next month's net instalment (yours highlighted). */
function Result({ auction, scheme, ticket }: { auction: Auction; scheme: Scheme; ticket: number | null }) {
  // Shares split by largest remainder may differ by a paisa: show the viewer's own ticket.
  const index = (ticket ?? 1) - 1;
  const share = auction.shares[index] ?? "0.00";
  const last = auction.month >= scheme.subscribers;
  return (
    <div class="stack" data-testid="auction-result" data-winner={auction.winner_ticket ?? ""} data-month={auction.month}>
      <p>
        <strong>Month {auction.month}: ticket {auction.winner_ticket} takes the chit.</strong> {METHOD[auction.method ?? ""] ?? ""}
      </p>
      <table class="table">
        <tbody>
          <tr><th>Chit amount</th><td class="num">{money(scheme.chit_amount)}</td></tr>
          <tr><th>Discount</th><td class="num" data-testid="result-discount">{money(auction.discount)}</td></tr>
          <tr><th>Foreman's commission</th><td class="num" data-testid="result-commission">{money(auction.commission)}</td></tr>
          <tr><th>Prize</th><td class="num" data-testid="result-prize">{money(auction.prize)}</td></tr>
          <tr><th>Share of discount{ticket ? ", your ticket" : ", ticket 1"}</th><td class="num" data-testid="result-share">{money(share)}</td></tr>
          {!last && <tr><th>Next month's net instalment{ticket ? ", yours" : ""}</th><td class="num" data-testid="result-net">{money(auction.net_instalments[index] ?? scheme.instalment)}</td></tr>}
        </tbody>
      </table>
      {auction.shares.length > 0 && (
        <details data-testid="result-all-shares" open={auction.shares.length <= 12}>
          <summary>Every ticket's share{last ? "" : " and next net instalment"}</summary>
          <div class="table-wrap">
          <table class="table result-shares">
            <thead><tr><th>Ticket</th><th class="num">Share</th>{!last && <th class="num">Next net instalment</th>}</tr></thead>
            <tbody>
              {auction.shares.map((sh, i) => (
                <tr key={i} class={i + 1 === ticket ? "mine-row" : ""} data-testid="result-share-row" data-ticket={i + 1}>
                  <td>{i + 1}{i + 1 === ticket ? " (you)" : ""}</td><td class="num">{money(sh)}</td>{!last && <td class="num">{money(auction.net_instalments[i] ?? scheme.instalment)}</td>}
                </tr>
              ))}
            </tbody>
          </table>
          </div>
        </details>
      )}
      {auction.bids.length > 0 && (
        <p class="small muted" data-testid="result-bids">
          Bids: {auction.bids.map((b) => `#${b.seq} ticket ${b.ticket} ${money(b.discount)}`).join(" · ")}
        </p>
      )}
      <DrawCheck auction={auction} />
    </div>
  );
}

/** The scheme's auctions for everyone in it: past months with their results, the next one
 * scheduled (or open). */
function AuctionList({ scheme, auctions, ticket }: { scheme: Scheme; auctions: Auction[]; ticket: number | null }) {
  const past = auctions.filter((a) => a.status === "CLOSED").reverse();
  // a month's full result is drawn only once opened (the live room shows the latest one)
  const [opened, setOpened] = useState<Record<string, boolean>>({});
  const next = auctions.find((a) => a.status !== "CLOSED");
  return (
    <Panel title="Auctions" testId="auction-list">
      {next ? (
        <p data-testid="next-auction" data-status={next.status}>
          Next: month {next.month}{next.foreman_month ? " (the foreman's month, without bidding)" : ""} — {next.status === "OPEN" ? <strong>open now</strong> : <>opens {when(next.opens_at)}</>}.
        </p>
      ) : (
        <p class="muted">No auction is scheduled.</p>
      )}
      {past.length === 0 ? <Empty>No month has been auctioned yet.</Empty> : (
        <ul class="plain-list" data-testid="past-auctions">
          {past.map((a) => (
            <li key={a.id} data-testid={`past-auction-${a.month}`}>
              <details onToggle={(e) => { const open = (e.currentTarget as HTMLDetailsElement).open; setOpened((prev) => ({ ...prev, [a.id]: open })); }}>
                <summary data-testid={`past-auction-open-${a.month}`}>Month {a.month}: ticket {a.winner_ticket} · discount {money(a.discount)} · prize {money(a.prize)}{a.draw ? " · drawn by lot" : ""}</summary>
                {opened[a.id] && <Result auction={a} scheme={scheme} ticket={ticket} />}
              </details>
            </li>
          ))}
        </ul>
      )}
    </Panel>
  );
}

interface Joined {
  seq: number;
  missed: LogEvent[];
  auction: Auction | null;
  result: Auction | null;
  my_ticket: number | null;
  eligible: boolean;
  eligibility: string;
}

const ELIGIBILITY: Record<string, string> = {
  eligible: "You may bid.",
  not_paid_up: "Pay this month's instalment to bid.",
  already_prized: "You have taken a chit already.",
  defaulted: "Your subscription is in default.",
  not_subscriber: "Only subscribers bid.",
};

/** The lowest bid the server would take now: the minimum bid with no bid yet, else one step
 * above the best (the maximum itself once the best is there: a tie at the maximum is drawn). */
function nextValidBid(scheme: Scheme, best: string | null): string {
  const p = (x: string) => BigInt(x.replace(".", ""));
  const show = (x: bigint) => `${x / 100n}.${String(x % 100n).padStart(2, "0")}`;
  if (!best) return scheme.min_bid;
  const next = p(best) + p(scheme.bid_step);
  return show(next > p(scheme.max_discount) ? p(scheme.max_discount) : next);
}

/** The live auction room of a scheme. */
function AuctionRoom({ scheme, onChange }: { scheme: Scheme; onChange: () => void }) {
  const [state, setState] = useState<Joined | null>(null);
  const [bids, setBids] = useState<Bid[]>([]);
  const logNow = useRef<RoomLog | null>(null);
  const [endsAt, setEndsAt] = useState<string | null>(null);
  const [closed, setClosed] = useState<Auction | null>(null);
  const [result, setResult] = useState<Auction | null>(null);
  const [amount, setAmount] = useState("");
  const [joinError, setJoinError] = useState<unknown>(null);
  const changed = useRef(onChange);
  changed.current = onChange;
  const take = (joined: Joined) => {
    setState(joined);
    const a = joined.auction;
    setResult(joined.result ?? (a && a.status === "CLOSED" ? a : null));
    if (a && a.status === "CLOSED") {
      setClosed(a);
      setBids(a.bids);
    } else {
      setClosed(null);
      setBids(a?.bids ?? []);
      setEndsAt(a?.ends_at ?? null);
    }
    setJoinError(null);
  };
  // The scheme's room through the shared room log (roomlog.ts): every join answers the state at
  // the room's seq (the auction with all its bids), so a reconnection or a `room:head` ahead
  // takes that state; live events in between apply in seq order, once each.
  useEffect(() => {
    const ask = async (after: number | null): Promise<CatchUp> => {
      const joined = await live.call<Joined>("chit:join", { scheme_id: scheme.id, ...(after === null ? {} : { after_seq: after }) });
      take(joined);
      // Missed a payment, a close or a status change: the ticket, passbook and lists too.
      if (after !== null && joined.missed.length > 0) changed.current();
      return { state: joined.seq };
    };
    const log = new RoomLog({
      room: `scheme:${scheme.id}`,
      join: ask,
      failed: (error) => setJoinError(error),
      apply: ({ event, data }) => {
        if (event === "chit:bid") {
          const e = data as unknown as { bid_seq: number; ticket: number; discount: string; ends_at: string };
          setBids((prev) => (prev.some((b) => b.seq === e.bid_seq) ? prev : [...prev, { seq: e.bid_seq, ticket: e.ticket, discount: e.discount }]));
          setEndsAt(e.ends_at);
        } else if (event === "chit:auction_opened") {
          void log.refresh();
        } else if (event === "chit:auction_closed") {
          // the result stays on screen; the next month's auction (opened by the close) follows
          const auction = (data as unknown as { auction: Auction }).auction;
          setResult(auction);
          setClosed(auction);
          void log.refresh();
          changed.current();
        } else if (event === "chit:payment") {
          void log.refresh();
          changed.current();
        }
      },
    });
    log.start();
    logNow.current = log;
    return () => {
      logNow.current = null;
      log.stop();
      void live.call("chit:leave", { scheme_id: scheme.id }).catch(() => undefined);
    };
  }, [scheme.id]);
  const place = useAction(async () => {
    const discount = parseAmountInput(amount);
    if (!discount) throw new ApiError("Enter your bid as an amount in rupees, like 5000 or 5000.50.", 422, "validation_error");
    const placed = await live.call<{ seq: number; room_seq?: number | null }>("chit:bid", { scheme_id: scheme.id, discount });
    setAmount("");
    // One's own bid must show even if its broadcast was lost (nothing after it would tell):
    // the room log catches up if it has not reached the bid's seq shortly.
    if (typeof placed.room_seq === "number") logNow.current?.reached(placed.room_seq);
  });
  const auction = state?.auction && state.auction.status !== "CLOSED" ? state.auction : null;
  const openNow = auction && !auction.foreman_month && Date.parse(auction.opens_at) <= Date.now() && endsAt && Date.parse(endsAt) > Date.now();
  const best = bids.length ? bids[bids.length - 1]!.discount : null;
  const nextBid = nextValidBid(scheme, best);
  return (
    <Panel title="Live auction" testId="auction-room" class="auction-room">
      <ErrorNote error={joinError} />
      {result && <Result auction={result} scheme={scheme} ticket={state?.my_ticket ?? null} />}
      {!closed && auction && (
        <div class="stack" data-testid="auction-live" data-open={openNow ? "true" : "false"}>
          <p>
            Month {auction.month}{" "}
            {auction.foreman_month ? "is the foreman's month, without bidding." : openNow ? (
              <>closes in <Countdown deadline={endsAt!} testId="auction-countdown" /></>
            ) : (
              <>opens {when(auction.opens_at)}.</>
            )}
          </p>
          <p data-testid="best-bid">Best discount so far: <strong>{best ? money(best) : "no bids yet"}</strong></p>
        </div>
      )}
      {!closed && !auction && !result && <Empty>No auction is scheduled right now.</Empty>}
      {state && (
        <p class="small" data-testid="my-eligibility" data-eligible={state.eligible ? "true" : "false"}>
          {state.my_ticket ? `Your ticket: ${state.my_ticket}. ` : ""}
          {ELIGIBILITY[state.eligibility] ?? ""}
        </p>
      )}
      {!closed && auction && state?.eligible && (
        <form class="inline-form" onSubmit={(e) => { e.preventDefault(); void place.run(); }}>
          <Field
            label={`Your discount: at least ${money(nextBid)} (steps of ${money(scheme.bid_step)} from ${money(scheme.min_bid)}, at most ${money(scheme.max_discount)})`}
            testId="bid-input" value={amount} inputMode="decimal" placeholder={nextBid}
            onInput={(e) => setAmount((e.currentTarget as HTMLInputElement).value)}
          />
          <Button type="submit" testId="bid-submit" busy={place.busy} disabled={!openNow}>Bid</Button>
        </form>
      )}
      <ErrorNote error={sentence(place.error)} testId="bid-error" />
      <ul class="bid-list" data-testid="bid-list">
        {bids.map((b) => (
          <li key={b.seq} data-testid="bid-row" data-seq={b.seq}>
            #{b.seq} · ticket {b.ticket}{b.ticket === state?.my_ticket ? " (you)" : ""} · <strong>{money(b.discount)}</strong>
          </li>
        ))}
      </ul>
    </Panel>
  );
}

/** `/chits/:id`: the scheme, the live auction, my passbook, or the foreman's console. */
export function SchemeScreen({ schemeId }: { schemeId: string }) {
  const me = useStore(session.me);
  const scheme = useLoad(() => api<Scheme>("GET", `/api/v1/schemes/${schemeId}`), [schemeId]);
  const subs = useLoad(() => api<{ subscriptions: Subscription[] }>("GET", `/api/v1/schemes/${schemeId}/subscribers`), [schemeId]);
  const auctions = useLoad(() => api<{ auctions: Auction[] }>("GET", `/api/v1/schemes/${schemeId}/auctions`), [schemeId]);
  const s = scheme.data;
  const isForeman = s !== null && s.foreman_id === me?.id;
  const mine = (subs.data?.subscriptions ?? []).find((x) => x.user_id === me?.id && x.holds_ticket) ?? null;
  const refresh = () => {
    scheme.reload();
    subs.reload();
    auctions.reload();
  };
  // An open scheme's page follows its room (chit:scheme: it fills, then starts) while the live
  // auction room, which joins the same room, is not on screen.
  const roomShown = Boolean(s && s.status === "ACTIVE" && (isForeman || mine));
  const roomShownNow = useRef(roomShown);
  roomShownNow.current = roomShown;
  const following = Boolean(s && !roomShown && (s.status === "APPROVED" || s.status === "ACTIVE"));
  const refreshNow = useRef(refresh);
  refreshNow.current = refresh;
  useEffect(() => {
    if (!following) return;
    // The shared room log (roomlog.ts): a reconnection or a `room:head` ahead that finds missed
    // events (`chit:scheme`: it filled, it started) loads the scheme again.
    const log = new RoomLog({
      room: `scheme:${schemeId}`,
      join: async (after) => {
        const joined = await live.call<{ seq: number; missed: LogEvent[] }>("chit:join", { scheme_id: schemeId, ...(after === null ? {} : { after_seq: after }) });
        if (after !== null && joined.missed.length > 0) refreshNow.current();
        return { state: joined.seq };
      },
      apply: () => undefined, // `chit:scheme` live: the listener below
    });
    log.start();
    return () => {
      log.stop();
      if (!roomShownNow.current) void live.call("chit:leave", { scheme_id: schemeId }).catch(() => undefined);
    };
  }, [schemeId, following]);
  useEffect(() => live.on("chit:scheme", (e: { scheme_id: string }) => {
    if (e.scheme_id === schemeId) refresh();
  }), [schemeId]);
  if (!s) {
    return (
      <main class="page">
        <ErrorNote error={scheme.error} />
        {!scheme.error && <p class="muted">Loading…</p>}
      </main>
    );
  }
  return (
    <main class="page" data-testid="scheme-screen" data-status={s.status}>
      <div class="page-head">
        <div>
          <h1>{s.name}</h1>
          <p class="muted">
            {money(s.chit_amount)} · {s.subscribers} subscribers × {money(s.instalment)} · commission {money(s.commission)} out of the {s.commission_source} · auctions on day {s.auction_day} at {s.auction_time} UTC
          </p>
        </div>
        <Badge tone={s.status === "ACTIVE" ? "ok" : "brand"} testId="scheme-status">{label(s.status)}</Badge>
      </div>
      {s.status === "PENDING_APPROVAL" && <Notice tone="warn">Waiting for an admin's approval.</Notice>}
      {s.status === "APPROVED" && <Notice>Open for subscribers: {s.filled} of {s.subscribers} tickets taken. It starts when full.</Notice>}
      <div class="room-grid">
        {s.status === "ACTIVE" && (isForeman || mine) && <AuctionRoom scheme={s} onChange={refresh} />}
        {mine && <MyTicket sub={mine} scheme={s} onPaid={refresh} />}
        {(mine || isForeman) && (s.status === "ACTIVE" || s.status === "COMPLETED") && <AuctionList scheme={s} auctions={auctions.data?.auctions ?? []} ticket={mine?.ticket ?? null} />}
        {mine && <Passbook sub={mine} />}
        {isForeman && <ForemanConsole scheme={s} subs={subs.data?.subscriptions ?? []} auctions={auctions.data?.auctions ?? []} onChange={refresh} />}
      </div>
    </main>
  );
}

const PASSBOOK_COLUMNS: [keyof PassbookRow, string][] = [
  ["due", "Due"], ["paid", "Paid"], ["dividend", "Dividend"], ["penalty", "Penalty"], ["prize", "Prize"], ["balance", "Balance"],
];

/** A subscriber's passbook: its own full-width panel so all seven columns show on a desktop;
 * on a phone each month becomes a small card of labelled amounts (no sideways scrolling). */
function Passbook({ sub }: { sub: Subscription }) {
  const book = useLoad(() => api<{ rows: PassbookRow[]; balance: string; total_paid: string; total_dividend: string }>("GET", `/api/v1/subscriptions/${sub.id}/passbook`), [sub.id, sub.balance]);
  return (
    <Panel title={`Passbook, ticket ${sub.ticket}`} testId="passbook-panel" class="span-all">
      <ErrorNote error={book.error} />
      <div class="table-wrap passbook-wrap" data-testid="passbook-wrap">
        <table class="table passbook" data-testid="passbook">
          <thead>
            <tr><th>Month</th><th>Due date</th>{PASSBOOK_COLUMNS.map(([, title]) => <th key={title} class="num">{title}</th>)}</tr>
          </thead>
          <tbody>
            {(book.data?.rows ?? []).map((r) => (
              <tr key={r.month} data-testid="passbook-row" data-month={r.month}>
                <td data-label="Month">{r.month}</td>
                <td data-label="Due date" data-testid="passbook-due-date">{r.due_date ?? "—"}</td>
                {PASSBOOK_COLUMNS.map(([key, title]) => <td key={key} class="num" data-label={title} data-testid={`passbook-${key}`}>{money(String(r[key]))}</td>)}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {book.data && (
        <p class="small muted" data-testid="passbook-totals">Paid in {money(book.data.total_paid)} · dividends {money(book.data.total_dividend)} · balance {money(book.data.balance)}</p>
      )}
    </Panel>
  );
}

interface LeaveQuote {
  may_leave: boolean;
  reason: string;
  paid_in: string;
  penalties: string;
  owed: string;
  settlement: string;
  months_called: number;
}

const LEAVE_REASONS: Record<string, string> = {
  prized: "You have taken the chit, so you cannot leave on your own: the instalments to come are owed against your prize. Ask the foreman to admit a substitute who takes over your ticket.",
  not_active: "This ticket is no longer active.",
  foreman: "The foreman runs the scheme to its end.",
  scheme_not_active: "You can leave once the scheme is running.",
};

/** Leaving early: the settlement is shown first, then confirmed with the same figure. */
function LeaveScheme({ sub, onLeft }: { sub: Subscription; onLeft: () => void }) {
  const [quote, setQuote] = useState<LeaveQuote | null>(null);
  const ask = useAction(async () => setQuote(await api<LeaveQuote>("GET", `/api/v1/subscriptions/${sub.id}/leave`)));
  const leave = useAction(async () => {
    await api("POST", `/api/v1/subscriptions/${sub.id}/leave`, { body: { settlement: quote!.settlement }, idempotencyKey: newKey() });
    setQuote(null);
    onLeft();
  });
  if (sub.status !== "ACTIVE") return null;
  return (
    <div class="stack" data-testid="leave">
      {!quote ? (
        <Button kind="secondary" testId="leave-ask" busy={ask.busy} onClick={() => void ask.run()}>Leave this scheme…</Button>
      ) : quote.may_leave ? (
        <div class="stack" data-testid="leave-quote">
          <p>
            You have paid in <strong>{money(quote.paid_in)}</strong>{/[1-9]/.test(quote.penalties) ? <> including {money(quote.penalties)} of late penalties</> : null}
            {/[1-9]/.test(quote.owed) ? <> and still owe {money(quote.owed)}</> : null}. If you leave now you get back{" "}
            <strong data-testid="leave-settlement">{money(quote.settlement)}</strong> once a substitute takes your ticket (at the latest when the scheme ends). You will no longer bid or owe instalments.
          </p>
          <span>
            <Button kind="danger" testId="leave-confirm" busy={leave.busy} onClick={() => void leave.run()}>Leave and settle {money(quote.settlement)}</Button>{" "}
            <Button kind="secondary" testId="leave-cancel" onClick={() => setQuote(null)}>Stay</Button>
          </span>
        </div>
      ) : (
        <p class="small" data-testid="leave-refused" data-reason={quote.reason}>{LEAVE_REASONS[quote.reason] ?? "You cannot leave now."}</p>
      )}
      <ErrorNote error={sentence(ask.error ?? leave.error)} testId="leave-error" />
    </div>
  );
}

function MyTicket({ sub, scheme, onPaid }: { sub: Subscription; scheme: Scheme; onPaid: () => void }) {
  const payments = useLoad(() => api<{ payments: Payment[] }>("GET", `/api/v1/subscriptions/${sub.id}/payments`), [sub.id, sub.balance]);
  useEffect(() => live.on("chit:payment", (e: { scheme_id: string; ticket: number }) => {
    if (e.scheme_id === scheme.id && e.ticket === sub.ticket) payments.reload();
  }), [scheme.id, sub.ticket]);
  const pay = useAction(async () => {
    const payment = await api<Payment>("POST", `/api/v1/subscriptions/${sub.id}/payments`, { idempotencyKey: newKey() });
    if (payment.checkout_url) window.open(payment.checkout_url, "_blank", "noopener");
    onPaid();
    payments.reload();
  });
  const positive = (x: string) => !x.startsWith("-") && /[1-9]/.test(x);
  const owes = positive(sub.balance);
  const dueNow = positive(sub.due_now);
  const upcoming = positive(sub.upcoming);
  const lastInstalment = [...(payments.data?.payments ?? [])].reverse().find((p) => p.kind === "INSTALLMENT");
  const failed = lastInstalment?.status === "FAILED" && lastInstalment.last_error && !/superseded|settled from the prize/.test(lastInstalment.last_error) ? lastInstalment : null;
  return (
    <Panel title={`My ticket ${sub.ticket}`} testId="my-ticket">
      <p>
        Member {sub.member_id ?? "—"} · {label(sub.status)}
        {sub.prized_month ? ` · took the chit in month ${sub.prized_month}` : ""}
      </p>
      <p data-testid="my-balance">
        {dueNow ? <>You owe <strong>{money(sub.due_now)}</strong> now.</> : <>Nothing is due now{sub.balance.startsWith("-") ? ` (credit ${money(sub.balance.slice(1))})` : ""}.</>}
        {upcoming && <> <span data-testid="my-upcoming">{money(sub.upcoming)} falls due on {sub.next_due_date ?? "the next auction day"}.</span></>}
      </p>
      {failed && (
        <Notice tone="warn"><span data-testid="payment-failed">Your payment of {money(failed.amount)} did not go through: {failed.last_error}</span></Notice>
      )}
      {owes && scheme.status === "ACTIVE" && (
        <Button testId="pay-instalment" busy={pay.busy} onClick={() => void pay.run()}>{dueNow ? `Pay ${money(sub.balance)}` : `Pay ${money(sub.balance)} in advance`}</Button>
      )}
      <ErrorNote error={sentence(pay.error)} />
      {scheme.status === "ACTIVE" && sub.user_id !== scheme.foreman_id && !sub.prized_month && <LeaveScheme sub={sub} onLeft={onPaid} />}
    </Panel>
  );
}

const PAYOUT_WORDS: Record<string, string> = {
  PENDING: "being sent (the provider did not answer yet; it is retried on its own)",
  COMPLETED: "paid",
  FAILED: "refused by the payout provider",
};

/** One closed month's prize for the foreman: pay it through the payout provider (once), see
 * its status, retry a refused one; or record a bank transfer made by hand. */
function PrizePayoutRow({ auction, onChange, recordByHand, busy }: { auction: Auction; onChange: () => void; recordByHand: () => void; busy: boolean }) {
  const payout = useLoad(() => api<{ payment: Payment | null }>("GET", `/api/v1/auctions/${auction.id}/payout`), [auction.id, auction.prize_paid_at]);
  const send = useAction(async () => {
    await api<Payment>("POST", `/api/v1/auctions/${auction.id}/payout`, { idempotencyKey: newKey() });
    payout.reload();
    onChange();
  });
  const retry = useAction(async (paymentId: string) => {
    await api<Payment>("POST", `/api/v1/payments/${paymentId}/retry`, { idempotencyKey: newKey() });
    payout.reload();
    onChange();
  });
  const p = payout.data?.payment ?? null;
  return (
    <div class="stack prize-payout" data-testid={`prize-${auction.month}`} data-status={p?.status ?? "UNPAID"}>
      {!p ? (
        <p>
          Month {auction.month}'s prize of {money(auction.prize)} to ticket {auction.winner_ticket} is unpaid.{" "}
          <Button testId={`payout-${auction.month}`} busy={send.busy} onClick={() => void send.run()}>Pay the prize</Button>{" "}
          <Button kind="secondary" testId={`pay-prize-${auction.month}`} busy={busy} onClick={recordByHand}>Record a bank transfer</Button>
        </p>
      ) : (
        <p data-testid={`payout-status-${auction.month}`}>
          Month {auction.month}'s prize to ticket {auction.winner_ticket}: <strong>{money(p.amount)}</strong>
          {p.withheld && /[1-9]/.test(p.withheld) ? ` (${money(p.withheld)} withheld: what the ticket owed, and without security the instalments to come)` : ""} —{" "}
          {PAYOUT_WORDS[p.status] ?? label(p.status)}{p.reference ? ` · reference ${p.reference}` : ""}.
          {p.status === "FAILED" && (
            <>
              {" "}<span class="small muted" data-testid={`payout-error-${auction.month}`}>{p.last_error}</span>{" "}
              <Button testId={`payout-retry-${auction.month}`} busy={retry.busy} onClick={() => void retry.run(p.id)}>Try again</Button>
            </>
          )}
        </p>
      )}
      <ErrorNote error={sentence(send.error ?? retry.error)} />
    </div>
  );
}

interface ReportJob {
  id: string;
  kind: string;
  status: string;
  percent: number;
  error: { code: string; message: string } | null;
  download: { url: string; filename: string } | null;
}

/** A PDF for the registrar or the foreman (auction minutes, monthly report): asked for, built
 * in the background by the report agent, then a download link. */
function ChitReport({ scheme, kind, month, label: text, scope = "" }: { scheme: Scheme; kind: string; month: number; label: string; scope?: string }) {
  const [job, setJob] = useState<ReportJob | null>(null);
  const ask = useAction(async () => {
    let current = await api<ReportJob>("POST", `/api/v1/schemes/${scheme.id}/reports`, { body: { kind, month } });
    setJob(current);
    for (let i = 0; i < 240 && (current.status === "queued" || current.status === "running"); i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      current = await api<ReportJob>("GET", `/api/v1/schemes/${scheme.id}/reports/${current.id}`);
      setJob(current);
    }
  });
  const id = `${scope}${kind}-${month}`;
  return (
    <span class="chit-report" data-testid={`report-${id}`} data-status={job?.status ?? "none"}>
      {job?.download ? (
        <a class="btn btn-secondary" href={job.download.url} data-testid={`report-link-${id}`} download={job.download.filename}>Download {text} (PDF)</a>
      ) : (
        <Button kind="secondary" testId={`report-ask-${id}`} busy={ask.busy || job?.status === "queued" || job?.status === "running"} onClick={() => void ask.run()}>{text} (PDF)</Button>
      )}
      {job?.error && <span class="small muted"> {job.error.message}</span>}
      <ErrorNote error={sentence(ask.error)} />
    </span>
  );
}

/** The foreman records the security a prized subscriber gave (before the prize is paid in
 * full; without it the instalments to come are withheld from the prize). */
function SuretyForm({ sub, onDone }: { sub: Subscription; onDone: () => void }) {
  const [kind, setKind] = useState("guarantor");
  const [details, setDetails] = useState("");
  const save = useAction(async () => {
    await api("POST", `/api/v1/subscriptions/${sub.id}/surety`, { body: { kind, details } });
    setDetails("");
    onDone();
  });
  return (
    <form class="inline-form" data-testid={`surety-form-${sub.ticket}`} onSubmit={(e) => { e.preventDefault(); void save.run(); }}>
      <label class="field">
        <span class="field-label">Security from ticket {sub.ticket}</span>
        <select value={kind} onChange={(e) => setKind((e.currentTarget as HTMLSelectElement).value)} data-testid={`surety-kind-${sub.ticket}`}>
          <option value="guarantor">a guarantor</option>
          <option value="fixed_deposit">a fixed deposit</option>
          <option value="property">property</option>
          <option value="other">other</option>
        </select>
      </label>
      <Field label="Details (who, what, reference)" testId={`surety-details-${sub.ticket}`} value={details} onInput={(e) => setDetails((e.currentTarget as HTMLInputElement).value)} />
      <Button type="submit" kind="secondary" testId={`surety-save-${sub.ticket}`} busy={save.busy}>Record security</Button>
      <ErrorNote error={sentence(save.error)} />
    </form>
  );
}

interface SubstituteQuote {
  ticket: number;
  months_called: number;
  catch_up: string;
  arrears: string;
  defaulter_refund: string;
}

interface SubstituteCandidate {
  user_id: string;
  full_name: string;
  member_id: string | null;
  kyc_verified: boolean;
  holds_ticket: boolean;
}

/** A defaulted ticket: the catch-up a substitute pays is shown; the foreman names the
 * substitute by e-mail or Samooh member ID, sees who that is, then admits them. */
function Substitute({ sub, onDone }: { sub: Subscription; onDone: () => void }) {
  const [who, setWho] = useState("");
  const [found, setFound] = useState<SubstituteCandidate | null>(null);
  const quote = useLoad(() => api<SubstituteQuote>("GET", `/api/v1/subscriptions/${sub.id}/substitute`), [sub.id]);
  const find = useAction(async () => {
    setFound(null);
    const q = new URLSearchParams({ who: who.trim() });
    setFound(await api<SubstituteCandidate>("GET", `/api/v1/subscriptions/${sub.id}/substitute/candidate?${q}`));
  });
  const admit = useAction(async () => {
    if (!found) return;
    await api("POST", `/api/v1/subscriptions/${sub.id}/substitute`, { body: { user_id: found.user_id } });
    setWho("");
    setFound(null);
    onDone();
  });
  const q = quote.data;
  const blocked = found === null ? null
    : !found.kyc_verified ? `${found.full_name} has not completed KYC yet: a substitute must, before taking over a ticket.`
    : found.holds_ticket ? `${found.full_name} already holds a ticket of this scheme.` : null;
  return (
    <li class="stack" data-testid={`defaulter-${sub.ticket}`}>
      <span>Ticket {sub.ticket}: {sub.name ?? "—"} — removed{/[1-9]/.test(sub.balance) && !sub.balance.startsWith("-") ? `, owing ${money(sub.balance)}` : ""}.</span>
      {q && (
        <span data-testid={`catch-up-${sub.ticket}`}>
          A substitute pays the catch-up of <strong>{money(q.catch_up)}</strong> (the net instalments of {q.months_called} month{q.months_called === 1 ? "" : "s"}).{" "}
          {q.defaulter_refund.startsWith("-")
            ? <>It clears the defaulter's arrears; they still owe {money(q.defaulter_refund.slice(1))} of late penalties beyond it.</>
            : <>{money(q.arrears)} of the defaulter's arrears is cleared from it and {money(q.defaulter_refund)} is owed back to them at the end.</>}
        </span>
      )}
      <ErrorNote error={sentence(quote.error)} />
      <form class="inline-form" onSubmit={(e) => { e.preventDefault(); void find.run(); }}>
        <Field label="Substitute's e-mail or member ID" testId={`substitute-who-${sub.ticket}`} placeholder="name@example.com or UCFSIN-2026-000123" value={who} onInput={(e) => { setWho((e.currentTarget as HTMLInputElement).value); setFound(null); }} />
        <Button type="submit" kind="secondary" testId={`substitute-find-${sub.ticket}`} busy={find.busy} disabled={who.trim().length < 3}>Find</Button>
      </form>
      <ErrorNote error={sentence(find.error)} testId={`substitute-error-${sub.ticket}`} />
      {found && (
        <span class="stack" data-testid={`substitute-found-${sub.ticket}`}>
          <span><strong>{found.full_name}</strong>{found.member_id ? <span class="muted small"> · {found.member_id}</span> : null} {found.kyc_verified ? <Badge tone="ok">KYC verified</Badge> : <Badge tone="warn">KYC not verified</Badge>}</span>
          {blocked ? <Notice tone="warn" testId={`substitute-blocked-${sub.ticket}`}>{blocked}</Notice> : (
            <span><Button testId={`substitute-admit-${sub.ticket}`} busy={admit.busy} onClick={() => void admit.run()}>Admit {found.full_name} at {q ? money(q.catch_up) : "the catch-up"}</Button></span>
          )}
        </span>
      )}
      <ErrorNote error={sentence(admit.error)} testId={`substitute-admit-error-${sub.ticket}`} />
    </li>
  );
}

/** The foreman's monthly report of any month run so far (the minutes are per auction). */
function MonthlyReport({ scheme }: { scheme: Scheme }) {
  const months = Array.from({ length: Math.max(scheme.current_month, 1) }, (_, i) => i + 1);
  const [month, setMonth] = useState(months[months.length - 1]!);
  return (
    <div class="foreman-actions" data-testid="monthly-report">
      <label class="field">
        <span class="field-label">Monthly report for</span>
        <select value={month} onChange={(e) => setMonth(Number((e.currentTarget as HTMLSelectElement).value))} data-testid="monthly-report-month">
          {months.map((m) => <option key={m} value={m}>month {m}</option>)}
        </select>
      </label>
      <ChitReport key={month} scheme={scheme} kind="chit_monthly_report" month={month} label={`Month ${month} report`} scope="any-" />
    </div>
  );
}

function ForemanConsole({ scheme, subs, auctions, onChange }: { scheme: Scheme; subs: Subscription[]; auctions: Auction[]; onChange: () => void }) {
  const start = useAction(async () => {
    await api("POST", `/api/v1/schemes/${scheme.id}/auctions/start`);
    onChange();
  });
  const prize = useAction(async (auctionId: string) => {
    await api("POST", `/api/v1/auctions/${auctionId}/prize`, { body: { reference: `NEFT-${Date.now()}` }, idempotencyKey: newKey() });
    onChange();
  });
  const holders = subs.filter((x) => x.holds_ticket);
  const owing = holders.filter((x) => !x.balance.startsWith("-") && /[1-9]/.test(x.balance));
  const collected = holders.length - owing.length;
  const commissionEarned = auctions.reduce((sum, a) => sum + BigInt((a.commission ?? "0.00").replace(".", "")), 0n);
  const earned = `${commissionEarned / 100n}.${String(commissionEarned % 100n).padStart(2, "0")}`;
  const current = auctions.find((a) => a.month === scheme.current_month && a.status !== "CLOSED");
  const unpaidPrizes = auctions.filter((a) => a.status === "CLOSED" && (!a.prize_paid_at || a.prize_payment_id));
  const remove = useAction(async (sub: Subscription) => {
    await api("PATCH", `/api/v1/subscriptions/${sub.id}`, { body: { status: "DEFAULTED", reason: "instalments overdue" } });
    onChange();
  });
  const defaulted = subs.filter((x) => x.status === "DEFAULTED" && x.holds_ticket);
  return (
    <Panel title="Foreman's console" testId="foreman-console">
      <p data-testid="collections">Month {scheme.current_month}: {collected} of {holders.length} tickets paid up.</p>
      <p data-testid="commission-earned">Commission earned: <strong>{money(earned)}</strong></p>
      {current && !current.foreman_month && scheme.status === "ACTIVE" && current.bid_count === 0 && Date.parse(current.opens_at) > Date.now() && (
        <Button testId="start-auction" busy={start.busy} onClick={() => void start.run()}>Open month {current.month}'s auction now</Button>
      )}
      <ErrorNote error={sentence(start.error)} />
      {unpaidPrizes.map((a) => (
        <PrizePayoutRow key={a.id} auction={a} onChange={onChange} recordByHand={() => void prize.run(a.id)} busy={prize.busy} />
      ))}
      <ErrorNote error={sentence(prize.error)} />
      <h3>Subscribers</h3>
      <div class="table-wrap">
        <table class="table" data-testid="subscribers">
          <thead>
            <tr><th>Ticket</th><th>Name</th><th>Member id</th><th>Status</th><th>Prized</th><th class="num">Due now</th><th class="num">Owes in all</th><th>Security</th><th></th></tr>
          </thead>
          <tbody>
            {holders.map((x) => (
              <tr key={x.id} data-testid={`ticket-${x.ticket}`}>
                <td>{x.ticket}</td><td>{x.name ?? "—"}</td><td>{x.member_id ?? "—"}</td><td>{label(x.status)}</td>
                <td>{x.prized_month ? `month ${x.prized_month}` : "—"}</td>
                <td class={`num ${/[1-9]/.test(x.due_now) ? "overdue" : ""}`} data-testid={`due-now-${x.ticket}`}>{money(x.due_now)}</td>
                <td class="num">{money(x.balance)}</td>
                <td data-testid={`surety-${x.ticket}`}>{x.surety ? label(x.surety.kind) : x.prized_month ? "none yet" : "—"}</td>
                <td>
                  {x.status === "ACTIVE" && !x.prized_month && x.user_id !== scheme.foreman_id && /[1-9]/.test(x.due_now) && (
                    <Button kind="danger" testId={`remove-${x.ticket}`} busy={remove.busy} onClick={() => void remove.run(x)}>Remove as defaulter</Button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <ErrorNote error={sentence(remove.error)} testId="remove-error" />
      {holders.filter((x) => x.prized_month && !x.surety && x.user_id !== scheme.foreman_id).map((x) => (
        <SuretyForm key={x.id} sub={x} onDone={onChange} />
      ))}
      <h3>Defaulters</h3>
      {defaulted.length === 0 ? <Empty>No defaulter waits for a substitute.</Empty> : (
        <ul class="plain-list" data-testid="defaulters">{defaulted.map((x) => <Substitute key={x.id} sub={x} onDone={onChange} />)}</ul>
      )}
      {subs.filter((x) => x.status === "DEFAULTED" && !x.holds_ticket).length > 0 && (
        <p class="small muted">Substituted: {subs.filter((x) => x.status === "DEFAULTED" && !x.holds_ticket).map((x) => `ticket ${x.ticket} (${x.name ?? "—"})`).join(", ")}</p>
      )}
      <h3>Reports</h3>
      <MonthlyReport scheme={scheme} />
      <h3>Auctions</h3>
      <ul class="plain-list" data-testid="auction-history">
        {auctions.filter((a) => a.status === "CLOSED").map((a) => (
          <li key={a.id} class="row-between">
            <span>Month {a.month}: ticket {a.winner_ticket} · discount {money(a.discount)} · prize {money(a.prize)} · {clock(a.ends_at)}</span>
            <span>
              <ChitReport scheme={scheme} kind="chit_auction_minutes" month={a.month} label={`Month ${a.month} minutes`} />{" "}
              <ChitReport scheme={scheme} kind="chit_monthly_report" month={a.month} label={`Month ${a.month} report`} />
            </span>
          </li>
        ))}
      </ul>
    </Panel>
  );
}

export default function ChitRoute({ path }: { path: string }) {
  if (path === "/chits") return <ChitsHome />;
  if (path === "/chits/new") return <NewScheme />;
  const id = path.split("/")[2] ?? "";
  return <SchemeScreen key={id} schemeId={id} />;
}
