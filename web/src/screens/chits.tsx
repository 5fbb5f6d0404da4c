/** Chit funds: my schemes with passbook and chit score, the foreman's console (schemes,
 * subscribers, collections this month, defaulters, auction control, commission earned), the live
 * auction room (countdown, bids as they come, my eligibility, my bid, the result with its
 * arithmetic) and admin approval of schemes. Money is shown exactly as the API sends it. */
import { useEffect, useState } from "preact/hooks";
import "./chits.css";
import { ApiError } from "../api.ts";
import { live } from "../live.ts";
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
  balance: string;
  catch_up: string;
}

interface Bid {
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
  bid_not_above_best: () => "Someone already bid that much or more: bid higher than the best bid.",
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
  invalid_scheme: () => "A setting of the scheme breaks a rule; check the highlighted value.",
  invalid_phone: () => "Enter an Indian mobile number, like 98765 43210.",
  phone_code_invalid: (d) => `That code is wrong or has expired${typeof d.attempts_left === "number" ? ` (${d.attempts_left} tries left)` : ""}.`,
  sms_unavailable: () => "Text messages cannot be sent right now; try again in a minute.",
  rate_limited: () => "Too many codes asked for; wait a minute.",
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
            <p class="big-number" data-testid="chit-score-value">{score.data.score} <span class="muted">/ {score.data.max_score}</span></p>
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
                <span>
                  <strong>{s.name}</strong> — {money(s.chit_amount)}, {s.subscribers} × {money(s.instalment)}, commission {money(s.commission)}
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
  return (
    <main class="page narrow" data-testid="new-scheme">
      <h1>Start a chit scheme</h1>
      <p class="muted">The scheme goes to an admin for approval; you hold ticket 1 and take the first month's chit without discount.</p>
      <ErrorNote error={sentence(create.error)} />
      <form class="stack" onSubmit={(e) => { e.preventDefault(); void create.run(); }}>
        <Field label="Name" testId="scheme-name" value={form.name} onInput={set("name")} required />
        <Field label="Subscribers (= months)" testId="scheme-subscribers" value={form.subscribers} onInput={set("subscribers")} inputMode="numeric" />
        <Field label="Monthly instalment (₹)" testId="scheme-instalment" value={form.instalment} onInput={set("instalment")} inputMode="decimal" />
        <Field label="Commission (basis points, at most 700)" testId="scheme-commission" value={form.commission_bps} onInput={set("commission_bps")} inputMode="numeric" />
        <Field label="Minimum bid (₹, at least the commission)" testId="scheme-min-bid" value={form.min_bid} onInput={set("min_bid")} inputMode="decimal" />
        <Field label="Bid step (₹)" testId="scheme-step" value={form.bid_step} onInput={set("bid_step")} inputMode="decimal" />
        <Field label="Maximum discount (₹)" testId="scheme-max" value={form.max_discount} onInput={set("max_discount")} inputMode="decimal" />
        <label class="field">
          <span class="field-label">Commission comes out of</span>
          <select value={form.commission_source} onChange={set("commission_source")} data-testid="scheme-source">
            <option value="discount">the discount</option>
            <option value="prize">the prize</option>
          </select>
        </label>
        <Field label="Auction day of the month" testId="scheme-day" value={form.auction_day} onInput={set("auction_day")} inputMode="numeric" />
        <Field label="Auction time (UTC)" testId="scheme-time" value={form.auction_time} onInput={set("auction_time")} />
        <Field label="Start date" testId="scheme-start" type="date" value={form.start_date} onInput={set("start_date")} />
        <Button type="submit" testId="scheme-create" busy={create.busy}>Create and send for approval</Button>
      </form>
    </main>
  );
}

/** The result of a month with its arithmetic: chit amount = prize + commission + shares. */
function Result({ auction, scheme, ticket }: { auction: Auction; scheme: Scheme; ticket: number | null }) {
  // Shares split by largest remainder may differ by a paisa: show the viewer's own ticket.
  const index = (ticket ?? 1) - 1;
  const share = auction.shares[index] ?? "0.00";
  return (
    <div class="stack" data-testid="auction-result" data-winner={auction.winner_ticket ?? ""}>
      <p>
        <strong>Month {auction.month}: ticket {auction.winner_ticket} takes the chit.</strong> {METHOD[auction.method ?? ""] ?? ""}
      </p>
      <table class="table">
        <tbody>
          <tr><th>Chit amount</th><td class="num">{money(scheme.chit_amount)}</td></tr>
          <tr><th>Discount</th><td class="num" data-testid="result-discount">{money(auction.discount)}</td></tr>
          <tr><th>Foreman's commission</th><td class="num">{money(auction.commission)}</td></tr>
          <tr><th>Prize</th><td class="num" data-testid="result-prize">{money(auction.prize)}</td></tr>
          <tr><th>Share of discount{ticket ? ", your ticket" : ", ticket 1"}</th><td class="num" data-testid="result-share">{money(share)}</td></tr>
          <tr><th>Next month's net instalment</th><td class="num" data-testid="result-net">{money(auction.net_instalments[index] ?? scheme.instalment)}</td></tr>
        </tbody>
      </table>
      {auction.draw && (
        <p class="small muted" data-testid="result-draw">
          Drawn by lot among tickets {auction.draw.candidates.join(", ")}: seed {auction.draw.seed.slice(0, 16)}… ({auction.draw.method}).
        </p>
      )}
    </div>
  );
}

interface Joined {
  seq: number;
  auction: Auction | null;
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

/** The live auction room of a scheme. */
function AuctionRoom({ scheme, onChange }: { scheme: Scheme; onChange: () => void }) {
  const [state, setState] = useState<Joined | null>(null);
  const [bids, setBids] = useState<Bid[]>([]);
  const [endsAt, setEndsAt] = useState<string | null>(null);
  const [closed, setClosed] = useState<Auction | null>(null);
  const [amount, setAmount] = useState("");
  const [joinError, setJoinError] = useState<unknown>(null);
  const connections = useStore(live.connections);
  const join = async () => {
    try {
      const joined = await live.call<Joined>("chit:join", { scheme_id: scheme.id });
      setState(joined);
      const a = joined.auction;
      if (a && a.status === "CLOSED") {
        setClosed(a);
        setBids(a.bids);
      } else {
        setClosed(null);
        setBids(a?.bids ?? []);
        setEndsAt(a?.ends_at ?? null);
      }
      setJoinError(null);
    } catch (error) {
      setJoinError(error);
    }
  };
  useEffect(() => {
    void join();
    const offs = [
      live.on("chit:bid", (e: { scheme_id: string; bid_seq: number; ticket: number; discount: string; ends_at: string }) => {
        if (e.scheme_id !== scheme.id) return;
        setBids((prev) => (prev.some((b) => b.seq === e.bid_seq) ? prev : [...prev, { seq: e.bid_seq, ticket: e.ticket, discount: e.discount }]));
        setEndsAt(e.ends_at);
      }),
      live.on("chit:auction_opened", (e: { scheme_id: string }) => {
        if (e.scheme_id === scheme.id) void join();
      }),
      live.on("chit:auction_closed", (e: { scheme_id: string; auction: Auction }) => {
        if (e.scheme_id !== scheme.id) return;
        setClosed(e.auction);
        onChange();
      }),
      live.on("chit:payment", (e: { scheme_id: string }) => {
        if (e.scheme_id === scheme.id) {
          void join();
          onChange();
        }
      }),
    ];
    return () => {
      for (const off of offs) off();
      void live.call("chit:leave", { scheme_id: scheme.id }).catch(() => undefined);
    };
  }, [scheme.id, connections]);
  const place = useAction(async () => {
    const discount = parseAmountInput(amount);
    if (!discount) throw new ApiError("Enter your bid as an amount in rupees, like 5000 or 5000.50.", 422, "validation_error");
    await live.call("chit:bid", { scheme_id: scheme.id, discount });
    setAmount("");
  });
  const auction = state?.auction && state.auction.status !== "CLOSED" ? state.auction : null;
  const openNow = auction && !auction.foreman_month && Date.parse(auction.opens_at) <= Date.now() && endsAt && Date.parse(endsAt) > Date.now();
  const best = bids.length ? bids[bids.length - 1]!.discount : null;
  return (
    <Panel title="Live auction" testId="auction-room" class="auction-room">
      <ErrorNote error={joinError} />
      {closed && <Result auction={closed} scheme={scheme} ticket={state?.my_ticket ?? null} />}
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
      {!closed && !auction && <Empty>No auction is scheduled right now.</Empty>}
      {state && (
        <p class="small" data-testid="my-eligibility" data-eligible={state.eligible ? "true" : "false"}>
          {state.my_ticket ? `Your ticket: ${state.my_ticket}. ` : ""}
          {ELIGIBILITY[state.eligibility] ?? ""}
        </p>
      )}
      {!closed && auction && state?.eligible && (
        <form class="inline-form" onSubmit={(e) => { e.preventDefault(); void place.run(); }}>
          <Field
            label={`Your discount (minimum ${money(scheme.min_bid)}, steps of ${money(scheme.bid_step)}, at most ${money(scheme.max_discount)})`}
            testId="bid-input" value={amount} inputMode="decimal"
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
            <tr><th>Month</th>{PASSBOOK_COLUMNS.map(([, title]) => <th key={title} class="num">{title}</th>)}</tr>
          </thead>
          <tbody>
            {(book.data?.rows ?? []).map((r) => (
              <tr key={r.month} data-testid="passbook-row" data-month={r.month}>
                <td data-label="Month">{r.month}</td>
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
  const pay = useAction(async () => {
    const payment = await api<Payment>("POST", `/api/v1/subscriptions/${sub.id}/payments`, { idempotencyKey: newKey() });
    if (payment.checkout_url) window.open(payment.checkout_url, "_blank", "noopener");
    onPaid();
  });
  const owes = !sub.balance.startsWith("-") && /[1-9]/.test(sub.balance);
  return (
    <Panel title={`My ticket ${sub.ticket}`} testId="my-ticket">
      <p>
        Member {sub.member_id ?? "—"} · {label(sub.status)}
        {sub.prized_month ? ` · took the chit in month ${sub.prized_month}` : ""}
      </p>
      <p data-testid="my-balance">{owes ? <>You owe <strong>{money(sub.balance)}</strong> now.</> : <>Nothing is due now{sub.balance.startsWith("-") ? ` (credit ${money(sub.balance.slice(1))})` : ""}.</>}</p>
      {owes && scheme.status === "ACTIVE" && (
        <Button testId="pay-instalment" busy={pay.busy} onClick={() => void pay.run()}>Pay {money(sub.balance)}</Button>
      )}
      <ErrorNote error={sentence(pay.error)} />
      {scheme.status === "ACTIVE" && sub.user_id !== scheme.foreman_id && <LeaveScheme sub={sub} onLeft={onPaid} />}
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
function ChitReport({ scheme, kind, month, label: text }: { scheme: Scheme; kind: string; month: number; label: string }) {
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
  const id = `${kind}-${month}`;
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
            <tr><th>Ticket</th><th>Name</th><th>Member id</th><th>Status</th><th>Prized</th><th>Owes</th></tr>
          </thead>
          <tbody>
            {holders.map((x) => (
              <tr key={x.id} data-testid={`ticket-${x.ticket}`}>
                <td>{x.ticket}</td><td>{x.name ?? "—"}</td><td>{x.member_id ?? "—"}</td><td>{label(x.status)}</td>
                <td>{x.prized_month ? `month ${x.prized_month}` : "—"}</td><td class="num">{money(x.balance)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h3>Defaulters</h3>
      {subs.filter((x) => x.status === "DEFAULTED").length === 0 ? <Empty>No defaulters.</Empty> : (
        <ul class="plain-list">{subs.filter((x) => x.status === "DEFAULTED").map((x) => <li key={x.id}>Ticket {x.ticket}: {x.name}</li>)}</ul>
      )}
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
