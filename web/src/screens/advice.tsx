/**
 * Robo-advice: the risk questionnaire, a recommendation with its efficient frontier, personal
 * accounts, and a portfolio page (a club's or one's own) with current vs target allocation, the
 * rebalance preview and its execution (a club's one proposal, then sending its orders; or a
 * personal account's orders, sales first), the investment policy, performance against the
 * benchmark, tax-loss opportunities, and the live drift alert of the portfolio's room.
 * Money is shown exactly as the API's decimal strings; percentages are the API's strings too.
 */
import {
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  ScatterController,
  Tooltip,
} from "chart.js";
import { useEffect, useRef, useState } from "preact/hooks";
import { live } from "../live.ts";
import { type CatchUp, RoomLog } from "../roomlog.ts";
import { money } from "../money.ts";
import { navigate } from "../router.ts";
import { api, session } from "../session.ts";
import { useStore } from "../store.ts";
import type { Order, RoomJoined } from "../types.ts";
import { Badge, Button, Empty, ErrorNote, Notice, Panel, label, useAction, useLoad } from "../ui.tsx";

Chart.register(ScatterController, LineController, LineElement, PointElement, LinearScale, CategoryScale, Tooltip, Legend);

interface Option { value: string; label: string }
interface Question { id: string; text: string; options: Option[] }
interface Assessment { id: string; score: number; profile: string; horizon_years: number; strategy: string; answers: Record<string, string>; taken_at: string }
export interface Figures { annual_return_pct: string | null; volatility_pct: string | null; sharpe: string | null; sortino: string | null; max_drawdown_pct: string | null }
interface Recommendation {
  id: string; account_id: string | null; profile: string; strategy: string; objective: string;
  weights: { symbol: string; weight_pct: string }[]; figures: Figures;
  frontier: { volatility: number; annual_return: number }[]; inputs: Record<string, unknown>;
  versions: Record<string, string>; created_at: string;
}
interface Account {
  account_id: string; kind: string; name: string; currency: string; tax_treatment: string | null;
  targets: Record<string, string>; recommendation_id: string | null; band_pct: string; min_trade: string;
  excluded: string[]; max_weight_pct: string; wash_sale_days: number;
  risk_profile?: string | null; strategy_id?: string | null;
}
interface Holding {
  symbol: string; quantity: number; price: string; value: string; weight_pct: string; target_pct: string; drift_pct: string; outside_band: boolean;
  currency: string | null; native_price: string | null; fx_rate: string | null; fx_date: string | null;
}
interface Holdings { account_id: string; currency: string; cash: string; total: string; band_pct: string; drifted: boolean; holdings: Holding[] }
interface Trade { symbol: string; side: "buy" | "sell"; quantity: number; price: string; value: string; fee: string; limit_price?: string | null }
interface Rebalance {
  id: string; drifted: boolean; inside_bands: boolean; trades: Trade[]; cash_before: string; cash_after: string;
  turnover: string; fees: string; proposal_ids: string[]; order_ids: string[]; executed_at: string | null;
  status: string; note: string; sell_order_ids: string[]; buy_order_ids: string[]; finished_at: string | null;
}

/** What a rebalance run's status means to a person (app/advisory RunStatus). */
const RUN_TEXT: Record<string, string> = {
  voting: "One proposal for the whole rebalance is open for the members' vote.",
  approved: "The members approved the rebalance: the treasurer can send its orders now.",
  rejected: "The members did not approve this rebalance.",
  selling: "Selling first: the buys go out once the sales have filled.",
  buying: "The sales are done; the buys are at the broker, sized to the cash there now.",
  executed: "Done: every trade filled in full.",
  partial: "Partly done: not every trade filled in full.",
  failed: "Nothing filled.",
};

/** A date and time; the year is shown when it is not this year's. */
export function when(iso: string): string {
  const d = new Date(iso);
  const sameYear = d.getFullYear() === new Date().getFullYear();
  return d.toLocaleString(undefined, { year: sameYear ? undefined : "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}
export interface Performance {
  period?: string | null; start: string; end: string; benchmark: string; portfolio: Figures; benchmark_figures: Figures;
  twr_pct: string | null; benchmark_twr_pct: string | null; beta: string | null;
  series: { date: string; value: number }[]; benchmark_series: { date: string; value: number }[];
}
export interface Strategy {
  id: string; advisor_id: string; name: string; description: string; targets: Record<string, string>;
  version: number; followers: number; performance: Performance | null;
  published: boolean; advisor_name: string | null; path: string;
}
export interface Slot { id: string | null; advisor_id: string; start: string; minutes: number }
export interface BookingOut { id: string; advisor_id: string; client_id: string; start: string; minutes: number; status: string; advisor_name: string | null; client_name: string | null }
interface Lot { bought_on: string; quantity: number; cost_price: string; price: string; loss: string }
interface Opportunity {
  account_id: string; symbol: string; sector: string; quantity: number; harvestable_loss: string;
  lots: Lot[]; replacement: string | null; correlation: string | null; blocked_until: string | null;
}

const PROFILE_TEXT: Record<string, string> = {
  conservative: "Conservative: the steadiest mix (least volatility).",
  moderate: "Moderate: the best return for each unit of risk (highest Sharpe ratio).",
  aggressive: "Aggressive: a high target return, accepting more swings.",
};

const OBJECTIVE_TEXT: Record<string, string> = {
  min_volatility: "Least volatility", max_sharpe: "Highest Sharpe ratio", target_return: "Target return",
};

/** "5.00" → "5", "12.50" → "12.5" (the API's own digits, trailing zeros dropped). */
const trim = (text: string) => text.replace(/\.?0+$/, "");

const pct = (text: string | null | undefined) => (text === null || text === undefined ? "—" : `${text}%`);

export function FiguresRow({ figures, testId }: { figures: Figures; testId: string }) {
  return (
    <div class="figures" data-testid={testId}>
      <div class="figure"><span class="figure-name">Return a year</span><span class="figure-value">{pct(figures.annual_return_pct)}</span></div>
      <div class="figure"><span class="figure-name">Volatility</span><span class="figure-value">{pct(figures.volatility_pct)}</span></div>
      <div class="figure"><span class="figure-name">Sharpe</span><span class="figure-value">{figures.sharpe ?? "—"}</span></div>
      <div class="figure"><span class="figure-name">Sortino</span><span class="figure-value">{figures.sortino ?? "—"}</span></div>
      <div class="figure"><span class="figure-name">Worst fall</span><span class="figure-value">{pct(figures.max_drawdown_pct)}</span></div>
    </div>
  );
}

/** The efficient frontier (volatility → return) with the recommended mix marked. */
function FrontierChart({ rec }: { rec: Recommendation }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!canvas.current) return;
    const chosen = { x: Number.parseFloat(rec.figures.volatility_pct ?? "0"), y: Number.parseFloat(rec.figures.annual_return_pct ?? "0") };
    const chart = new Chart(canvas.current, {
      type: "scatter",
      data: {
        datasets: [
          { label: "Efficient frontier", data: rec.frontier.map((p) => ({ x: p.volatility, y: p.annual_return })), showLine: true, borderColor: "#0f766e", backgroundColor: "#0f766e", pointRadius: 3 },
          { label: "Recommended", data: [chosen], borderColor: "#d97706", backgroundColor: "#d97706", pointRadius: 7, pointStyle: "rectRot" },
        ],
      },
      options: {
        animation: false, maintainAspectRatio: false,
        plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } },
        scales: {
          x: { title: { display: true, text: "Volatility a year (%)" } },
          y: { title: { display: true, text: "Return a year (%)" } },
        },
      },
    });
    return () => chart.destroy();
  }, [rec.id]);
  return <div class="chart" data-testid="frontier-chart" data-points={rec.frontier.length}><canvas ref={canvas} role="img" aria-label="Efficient frontier" /></div>;
}

export function GrowthChart({ perf }: { perf: Performance }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!canvas.current) return;
    const chart = new Chart(canvas.current, {
      type: "line",
      data: {
        labels: perf.series.map((p) => p.date),
        datasets: [
          { label: "Target mix", data: perf.series.map((p) => p.value), borderColor: "#0f766e", pointRadius: 0, tension: 0.2 },
          { label: perf.benchmark, data: perf.benchmark_series.map((p) => p.value), borderColor: "#64748b", borderDash: [5, 4], pointRadius: 0, tension: 0.2 },
        ],
      },
      options: {
        animation: false, maintainAspectRatio: false, interaction: { mode: "index", intersect: false },
        plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } },
        scales: { x: { ticks: { maxTicksLimit: 6 } }, y: { title: { display: true, text: "Growth of 100" } } },
      },
    });
    return () => chart.destroy();
  }, [perf.start, perf.end, perf.benchmark]);
  return <div class="chart" data-testid="performance-chart"><canvas ref={canvas} role="img" aria-label="Growth of the target mix against the benchmark" /></div>;
}

function WeightsTable({ rec }: { rec: Recommendation }) {
  return (
    <div class="table-wrap">
      <table class="data" data-testid="recommendation-weights">
        <thead><tr><th>Holding</th><th class="num">Target weight</th></tr></thead>
        <tbody>
          {rec.weights.map((w) => (
            <tr key={w.symbol} data-testid={`weight-${w.symbol}`}><th scope="row"><span class="ticker">{w.symbol}</span></th><td class="num">{pct(w.weight_pct)}</td></tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function RecommendationView({ rec }: { rec: Recommendation }) {
  return (
    <div class="stack" data-testid="recommendation" data-strategy={rec.strategy} data-objective={rec.objective}>
      <p>
        <Badge tone="brand" testId="recommendation-strategy">{label(rec.strategy)}</Badge>{" "}
        <span class="muted small">{OBJECTIVE_TEXT[rec.objective] ?? label(rec.objective)} · {String(rec.inputs.start ?? "")} to {String(rec.inputs.end ?? "")} · {String((rec.inputs.symbols as string[] | undefined)?.length ?? 0)} stocks · shrinkage covariance (Ledoit-Wolf) · skfolio {rec.versions.skfolio ?? ""}</span>
      </p>
      <FiguresRow figures={rec.figures} testId="recommendation-figures" />
      <FrontierChart rec={rec} />
      <WeightsTable rec={rec} />
      <p class="muted small">Figures are from past prices and are not a promise of future results.</p>
    </div>
  );
}

function Questionnaire({ onDone, onCancel }: { onDone: (a: Assessment) => void; onCancel?: () => void }) {
  const questions = useLoad(() => api<{ questions: Question[] }>("GET", "/api/v1/advisory/questionnaire"), []);
  const [answers, setAnswers] = useState<Record<string, string>>({});
  const submit = useAction(async () => {
    onDone(await api<Assessment>("POST", "/api/v1/advisory/risk-profile", { body: { answers } }));
  });
  const list = questions.data?.questions ?? [];
  const missing = list.filter((q) => !answers[q.id]).length;
  return (
    <form class="form" data-testid="questionnaire" onSubmit={(e) => { e.preventDefault(); void submit.run(); }}>
      <ErrorNote error={questions.error ?? submit.error} />
      {list.map((q) => (
        <fieldset key={q.id} class="field" data-testid={`question-${q.id}`}>
          <legend class="field-label">{q.text}</legend>
          {q.options.map((o) => (
            <label key={o.value} class="check">
              <input type="radio" style={{ width: "auto", minHeight: 0, flex: "none" }} name={q.id} value={o.value} checked={answers[q.id] === o.value} data-testid={`answer-${q.id}-${o.value}`}
                onChange={() => setAnswers({ ...answers, [q.id]: o.value })} />
              {o.label}
            </label>
          ))}
        </fieldset>
      ))}
      <div class="form-actions">
        <Button type="submit" busy={submit.busy} disabled={missing > 0 || list.length === 0} testId="questionnaire-submit">
          {missing > 0 ? `Answer ${missing} more` : "See my profile"}
        </Button>
        {onCancel && <Button kind="ghost" testId="retake-cancel" onClick={onCancel}>Cancel</Button>}
      </div>
    </form>
  );
}

/** `/advice`: my risk profile, a recommendation, and my portfolios. */
function AdviceHome() {
  const profile = useLoad(() => api<Assessment>("GET", "/api/v1/advisory/risk-profile").catch(() => null), []);
  const recs = useLoad(() => api<{ recommendations: Recommendation[] }>("GET", "/api/v1/advisory/recommendations"), []);
  const accounts = useLoad(() => api<{ accounts: Account[] }>("GET", "/api/v1/portfolios"), []);
  const [retake, setRetake] = useState(false);
  const [mine, setMine] = useState<Assessment | null>(null);
  const [rec, setRec] = useState<Recommendation | null>(null);
  const current = mine ?? profile.data;
  const latest = rec ?? recs.data?.recommendations.find((r) => r.account_id === null) ?? null;
  const recommend = useAction(async () => {
    setRec(await api<Recommendation>("POST", "/api/v1/advisory/recommendations", { body: {} }));
  });
  const open = useAction(async (kind: string) => {
    const made = await api<Account>("POST", "/api/v1/portfolios", { body: { name: kind === "retirement" ? "Retirement account" : "My portfolio", tax_treatment: kind } });
    navigate(`/advice/${made.account_id}`);
  });
  return (
    <main class="page" data-testid="advice">
      <div class="page-head">
        <div>
          <h1>Advice</h1>
          <p class="muted">Your risk profile, an allocation built from real market history, and portfolios kept on target.</p>
        </div>
      </div>
      <Panel title="Risk profile" testId="profile-panel" actions={current && !retake && <Button kind="ghost" testId="retake" onClick={() => setRetake(true)}>Take it again</Button>}>
        {profile.loading && <p class="muted">Loading…</p>}
        {!profile.loading && (!current || retake) && (
          <Questionnaire onDone={(a) => { setMine(a); setRetake(false); setRec(null); }} onCancel={current ? () => setRetake(false) : undefined} />
        )}
        {current && !retake && (
          <div data-testid="profile" data-profile={current.profile}>
            <p><Badge tone="brand" testId="profile-name">{label(current.profile)}</Badge> <span class="muted">score {current.score} of 100 · horizon about {current.horizon_years} years · {label(current.strategy)} strategy</span></p>
            <p class="small">{PROFILE_TEXT[current.profile] ?? ""}</p>
          </div>
        )}
      </Panel>
      {current && !retake && (
        <Panel title="Recommended allocation" testId="recommendation-panel" actions={
          <Button busy={recommend.busy} testId="recommend" onClick={() => void recommend.run()}>{latest ? "Recalculate" : "Get my recommendation"}</Button>
        }>
          <ErrorNote error={recommend.error} />
          {recommend.busy && <p class="muted">Optimising on three years of daily prices…</p>}
          {!recommend.busy && latest && <RecommendationView rec={latest} />}
          {!recommend.busy && !latest && <Empty testId="no-recommendation">No recommendation yet.</Empty>}
        </Panel>
      )}
      <Panel title="My portfolios" testId="accounts-panel" actions={
        <span style={WRAP}>
          <Button kind="secondary" busy={open.busy} testId="open-taxable" onClick={() => void open.run("taxable")}>Open a taxable account</Button>{" "}
          <Button kind="ghost" busy={open.busy} testId="open-retirement" onClick={() => void open.run("retirement")}>Open a retirement account</Button>
        </span>
      }>
        <ErrorNote error={accounts.error ?? open.error} />
        {(accounts.data?.accounts ?? []).length === 0 && !accounts.loading && <Empty testId="no-accounts">No portfolio yet. A club's owner can also set up advice for the club from here once it has a policy.</Empty>}
        <ul class="rows" data-testid="account-list">
          {(accounts.data?.accounts ?? []).map((a) => (
            <li key={a.account_id}><a href={`/advice/${a.account_id}`} data-testid={`account-${a.account_id}`}>{a.name}</a> <Badge>{a.kind === "club" ? "Club" : label(a.tax_treatment ?? "personal")}</Badge></li>
          ))}
        </ul>
      </Panel>
      <StrategiesPanel accounts={accounts.data?.accounts ?? []} />
    </main>
  );
}

/** Buttons that wrap onto the next line on a phone instead of widening the page. */
const WRAP = { display: "flex", flexWrap: "wrap", gap: "0.5rem", alignItems: "center" } as const;

/** Advisors' model strategies: follow one with a portfolio, or book a consultation with its
 * advisor; my consultations with cancel. */
function StrategiesPanel({ accounts }: { accounts: Account[] }) {
  const list = useLoad(() => api<{ strategies: Strategy[] }>("GET", "/api/v1/strategies"), []);
  const bookings = useLoad(() => api<{ bookings: BookingOut[] }>("GET", "/api/v1/bookings"), []);
  const [open, setOpen] = useState<string | null>(null);
  const [slots, setSlots] = useState<Slot[] | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const own = accounts.filter((a) => a.kind === "personal");
  const [following, setFollowing] = useState<Record<string, string>>({});
  const follow = useAction(async (strategyId: string, accountId: string) => {
    await api<Account>("POST", `/api/v1/strategies/${strategyId}/followers`, { body: { account_id: accountId } });
    setFollowing((now) => ({ ...now, [accountId]: strategyId }));
    list.reload();
    setDone("Your portfolio now follows this strategy; its targets change when the advisor changes them.");
  });
  const follows = (accountId: string) => following[accountId] ?? accounts.find((a) => a.account_id === accountId)?.strategy_id ?? null;
  const showSlots = useAction(async (advisorId: string) => {
    setOpen(advisorId);
    setSlots((await api<{ slots: Slot[] }>("GET", `/api/v1/advisors/${advisorId}/slots`)).slots);
  });
  const book = useAction(async (slot: Slot) => {
    await api<BookingOut>("POST", `/api/v1/advisors/${slot.advisor_id}/bookings`, { body: { start: slot.start } });
    setDone(`Booked: ${when(slot.start)}. You will get a reminder a day before.`);
    setSlots(null);
    bookings.reload();
  });
  const cancel = useAction(async (id: string) => {
    await api<BookingOut>("POST", `/api/v1/bookings/${id}/cancel`);
    bookings.reload();
  });
  // Moving a consultation: the advisor's free times, then one call that frees the old time and
  // takes the new one together (POST /bookings/{id}/reschedule; a time taken meanwhile: 409).
  const [moving, setMoving] = useState<{ booking: BookingOut; slots: Slot[] } | null>(null);
  const showMoves = useAction(async (booking: BookingOut) => {
    setMoving({ booking, slots: (await api<{ slots: Slot[] }>("GET", `/api/v1/advisors/${booking.advisor_id}/slots`)).slots });
  });
  const move = useAction(async (bookingId: string, slot: Slot) => {
    try {
      await api<BookingOut>("POST", `/api/v1/bookings/${bookingId}/reschedule`, { body: { start: slot.start } });
    } finally {
      bookings.reload();
    }
    setMoving(null);
    setDone(`Moved to ${when(slot.start)}. The earlier time is free again.`);
  });
  const active = (bookings.data?.bookings ?? []).filter((b) => b.status === "booked");
  return (
    <Panel title="Advisors and strategies" testId="strategies-panel">
      <ErrorNote error={list.error ?? follow.error ?? showSlots.error ?? book.error ?? cancel.error ?? showMoves.error ?? move.error} />
      {done && <Notice tone="ok" testId="advisor-done">{done}</Notice>}
      {active.length > 0 && (
        <ul class="rows" data-testid="my-bookings">
          {active.map((b) => (
            <li key={b.id} data-testid={`booking-${b.id}`} data-start={b.start} style={{ display: "block" }}>
              <span style={WRAP}>Consultation {when(b.start)} ({b.minutes} min){b.advisor_name ? ` with ${b.advisor_name}` : ""} <Button kind="ghost" busy={showMoves.busy && moving === null} testId={`move-booking-${b.id}`} onClick={() => void showMoves.run(b)}>Move</Button> <Button kind="ghost" testId={`cancel-booking-${b.id}`} onClick={() => void cancel.run(b.id)}>Cancel</Button></span>
              {moving?.booking.id === b.id && (
                moving.slots.length === 0 ? <Empty testId="no-move-slots">No other free times right now.</Empty> : (
                  <span class="block" data-testid="move-slots" style={WRAP}>
                    <span class="small muted">Move to:</span>
                    {moving.slots.map((slot) => (
                      <span key={slot.start} style={{ maxWidth: "100%" }}><Button kind="secondary" testId={`move-to-${slot.start}`} busy={move.busy} onClick={() => void move.run(b.id, slot)}>{when(slot.start)}</Button></span>
                    ))}
                    <Button kind="ghost" testId="move-cancel" onClick={() => setMoving(null)}>Keep it</Button>
                  </span>
                )
              )}
            </li>
          ))}
        </ul>
      )}
      {(list.data?.strategies ?? []).length === 0 && !list.loading && <Empty testId="no-strategies">No advisor has published a strategy yet.</Empty>}
      <ul class="rows" data-testid="strategy-list">
        {(list.data?.strategies ?? []).map((st) => (
          <li key={st.id} data-testid={`strategy-${st.id}`} style={{ display: "block", overflowWrap: "anywhere" }}>
            <strong><a href={st.path || `/strategies/${st.id}`} data-testid={`strategy-link-${st.id}`}>{st.name}</a></strong> <span class="muted small">{st.advisor_name ? `by ${st.advisor_name} · ` : ""}{Object.entries(st.targets).map(([k, v]) => `${k} ${v}%`).join(" · ")} · <span data-testid={`followers-${st.id}`}>{st.followers} following</span></span>
            {st.description && <span class="muted small block">{st.description}</span>}
            <span class="block" style={WRAP}>
              {own.map((a) => follows(a.account_id) === st.id ? (
                <Badge key={a.account_id} tone="ok" testId={`following-${st.id}-${a.account_id}`}>{a.name} follows it</Badge>
              ) : (
                <Button key={a.account_id} kind="secondary" busy={follow.busy} testId={`follow-${st.id}-${a.account_id}`} onClick={() => void follow.run(st.id, a.account_id)}>Follow with {a.name}</Button>
              ))}{" "}
              <Button kind="ghost" busy={showSlots.busy && open === st.advisor_id} testId={`slots-${st.id}`} onClick={() => void showSlots.run(st.advisor_id)}>Book a consultation</Button>
            </span>
            {open === st.advisor_id && slots && (
              slots.length === 0 ? <Empty testId="no-slots">No free times right now.</Empty> : (
                <span class="block" data-testid="slots" style={WRAP}>
                  {slots.map((slot) => (
                    <span key={slot.start} style={{ maxWidth: "100%" }}><Button kind="ghost" testId={`slot-${slot.start}`} busy={book.busy} onClick={() => void book.run(slot)}>{when(slot.start)}</Button></span>
                  ))}
                </span>
              )
            )}
          </li>
        ))}
      </ul>
    </Panel>
  );
}

/** `/advice/:id`: one portfolio (a club's or one's own). */
function PortfolioPage({ accountId }: { accountId: string }) {
  const account = useLoad(() => api<Account>("GET", `/api/v1/portfolios/${accountId}`).catch((e) => {
    if ((e as { code?: string }).code === "advisory_account_not_found") return null;
    throw e;
  }), [accountId]);
  const [version, setVersion] = useState(0);
  const holdings = useLoad(() => api<Holdings>("GET", `/api/v1/portfolios/${accountId}/holdings`), [accountId, version]);
  const [run, setRun] = useState<Rebalance | null>(null);
  const runs = useLoad(() => api<{ runs: Rebalance[] }>("GET", `/api/v1/portfolios/${accountId}/rebalances`).catch(() => null), [accountId, version]);
  const club = useLoad(() => api<{ my_role: string; name: string; personal?: boolean }>("GET", `/api/v1/clubs/${accountId}`).catch(() => null), [accountId]);
  const role = club.data?.my_role ?? "";
  const manager = role === "owner" || role === "admin";
  const treasury = manager || role === "treasurer";
  const [drift, setDrift] = useState<string[] | null>(null);
  // The policy form stays mounted across reloads of the account (its saved notice with it).
  const [firstLoaded, setFirstLoaded] = useState(false);
  useEffect(() => { if (!account.loading) setFirstLoaded(true); }, [account.loading]);
  const [rec, setRec] = useState<Recommendation | null>(null);
  const history = useLoad(() => api<{ recommendations: Recommendation[] }>("GET", `/api/v1/portfolios/${accountId}/recommendations`).catch(() => null), [accountId]);
  const a = account.data;
  const shownRec = rec ?? (a?.recommendation_id ? history.data?.recommendations.find((r) => r.id === a.recommendation_id) ?? null : null);

  // The portfolio's room through the shared room log (roomlog.ts): the drift alert, order
  // changes, the members' vote and a run's progress (`portfolio:rebalance`) are in the room's
  // log, applied in seq order once each, and replayed after a reconnection or a `room:head`
  // ahead.
  useEffect(() => {
    const log = new RoomLog({
      room: `club:${accountId}`,
      join: async (after): Promise<CatchUp> => {
        const ack = await live.call<RoomJoined>("room:join", { club_id: accountId, ...(after === null ? {} : { after_seq: after }) });
        if (after !== null) setVersion((v) => v + 1);
        return after === null || ack.truncated ? { state: ack.seq } : { missed: ack.missed };
      },
      sync: async (after): Promise<CatchUp> => {
        const ack = await live.call<RoomJoined>("room:sync", { club_id: accountId, after_seq: after });
        if (ack.truncated) setVersion((v) => v + 1);
        return ack.truncated ? { state: ack.seq } : { missed: ack.missed };
      },
      apply: ({ event, data }) => {
        if (event === "portfolio:drift") {
          setDrift((data.symbols as string[] | undefined) ?? []);
          setVersion((v) => v + 1);
        } else if (event === "order:updated" || event === "proposal:closed" || event === "portfolio:rebalance") {
          // An order moved (a fill, a rejection), the vote on a rebalance closed or a run
          // moved on: price the holdings again and fetch the runs again.
          setVersion((v) => v + 1);
        }
      },
    });
    log.start();
    return () => {
      log.stop();
      void live.call("room:leave", { club_id: accountId }).catch(() => undefined);
    };
  }, [accountId]);

  const adopt = useAction(async () => {
    setRec(await api<Recommendation>("POST", "/api/v1/advisory/recommendations", { body: { account_id: accountId } }));
    account.reload();
    setVersion((v) => v + 1);
  });
  const preview = useAction(async (force: boolean) => {
    setRun(await api<Rebalance>("POST", `/api/v1/portfolios/${accountId}/rebalance`, { body: { force } }));
  });
  const execute = useAction(async () => {
    if (!run) return;
    setRun(await api<Rebalance>("POST", `/api/v1/portfolios/${accountId}/rebalance/${run.id}/execute`, { body: { voting_hours: 48 }, idempotencyKey: `rebalance-${run.id}` }));
    setVersion((v) => v + 1);
  });
  const send = useAction(async (id: string) => {
    setRun(await api<Rebalance>("POST", `/api/v1/portfolios/${accountId}/rebalance/${id}/send`, { idempotencyKey: `rebalance-send-${id}` }));
    setVersion((v) => v + 1);
  });
  // The run on screen: the one just previewed, or the newest one under way / done, as the
  // server has it now (it moves on as orders fill).
  const fresh = runs.data?.runs ?? [];
  const shownRun = run ? (fresh.find((r) => r.id === run.id) ?? run) : (fresh.find((r) => r.status !== "proposed") ?? null);
  const unfunded = holdings.data ? holdings.data.total === "0.00" : false;
  // A run under way is also fetched every few seconds (a live event can be missed: Socket.IO
  // is at most once), so its status and orders on screen always catch up.
  const moving = shownRun !== null && ["voting", "approved", "selling", "buying"].includes(shownRun.status);
  useEffect(() => {
    if (!moving) return undefined;
    const timer = window.setInterval(() => setVersion((v) => v + 1), 3000);
    return () => window.clearInterval(timer);
  }, [moving]);
  const c = holdings.data?.currency ?? a?.currency ?? "USD";
  const isClub = a?.kind === "club" || (!a && !account.loading);
  const hasTargets = Boolean(a && Object.keys(a.targets).length > 0);
  return (
    <main class="page" data-testid="portfolio" data-account={accountId}>
      <p class="crumbs"><a href="/advice">Advice</a> › {a?.name ?? "Club portfolio"}</p>
      <div class="page-head">
        <div>
          <h1>{a?.name ?? "Club portfolio"}</h1>
          {a && <p class="muted">{a.kind === "club" ? "Club portfolio" : `${label(a.tax_treatment ?? "")} account`} · bands ±{trim(a.band_pct)} points · at most {trim(a.max_weight_pct)}% in one holding{a.excluded.length ? ` · never ${a.excluded.join(", ")}` : ""}</p>}
        </div>
        <a class="btn btn-secondary" href={`/clubs/${accountId}`} data-testid="open-club-room">{isClub ? "Club room" : "Account room"}</a>
      </div>
      {!drift && holdings.data?.drifted && (
        <Notice tone="warn" testId="drift-now">Outside {holdings.data.holdings.filter((h) => h.outside_band).length === 1 ? "its band" : "their bands"}: {holdings.data.holdings.filter((h) => h.outside_band).map((h) => h.symbol).join(", ")}. Preview a rebalance below.</Notice>
      )}
      {drift && <Notice tone="warn" testId="drift-alert">Drift alert: {drift.join(", ")} moved outside {drift.length === 1 ? "its band" : "their bands"}. Preview a rebalance below.</Notice>}
      <ErrorNote error={account.error} />
      <Panel title="Target allocation" testId="targets-panel" actions={
        <Button busy={adopt.busy} testId="adopt" onClick={() => void adopt.run()}>{hasTargets ? "Recalculate targets" : "Recommend targets"}</Button>
      }>
        <ErrorNote error={adopt.error} />
        {adopt.busy && <p class="muted">Optimising on three years of daily prices…</p>}
        {shownRec && !adopt.busy && <RecommendationView rec={shownRec} />}
        {!shownRec && !hasTargets && <Empty testId="no-targets">No targets yet. They come from the risk profile of whoever sets them (a club's owner or admin).</Empty>}
      </Panel>
      <Panel title="Current vs target" testId="holdings-panel">
        <ErrorNote error={holdings.error} />
        {holdings.data && (
          <>
            <p class="small">Cash {money(holdings.data.cash, c)} · total {money(holdings.data.total, c)} {unfunded ? <Badge tone="warn" testId="no-cash">No cash to invest yet</Badge> : holdings.data.drifted ? <Badge tone="warn" testId="drifted">Outside its bands</Badge> : <Badge tone="ok" testId="on-target">On target</Badge>}</p>
            {unfunded && <Empty testId="no-cash-note">There is no cash to invest: nothing has been paid in yet. {isClub ? "Members' contributions" : "Money you pay in"} can be invested once it arrives.</Empty>}
            {holdings.data.holdings.length > 0 && (
              <div class="table-wrap">
                <table class="data" data-testid="holdings">
                  <thead><tr><th>Holding</th><th class="num">Value</th><th class="num">Now</th><th class="num">Target</th><th class="num">Drift</th></tr></thead>
                  <tbody>
                    {holdings.data.holdings.map((h) => (
                      <tr key={h.symbol} data-testid={`holding-${h.symbol}`} data-outside={String(h.outside_band)}>
                        <th scope="row"><span class="ticker">{h.symbol}</span> <span class="muted small block" data-testid={`shares-${h.symbol}`}>{h.quantity} shares</span>{h.fx_rate && h.native_price && <span class="muted small block" data-testid={`fx-${h.symbol}`} title="ECB reference rate">{money(h.native_price, h.currency ?? "USD")} × {h.fx_rate} ({h.fx_date})</span>}</th>
                        <td class="num">{money(h.value, c)}</td>
                        <td class="num">{pct(h.weight_pct)}</td>
                        <td class="num">{pct(h.target_pct)}</td>
                        <td class={`num ${h.outside_band ? "down" : ""}`} title="percentage points">{h.drift_pct}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </>
        )}
      </Panel>
      {hasTargets && (
        <Panel title="Rebalance" testId="rebalance-panel" actions={
          <>
            <Button kind="secondary" busy={preview.busy} testId="rebalance-preview" onClick={() => void preview.run(false)}>Preview trades</Button>{" "}
            <Button kind="ghost" busy={preview.busy} testId="rebalance-force" onClick={() => void preview.run(true)}>Towards targets anyway</Button>
          </>
        }>
          <ErrorNote error={preview.error ?? execute.error ?? send.error} />
          {!shownRun && !unfunded && <p class="muted small">Trades in whole shares that bring every holding back inside its band with the least trading, within the cash available (orders already waiting count), after fees.</p>}
          {!shownRun && unfunded && <Empty testId="no-cash-trades">No cash to invest, so nothing to trade yet.</Empty>}
          {shownRun && shownRun.trades.length === 0 && <Empty testId="no-trades">Nothing to trade: every holding is inside its band (orders already waiting included).</Empty>}
          {shownRun && shownRun.trades.length > 0 && (
            <>
              <div class="table-wrap">
                <table class="data" data-testid="trades">
                  <thead><tr><th>Trade</th><th class="num">Price</th><th class="num">Value</th><th class="num">Fee</th></tr></thead>
                  <tbody>
                    {shownRun.trades.map((t) => (
                      <tr key={t.symbol} data-testid={`trade-${t.symbol}`} data-side={t.side}>
                        <th scope="row"><span class={t.side === "buy" ? "up" : "down"}>{label(t.side)}</span> {t.quantity} <span class="ticker">{t.symbol}</span>{t.limit_price && <span class="muted small block">limit {money(t.limit_price, c)}</span>}</th>
                        <td class="num">{money(t.price, c)}</td>
                        <td class="num">{money(t.value, c)}</td>
                        <td class="num">{money(t.fee, c)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <p class="small">Cash {money(shownRun.cash_before, c)} → {money(shownRun.cash_after, c)} · traded {money(shownRun.turnover, c)} · fees {money(shownRun.fees, c)} {shownRun.inside_bands ? <Badge tone="ok">All inside the bands</Badge> : <Badge tone="warn">Whole shares leave some outside</Badge>}</p>
              {shownRun.status === "proposed" && manager && (
                <Button busy={execute.busy} testId="rebalance-execute" onClick={() => void execute.run()}>
                  {isClub ? "Propose these trades to the club" : "Place these orders"}
                </Button>
              )}
              {shownRun.status !== "proposed" && (
                <Notice tone={["failed", "rejected", "partial"].includes(shownRun.status) ? "warn" : "ok"} testId="run-status">
                  <span data-testid="run-state" data-status={shownRun.status}>{RUN_TEXT[shownRun.status] ?? label(shownRun.status)}</span>
                  {shownRun.status === "voting" && <> <a href={`/clubs/${accountId}`} data-testid="rebalance-proposed">Vote in the club room</a></>}
                  {shownRun.order_ids.length > 0 && <span class="block small" data-testid="rebalance-ordered">{shownRun.order_ids.length} {shownRun.order_ids.length === 1 ? "order was" : "orders were"} sent to the broker ({shownRun.sell_order_ids.length} sales, {shownRun.buy_order_ids.length} buys so far).</span>}
                  {shownRun.note && <span class="block small" data-testid="run-note">{shownRun.note}</span>}
                </Notice>
              )}
              {shownRun.status === "approved" && treasury && (
                <Button busy={send.busy} testId="rebalance-send" onClick={() => void send.run(shownRun.id)}>Send the orders to the broker</Button>
              )}
            </>
          )}
        </Panel>
      )}
      {manager && (a || firstLoaded) && <PolicyPanel account={a ?? newClubAccount(accountId, club.data?.name ?? "Club portfolio")} onSaved={() => { account.reload(); setVersion((v) => v + 1); }} />}
      {a && <AccountOrders accountId={accountId} currency={c} version={version} />}
      {hasTargets && <PerformancePanel accountId={accountId} />}
      {a?.kind === "personal" && a.tax_treatment === "taxable" && <TaxLossPanel accountId={accountId} currency={c} />}
    </main>
  );
}

/** A club's policy before its first save (the server's defaults; saving opens the account). */
function newClubAccount(accountId: string, name: string): Account {
  return {
    account_id: accountId, kind: "club", name, currency: "USD", tax_treatment: null, targets: {},
    recommendation_id: null, band_pct: "5.00", min_trade: "0.00", excluded: [], max_weight_pct: "25.00",
    wash_sale_days: 30, risk_profile: null, strategy_id: null,
  };
}

/** The investment policy (a club's owner/admin, or the account's owner): bands, maximum weight
 * per holding, excluded symbols, minimum trade, and a club's own risk profile. Only what changed
 * is sent (PATCH); the targets shown above are re-derived under it by the server. */
function PolicyPanel({ account, onSaved }: { account: Account; onSaved: () => void }) {
  const [band, setBand] = useState(trim(account.band_pct));
  const [maxWeight, setMaxWeight] = useState(trim(account.max_weight_pct));
  const [excluded, setExcluded] = useState(account.excluded.join(", "));
  const [minTrade, setMinTrade] = useState(account.min_trade);
  const [profile, setProfile] = useState(account.risk_profile ?? "");
  const [saved, setSaved] = useState(false);
  const bps = (text: string) => Math.round(Number(text) * 100);
  const save = useAction(async () => {
    setSaved(false);
    const body: Record<string, unknown> = {};
    if (bps(band) !== bps(account.band_pct)) body.band_bps = bps(band);
    if (bps(maxWeight) !== bps(account.max_weight_pct)) body.max_weight_bps = bps(maxWeight);
    const symbols = excluded.split(/[\s,]+/).map((x) => x.trim().toUpperCase()).filter(Boolean);
    if (symbols.join(",") !== account.excluded.join(",")) body.excluded = symbols;
    if (minTrade !== account.min_trade) body.min_trade = minTrade;
    if (account.kind === "club" && profile && profile !== (account.risk_profile ?? "")) body.risk_profile = profile;
    await api<Account>("PATCH", `/api/v1/portfolios/${account.account_id}/policy`, { body });
    setSaved(true);
    onSaved();
  });
  return (
    <Panel title="Investment policy" testId="policy-panel">
      <form class="form" data-testid="policy-form" onSubmit={(e) => { e.preventDefault(); void save.run(); }}>
        <ErrorNote error={save.error} />
        {saved && <Notice tone="ok" testId="policy-saved">Policy saved; the targets follow it.</Notice>}
        <div style={WRAP}>
          <label class="field"><span class="field-label">Band (± points)</span>
            <input inputMode="decimal" value={band} data-testid="policy-band" onInput={(e) => setBand(e.currentTarget.value)} /></label>
          <label class="field"><span class="field-label">Most in one holding (%)</span>
            <input inputMode="decimal" value={maxWeight} data-testid="policy-max-weight" onInput={(e) => setMaxWeight(e.currentTarget.value)} /></label>
          <label class="field"><span class="field-label">Smallest trade</span>
            <input inputMode="decimal" value={minTrade} data-testid="policy-min-trade" onInput={(e) => setMinTrade(e.currentTarget.value)} /></label>
        </div>
        <label class="field"><span class="field-label">Never hold (symbols, comma-separated)</span>
          <input value={excluded} data-testid="policy-excluded" placeholder="e.g. XOM, RRC" onInput={(e) => setExcluded(e.currentTarget.value)} /></label>
        {account.kind === "club" && (
          <label class="field"><span class="field-label">The club's risk profile (its targets come from this, not from anyone's own)</span>
            <select value={profile} data-testid="policy-profile" onChange={(e) => setProfile(e.currentTarget.value)}>
              <option value="">Moderate (default)</option>
              <option value="conservative">Conservative</option>
              <option value="moderate">Moderate</option>
              <option value="aggressive">Aggressive</option>
            </select></label>
        )}
        <div class="form-actions"><Button type="submit" busy={save.busy} testId="policy-save">Save the policy</Button></div>
      </form>
    </Panel>
  );
}

const ORDER_STATUS: Record<string, string> = {
  awaiting_execution: "Waiting", submitted: "Sent", accepted: "Working", partially_filled: "Part filled",
  filled: "Filled", cancelled: "Cancelled", rejected: "Rejected",
};

/** A personal account's orders, their status updated live from the account's room (the paper
 * broker fills them on the market's ticks). */
export function AccountOrders({ accountId, currency, version }: { accountId: string; currency: string; version: number }) {
  const listed = useLoad(() => api<{ orders: Order[] }>("GET", `/api/v1/clubs/${accountId}/orders`), [accountId, version]);
  const [changed, setChanged] = useState<Record<string, Order>>({});
  useEffect(() => live.on("order:updated", (data) => {
    const order = (data as { order?: Order }).order;
    if (order && order.club_id === accountId) setChanged((now) => ({ ...now, [order.id]: order }));
  }), [accountId]);
  const known = new Map((listed.data?.orders ?? []).map((o) => [o.id, o]));
  // A live copy wins only when it is not older than the list (loaded again after a catch-up).
  for (const o of Object.values(changed)) {
    const listedNow = known.get(o.id);
    if (!listedNow || listedNow.updated_at <= o.updated_at) known.set(o.id, o);
  }
  const orders = [...known.values()].sort((x, y) => y.created_at.localeCompare(x.created_at));
  if (!listed.data && !listed.error) return null;
  return (
    <Panel title="Orders" testId="account-orders">
      <ErrorNote error={listed.error} />
      {orders.length === 0 && <Empty testId="no-orders">No orders yet. Placing a rebalance's trades sends them to the broker.</Empty>}
      {orders.length > 0 && (
        <div class="table-wrap">
          <table class="data" data-testid="orders">
            <thead><tr><th>Order</th><th class="num">Filled</th><th class="num">Average price</th><th>Status</th></tr></thead>
            <tbody>
              {orders.map((o) => (
                <tr key={o.id} data-testid={`order-${o.symbol}`} data-status={o.status}>
                  <th scope="row"><span class={o.side === "buy" ? "up" : "down"}>{label(o.side)}</span> {o.quantity} <span class="ticker">{o.symbol}</span>{o.limit_price && <span class="muted small block">limit {money(o.limit_price, currency)}</span>}</th>
                  <td class="num">{o.filled_quantity}</td>
                  <td class="num">{o.average_price ? money(o.average_price, currency) : "—"}</td>
                  <td><Badge tone={o.status === "filled" ? "ok" : o.status === "rejected" || o.status === "cancelled" ? "bad" : "neutral"}>{ORDER_STATUS[o.status] ?? label(o.status)}</Badge></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Panel>
  );
}

/** The performance periods the API takes (app/advisory/service.py PERIODS), as shown. */
const PERIODS: [string, string][] = [["1M", "1M"], ["3M", "3M"], ["6M", "6M"], ["1Y", "1Y"], ["start", "Since start"]];

function PerformancePanel({ accountId }: { accountId: string }) {
  const [period, setPeriod] = useState("1Y");
  const perf = useLoad(() => api<Performance>("GET", `/api/v1/portfolios/${accountId}/performance?benchmark=SP500&period=${period}`), [accountId, period]);
  const p = perf.data;
  const choose = (
    <div class="segmented" role="group" aria-label="Period" data-testid="performance-periods" style={{ display: "flex", flexWrap: "wrap", gap: "4px" }}>
      {PERIODS.map(([value, text]) => (
        <button key={value} type="button" class={`btn btn-small ${value === period ? "btn-primary" : "btn-ghost"}`} aria-pressed={value === period} data-testid={`period-${value}`} onClick={() => setPeriod(value)}>{text}</button>
      ))}
    </div>
  );
  const rows: [string, string, string | null | undefined, string | null | undefined][] = p ? [
    ["twr", "Time-weighted return", pct(p.twr_pct), pct(p.benchmark_twr_pct)],
    ["volatility", "Volatility (a year)", pct(p.portfolio.volatility_pct), pct(p.benchmark_figures.volatility_pct)],
    ["sharpe", "Sharpe", p.portfolio.sharpe ?? "—", p.benchmark_figures.sharpe ?? "—"],
    ["sortino", "Sortino", p.portfolio.sortino ?? "—", p.benchmark_figures.sortino ?? "—"],
    ["drawdown", "Maximum drawdown", pct(p.portfolio.max_drawdown_pct), pct(p.benchmark_figures.max_drawdown_pct)],
    ["beta", "Beta", p.beta ?? "—", "1.00"],
  ] : [];
  return (
    <Panel title="Performance against the S&P 500" testId="performance-panel" actions={choose}>
      <ErrorNote error={perf.error} />
      {perf.loading && <p class="muted small">Computing…</p>}
      {p && (
        <div data-testid="performance-period" data-period={p.period ?? ""} data-start={p.start} data-end={p.end}>
          <p class="small muted">Backtest of the target mix, {p.start} to {p.end}: time-weighted return <strong data-testid="twr">{pct(p.twr_pct)}</strong> against {pct(p.benchmark_twr_pct)} · beta {p.beta}</p>
          <GrowthChart perf={p} />
          <div class="table-wrap">
            <table class="data" data-testid="performance-table">
              <thead><tr><th>Measure</th><th class="num">Target mix</th><th class="num">S&amp;P 500</th></tr></thead>
              <tbody>
                {rows.map(([key, name, mine, bench]) => (
                  <tr key={key}><th scope="row">{name}</th><td class="num" data-testid={`perf-${key}`}>{mine}</td><td class="num" data-testid={`perf-bench-${key}`}>{bench}</td></tr>
                ))}
              </tbody>
            </table>
          </div>
          <FiguresRow figures={p.portfolio} testId="performance-figures" />
        </div>
      )}
    </Panel>
  );
}

function TaxLossPanel({ accountId, currency }: { accountId: string; currency: string }) {
  const me = useStore(session.me);
  const found = useLoad(async () => {
    if (!me) return null;
    return api<{ wash_sale_days: number; opportunities: Opportunity[] }>("GET", `/api/v1/users/${me.id}/tax-loss-opportunities`);
  }, [me?.id]);
  const mine = (found.data?.opportunities ?? []).filter((o) => o.account_id === accountId);
  return (
    <Panel title="Tax-loss harvesting" testId="tax-loss-panel">
      <ErrorNote error={found.error} />
      {found.data && mine.length === 0 && <Empty testId="no-tax-loss">No holding is below what it cost.</Empty>}
      {mine.length > 0 && (
        <div class="table-wrap">
          <table class="data" data-testid="tax-loss">
            <thead><tr><th>Holding</th><th class="num">Loss</th><th>Replace with</th></tr></thead>
            <tbody>
              {mine.map((o) => (
                <tr key={o.symbol} data-testid={`harvest-${o.symbol}`}>
                  <th scope="row" style={{ whiteSpace: "normal" }}><span class="ticker">{o.symbol}</span> <span class="muted small block">{o.quantity} shares in {o.lots.length} {o.lots.length === 1 ? "lot" : "lots"} · {o.sector}</span>
                    <span class="small block" data-testid={`wash-${o.symbol}`}>{o.blocked_until ? `Wait until ${o.blocked_until} (bought within ${found.data?.wash_sale_days ?? 30} days)` : "Can sell now"}</span></th>
                  <td class="num">{money(o.harvestable_loss, currency)}</td>
                  <td style={{ whiteSpace: "normal" }} data-testid={`replacement-${o.symbol}`}>{o.replacement ? <><span class="ticker">{o.replacement}</span> <span class="muted small block">correlation {o.correlation}</span></> : "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Panel>
  );
}

export default function AdviceScreen({ accountId }: { accountId?: string }) {
  return accountId ? <PortfolioPage key={accountId} accountId={accountId} /> : <AdviceHome />;
}

