/**
 * The advisor's desk (`/advisor`, a verified advisor): consultation times offered (add, withdraw
 * a free one), the consultations booked in them (the client's name, cancel), and model
 * strategies (draft, edit name/description/allocation, publish; the public page's link).
 * And the public page of one strategy (`/strategies/<name>-<id>`, no sign-in needed): its
 * allocation, a one-year backtest against the S&P 500, and the disclaimer.
 * Weights are the API's percentage strings; typed percentages become basis points exactly
 * (two decimals, no floating point).
 */
import { useEffect, useState } from "preact/hooks";
import { errorOf } from "../api.ts";
import { onFeed, onFeedReset } from "../feed.ts";
import { api, session } from "../session.ts";
import { useStore } from "../store.ts";
import { Badge, Button, Empty, ErrorNote, Field, Notice, Panel, useAction, useLoad } from "../ui.tsx";
import { FiguresRow, GrowthChart, type BookingOut, type Strategy } from "./advice.tsx";

interface MySlot { id: string; advisor_id: string; start: string; minutes: number; booking: BookingOut | null }

const WRAP = { display: "flex", flexWrap: "wrap", gap: "0.5rem", alignItems: "center" } as const;
const GROW = { flex: "1 1 12rem", minWidth: 0 } as const;

/** A day and time; the year too when it is not this year's (a far date must not look near). */
const when = (iso: string) => {
  const d = new Date(iso);
  const year = d.getFullYear() === new Date().getFullYear() ? undefined : "numeric";
  return d.toLocaleString(undefined, { weekday: "short", day: "numeric", month: "short", year, hour: "2-digit", minute: "2-digit" });
};

/** "12.5" → 1250 basis points; null when it is not a percentage with at most two decimals. */
export function percentToBps(text: string): number | null {
  const m = /^\s*(\d{1,3})(?:[.,](\d{1,2}))?\s*%?\s*$/.exec(text);
  if (!m) return null;
  const whole = Number.parseInt(m[1] ?? "0", 10);
  const cents = Number.parseInt(((m[2] ?? "") + "00").slice(0, 2), 10);
  return whole * 100 + cents;
}

/** Basis points → "12.5" (the form's text). */
const bpsText = (bps: number) => `${Math.trunc(bps / 100)}${bps % 100 ? `.${String(bps % 100).padStart(2, "0").replace(/0$/, "")}` : ""}`;

/** "12.50" (the API's percent) → basis points. */
const apiPercentToBps = (text: string) => percentToBps(text) ?? 0;

export default function AdvisorDesk() {
  return (
    <main class="page" data-testid="advisor-desk">
      <div class="page-head">
        <div>
          <h1>Advisor's desk</h1>
          <p class="muted">Times you offer for consultations, who booked them, and the model strategies you publish.</p>
        </div>
      </div>
      <SlotsPanel />
      <StrategiesEditor />
    </main>
  );
}

function SlotsPanel() {
  const slots = useLoad(() => api<{ slots: MySlot[] }>("GET", "/api/v1/advisors/me/slots"), []);
  const [start, setStart] = useState("");
  const [minutes, setMinutes] = useState("30");
  const add = useAction(async () => {
    const moment = new Date(start);
    if (!start || Number.isNaN(moment.getTime())) throw new Error("Pick a day and time for the consultation.");
    await api("POST", "/api/v1/advisors/me/slots", { body: { starts: [moment.toISOString()], minutes: Number.parseInt(minutes, 10) } });
    setStart("");
    slots.reload();
  });
  const remove = useAction(async (id: string) => {
    await api("DELETE", `/api/v1/advisors/me/slots/${id}`);
    slots.reload();
  });
  const cancel = useAction(async (bookingId: string) => {
    await api("POST", `/api/v1/bookings/${bookingId}/cancel`);
    slots.reload();
  });
  // A client books, cancels or moves a consultation: the desk shows it at once, and after a
  // reconnection (the person's own log, feed.ts, replays what was missed).
  useEffect(() => {
    const offBooking = onFeed("advisory:booking", () => slots.reload());
    const offReset = onFeedReset(() => slots.reload());
    return () => {
      offBooking();
      offReset();
    };
  }, []);
  const list = slots.data?.slots ?? [];
  const booked = list.filter((s) => s.booking);
  // The operator's staff may go from the person to their CRM record (if it is in their book).
  const me = useStore(session.me);
  const crmStaff = Boolean(me?.roles.some((r) => r === "crm_agent" || r === "crm_manager" || r === "admin"));
  return (
    <Panel title="Consultation times" testId="slots-panel">
      <ErrorNote error={slots.error ?? add.error ?? remove.error ?? cancel.error} />
      <form style={{ ...WRAP, alignItems: "flex-end" }} onSubmit={(e) => { e.preventDefault(); void add.run(); }}>
        <div style={GROW}>
          <Field label="Starts at (your time)" type="datetime-local" testId="slot-start" style={{ minWidth: 0, maxWidth: "100%" }} value={start} onInput={(e) => setStart((e.currentTarget as HTMLInputElement).value)} />
        </div>
        <div style={GROW}>
          <label class="field">
            <span class="field-label">Length</span>
            <select data-testid="slot-minutes" value={minutes} onChange={(e) => setMinutes((e.currentTarget as HTMLSelectElement).value)}>
              {["15", "30", "45", "60", "90"].map((m) => <option key={m} value={m}>{m} minutes</option>)}
            </select>
          </label>
        </div>
        <Button type="submit" busy={add.busy} testId="slot-add">Offer this time</Button>
      </form>
      <p class="small muted" data-testid="slots-summary">{list.length} upcoming {list.length === 1 ? "time" : "times"} · {booked.length} booked</p>
      {list.length === 0 && !slots.loading && <Empty testId="no-my-slots">No upcoming times. Offer one above; members book them from Advice.</Empty>}
      {list.length > 0 && (
        <ul class="rows" data-testid="my-slots">
          {list.map((s) => (
            <li key={s.id} data-testid={`my-slot-${s.id}`} data-booked={s.booking ? "true" : "false"} style={{ ...WRAP, justifyContent: "flex-start" }}>
              <span style={{ flex: "1 1 12rem" }}><strong>{when(s.start)}</strong> <span class="muted small">{s.minutes} min</span></span>
              {s.booking ? (
                <>
                  <Badge tone="brand" testId={`slot-client-${s.id}`}>Booked by {s.booking.client_name ?? "a member"}</Badge>
                  <a class="small" href={`/advisor/clients/${s.booking.client_id}`} data-testid={`slot-profile-${s.id}`}>Profile and portfolios</a>
                  {crmStaff && <a class="small" href={`/crm/people/${s.booking.client_id}`} data-testid={`slot-crm-${s.id}`}>CRM record</a>}
                  <Button kind="ghost" busy={cancel.busy} testId={`slot-cancel-${s.id}`} onClick={() => void cancel.run(s.booking?.id ?? "")}>Cancel the consultation</Button>
                </>
              ) : (
                <>
                  <Badge tone="ok">Free</Badge>
                  <Button kind="ghost" busy={remove.busy} testId={`slot-remove-${s.id}`} onClick={() => void remove.run(s.id)}>Withdraw</Button>
                </>
              )}
            </li>
          ))}
        </ul>
      )}
    </Panel>
  );
}

interface Row { symbol: string; percent: string }
interface Draft { id: string | null; name: string; description: string; rows: Row[] }

const EMPTY: Draft = { id: null, name: "", description: "", rows: [{ symbol: "", percent: "" }, { symbol: "", percent: "" }] };

function StrategiesEditor() {
  const mine = useLoad(() => api<{ strategies: Strategy[] }>("GET", "/api/v1/advisors/me/strategies"), []);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const rows = draft?.rows ?? [];
  const filled = rows.filter((r) => r.symbol.trim() || r.percent.trim());
  const parsed = filled.map((r) => percentToBps(r.percent));
  const total = parsed.reduce<number>((sum, b) => sum + (b ?? 0), 0);
  const save = useAction(async (publish: boolean) => {
    if (!draft) return;
    if (parsed.some((b) => b === null || b <= 0)) throw new Error("Give every holding a percentage above zero, with at most two decimals.");
    if (total !== 10_000) throw new Error(`The weights add up to ${bpsText(total)}%; they must make 100%.`);
    const targets = Object.fromEntries(filled.map((r, i) => [r.symbol.trim().toUpperCase(), parsed[i] ?? 0]));
    if (draft.id) {
      await api<Strategy>("PUT", `/api/v1/strategies/${draft.id}`, { body: { name: draft.name, description: draft.description, targets } });
      setDone(`Saved “${draft.name}”.`);
    } else {
      await api<Strategy>("POST", "/api/v1/strategies", { body: { name: draft.name, description: draft.description, targets, publish } });
      setDone(publish ? `Published “${draft.name}”.` : `Saved “${draft.name}” as a draft: only you see it until you publish it.`);
    }
    setDraft(null);
    mine.reload();
  });
  const publish = useAction(async (s: Strategy) => {
    await api<Strategy>("POST", `/api/v1/strategies/${s.id}/publish`);
    setDone(`Published “${s.name}”: members can follow it now.`);
    mine.reload();
  });
  const edit = (s: Strategy) => {
    setDone(null);
    setDraft({ id: s.id, name: s.name, description: s.description, rows: Object.entries(s.targets).map(([symbol, pct]) => ({ symbol, percent: bpsText(apiPercentToBps(pct)) })) });
  };
  const setRow = (i: number, change: Partial<Row>) => draft && setDraft({ ...draft, rows: rows.map((r, j) => (j === i ? { ...r, ...change } : r)) });
  return (
    <Panel title="Model strategies" testId="my-strategies-panel" actions={!draft && <Button kind="secondary" testId="strategy-new" onClick={() => { setDone(null); setDraft({ ...EMPTY, rows: EMPTY.rows.map((r) => ({ ...r })) }); }}>New strategy</Button>}>
      <ErrorNote error={mine.error ?? publish.error} />
      {done && <Notice tone="ok" testId="strategy-done">{done}</Notice>}
      {draft && (
        <form class="form" data-testid="strategy-form" onSubmit={(e) => { e.preventDefault(); void save.run(false); }}>
          <ErrorNote error={save.error} testId="strategy-error" />
          <Field label="Name" testId="strategy-name" value={draft.name} required minLength={3} maxLength={80} onInput={(e) => setDraft({ ...draft, name: (e.currentTarget as HTMLInputElement).value })} />
          <label class="field">
            <span class="field-label">Description</span>
            <textarea data-testid="strategy-description" rows={2} maxLength={2000} value={draft.description} onInput={(e) => setDraft({ ...draft, description: (e.currentTarget as HTMLTextAreaElement).value })} />
          </label>
          <fieldset class="field">
            <legend class="field-label">Allocation (percent of the portfolio)</legend>
            {rows.map((r, i) => (
              <div key={i} style={WRAP} data-testid={`strategy-row-${i}`}>
                <input aria-label="Symbol" placeholder="Symbol, e.g. KO" style={{ width: "9rem" }} value={r.symbol} data-testid={`strategy-symbol-${i}`} onInput={(e) => setRow(i, { symbol: (e.currentTarget as HTMLInputElement).value })} />
                <input aria-label="Percent" placeholder="%" inputMode="decimal" style={{ width: "5.5rem" }} value={r.percent} data-testid={`strategy-percent-${i}`} onInput={(e) => setRow(i, { percent: (e.currentTarget as HTMLInputElement).value })} />
                {rows.length > 1 && <Button kind="ghost" type="button" testId={`strategy-row-remove-${i}`} onClick={() => setDraft({ ...draft, rows: rows.filter((_, j) => j !== i) })}>Remove</Button>}
              </div>
            ))}
            <span style={WRAP}>
              <Button kind="ghost" type="button" testId="strategy-row-add" onClick={() => setDraft({ ...draft, rows: [...rows, { symbol: "", percent: "" }] })}>Add a holding</Button>
              <span class={`small ${total === 10_000 ? "" : "muted"}`} data-testid="strategy-total">Total {bpsText(total)}%</span>
            </span>
          </fieldset>
          <div class="form-actions" style={WRAP}>
            {draft.id ? (
              <Button type="submit" busy={save.busy} testId="strategy-save">Save changes</Button>
            ) : (
              <>
                <Button type="submit" kind="secondary" busy={save.busy} testId="strategy-save-draft">Save as draft</Button>
                <Button type="button" busy={save.busy} testId="strategy-publish-now" onClick={() => void save.run(true)}>Publish</Button>
              </>
            )}
            <Button kind="ghost" type="button" testId="strategy-cancel" onClick={() => setDraft(null)}>Cancel</Button>
          </div>
          {draft.id && <p class="small muted">New weights reach every portfolio that follows this strategy, and their owners are told.</p>}
        </form>
      )}
      {(mine.data?.strategies ?? []).length === 0 && !mine.loading && !draft && <Empty testId="no-my-strategies">No strategies yet. A published one can be followed by members' portfolios.</Empty>}
      <ul class="rows" data-testid="my-strategies">
        {(mine.data?.strategies ?? []).map((s) => (
          <li key={s.id} data-testid={`my-strategy-${s.id}`} data-published={String(s.published)}>
            <div style={{ overflowWrap: "anywhere", flex: "1 1 auto" }}>
            <strong>{s.name}</strong> {s.published ? <Badge tone="ok">Published</Badge> : <Badge tone="warn">Draft</Badge>} <span class="muted small">version {s.version} · {s.followers} following</span>
            <span class="muted small block" data-testid={`my-strategy-targets-${s.id}`}>{Object.entries(s.targets).map(([k, v]) => `${k} ${v}%`).join(" · ")}</span>
            <span class="block" style={WRAP}>
              <Button kind="ghost" testId={`strategy-edit-${s.id}`} onClick={() => edit(s)}>Edit</Button>
              {!s.published && <Button kind="secondary" busy={publish.busy} testId={`strategy-publish-${s.id}`} onClick={() => void publish.run(s)}>Publish</Button>}
              {s.published && <a href={s.path} data-testid={`strategy-page-${s.id}`}>Public page</a>}
            </span>
            </div>
          </li>
        ))}
      </ul>
    </Panel>
  );
}

/** The strategy id at the end of `/strategies/<words>-<id>` (or the whole segment). */
export function strategyIdOf(segment: string): string {
  const m = /([0-9a-f]{24})$/i.exec(segment);
  return m?.[1] ?? segment;
}

/** `/strategies/:slug`: a published strategy's public page, readable without signing in. */
export function StrategyPage({ slug }: { slug: string }) {
  const id = strategyIdOf(slug);
  // Public: read without a token, so it works signed out (and for search engines' renderers).
  const found = useLoad(async () => {
    const response = await fetch(`/api/v1/strategies/${encodeURIComponent(id)}`, { headers: { Accept: "application/json" } });
    if (!response.ok) throw await errorOf(response);
    return (await response.json()) as Strategy;
  }, [id]);
  const s = found.data;
  useEffect(() => {
    if (!s) return;
    document.title = `${s.name} — model strategy · Samooh`;
    let meta = document.querySelector<HTMLMetaElement>('meta[name="description"]');
    if (!meta) {
      meta = document.createElement("meta");
      meta.name = "description";
      document.head.appendChild(meta);
    }
    meta.content = `${s.name}: ${Object.entries(s.targets).map(([k, v]) => `${k} ${v}%`).join(", ")}. ${s.description}`.slice(0, 300);
    if (s.path && window.location.pathname !== s.path) history.replaceState(history.state, "", s.path);
  }, [s?.id, s?.name]);
  const weights = s ? Object.entries(s.targets).sort((a, b) => apiPercentToBps(b[1]) - apiPercentToBps(a[1])) : [];
  const p = s?.performance ?? null;
  return (
    <main class="page" data-testid="strategy-page" data-strategy={id}>
      <p class="crumbs"><a href="/advice">Advice</a> › Model strategies</p>
      <ErrorNote error={found.error} />
      {found.loading && <p class="muted">Loading…</p>}
      {s && (
        <>
          <div class="page-head">
            <div>
              <h1 data-testid="strategy-title">{s.name}</h1>
              <p class="muted">A model strategy{s.advisor_name ? ` by ${s.advisor_name}` : ""} · version {s.version} · {s.followers} {s.followers === 1 ? "portfolio follows" : "portfolios follow"} it</p>
              {s.description && <p data-testid="strategy-description-text">{s.description}</p>}
            </div>
            <a class="btn btn-primary" href="/advice" data-testid="strategy-follow-cta">Follow it from Advice</a>
          </div>
          <Panel title="Allocation" testId="strategy-allocation">
            <div class="table-wrap">
              <table class="data">
                <thead><tr><th>Holding</th><th class="num">Weight</th></tr></thead>
                <tbody>
                  {weights.map(([symbol, pct]) => (
                    <tr key={symbol} data-testid={`strategy-weight-${symbol}`}><th scope="row"><span class="ticker">{symbol}</span></th><td class="num">{pct}%</td></tr>
                  ))}
                </tbody>
              </table>
            </div>
          </Panel>
          {p && (
            <Panel title={`Backtest against the ${p.benchmark === "SP500" ? "S&P 500" : p.benchmark}`} testId="strategy-backtest">
              <p class="small muted">The allocation rebalanced daily on real prices, {p.start} to {p.end}: time-weighted return <strong data-testid="strategy-twr">{p.twr_pct ?? "—"}%</strong> against {p.benchmark_twr_pct ?? "—"}% · beta {p.beta ?? "—"}</p>
              <GrowthChart perf={p} />
              <FiguresRow figures={p.portfolio} testId="strategy-figures" />
            </Panel>
          )}
          <p class="small muted" data-testid="strategy-disclaimer">
            Past performance does not guarantee future results. This backtest applies today's allocation to past prices, without fees or taxes; it is
            not a recommendation to buy or sell any security, and it does not take your circumstances into account. Take the risk questionnaire under
            Advice, or book a consultation with an advisor, before you invest.
          </p>
        </>
      )}
    </main>
  );
}


interface ClientAccount { account_id: string; kind: string; name: string; currency: string; tax_treatment: string | null; targets: Record<string, string>; band_pct: string; max_weight_pct: string }
interface ClientView {
  client_id: string;
  name: string | null;
  profile: { score: number; profile: string; horizon_years: number; strategy: string; taken_at: string; answers: Record<string, string> } | null;
  accounts: ClientAccount[];
}

/** `/advisor/clients/<id>`: what an advisor may see of a client while a consultation with them
 * is booked — the risk profile and the portfolios' targets (GET /advisory/clients/{id}); not
 * engaged, the API's 404 is told in words. */
export function ClientProfilePage({ clientId }: { clientId: string }) {
  const view = useLoad(() => api<ClientView>("GET", `/api/v1/advisory/clients/${clientId}`), [clientId]);
  const v = view.data;
  return (
    <main class="page" data-testid="advisor-client" data-client={clientId}>
      <p class="crumbs"><a href="/advisor">Advisor's desk</a> ›</p>
      <h1 data-testid="client-name">{view.data?.name ?? "Client profile"}</h1>
      <ErrorNote error={view.error} testId="advisor-client-error" />
      {v && (
        <>
          <Panel title="Risk profile" testId="client-profile">
            {v.profile ? (
              <p data-testid="client-risk" data-profile={v.profile.profile}>
                <strong>{v.profile.profile[0]?.toUpperCase()}{v.profile.profile.slice(1)}</strong> · score {v.profile.score} of 100 · horizon {v.profile.horizon_years} years · strategy {v.profile.strategy}
                <span class="muted small block">Taken {when(v.profile.taken_at)}</span>
              </p>
            ) : <Empty testId="client-no-profile">No questionnaire taken yet.</Empty>}
          </Panel>
          <Panel title="Portfolios" testId="client-accounts">
            {v.accounts.length === 0 && <Empty testId="client-no-accounts">No portfolios yet.</Empty>}
            <ul class="rows">
              {v.accounts.map((a) => (
                <li key={a.account_id} data-testid={`client-account-${a.account_id}`} style={{ display: "block", overflowWrap: "anywhere" }}>
                  <strong>{a.name}</strong> <span class="muted small">{a.kind === "club" ? "club portfolio" : `${a.tax_treatment ?? ""} account`} · {a.currency} · bands ±{a.band_pct.replace(/\.?0+$/, "")} points · at most {a.max_weight_pct.replace(/\.?0+$/, "")}% in one holding</span>
                  <span class="small block" data-testid={`client-targets-${a.account_id}`}>{Object.keys(a.targets).length ? Object.entries(a.targets).map(([k, w]) => `${k} ${w}%`).join(" · ") : "No targets yet"}</span>
                </li>
              ))}
            </ul>
          </Panel>
        </>
      )}
    </main>
  );
}
