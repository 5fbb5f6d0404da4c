/** Price alerts of a club room: the list (with how often each fired), creating one (above /
 * below a price, or a move within a window; once or re-arming), cancelling, and a toast for
 * every `alert:triggered` — live, or caught up from the room's log after a reconnect. */
import { useEffect, useState } from "preact/hooks";
import { ApiError } from "../api.ts";
import { bpsPercent, parseAmountInput } from "../money.ts";
import { api, session } from "../session.ts";
import type { AlertTriggered, Club, PriceAlert } from "../types.ts";
import { Badge, Button, Empty, ErrorNote, Field, Panel, clock, useAction, useLoad, when } from "../ui.tsx";

const WINDOWS: [number, string][] = [[60, "1 minute"], [300, "5 minutes"], [900, "15 minutes"], [3600, "1 hour"], [86_400, "1 day"]];

function windowText(seconds: number | null): string {
  if (seconds === null) return "";
  const known = WINDOWS.find(([s]) => s === seconds);
  if (known) return known[1];
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

/** What the alert watches for, in words ("KO above 30.00", "AAPL moves 2% within 15 minutes"). */
export function alertRule(a: Pick<PriceAlert, "kind" | "price" | "move_bps" | "window_seconds">): string {
  if (a.kind === "move") return `moves ${bpsPercent(a.move_bps)} within ${windowText(a.window_seconds)}`;
  return `${a.kind === "above" ? "rises above" : "falls below"} ${a.price ?? ""}`;
}

/** A typed percentage ("2", "0.5", "1.25") → basis points, by text; null when it is not one. */
function percentToBps(text: string): number | null {
  const m = /^\s*(\d{1,3})(?:\.(\d{1,2}))?\s*%?\s*$/.exec(text);
  if (!m) return null;
  const bps = Number(m[1]) * 100 + Number((m[2] ?? "").padEnd(2, "0"));
  return bps >= 1 && bps <= 10_000 ? bps : null;
}

/** The alert as the latest firing left it (the list may have been loaded before it fired). */
function withFirings(alert: PriceAlert, firings: AlertTriggered[]): PriceAlert {
  const latest = firings.find((f) => f.alert_id === alert.id);
  if (!latest || latest.fired_count < alert.fired_count) return alert;
  return { ...alert, fired_count: latest.fired_count, active: alert.active && latest.still_active, last_fired_at: latest.ts };
}

export function AlertsPanel({ club, symbols, firings, nameOf, onSymbols }: {
  club: Club; symbols: string[]; firings: AlertTriggered[]; nameOf: (id: string) => string;
  /** The symbols of active alerts (the room shows their live quotes). */
  onSymbols?: (symbols: string[]) => void;
}) {
  const me = session.me.get()?.id ?? "";
  const list = useLoad(() => api<{ alerts: PriceAlert[] }>("GET", `/api/v1/clubs/${club.id}/alerts`), [club.id]);
  const [open, setOpen] = useState(false);
  const [showDone, setShowDone] = useState(false);
  const cancel = useAction(async (alert: PriceAlert) => {
    await api("DELETE", `/api/v1/clubs/${club.id}/alerts/${alert.id}`);
    list.reload();
  });
  const treasury = ["owner", "admin", "treasurer"].includes(club.my_role);
  const alerts = (list.data?.alerts ?? []).map((a) => withFirings(a, firings));
  const active = alerts.filter((a) => a.active);
  const done = alerts.filter((a) => !a.active);
  const shown = showDone ? alerts : active;
  const activeSymbols = [...new Set(active.map((a) => a.symbol))].sort().join();
  useEffect(() => onSymbols?.(activeSymbols ? activeSymbols.split(",") : []), [activeSymbols]);
  const actions = !open && <Button kind="ghost" class="btn-small" testId="alert-new" onClick={() => setOpen(true)}>New alert</Button>;
  return (
    <Panel title={<>Price alerts {active.length > 0 && <span class="muted small" data-testid="alert-active-count">{active.length} active</span>}</>} testId="alerts-panel" actions={actions}>
      {open && <NewAlert clubId={club.id} symbols={symbols} onDone={(created) => { setOpen(false); if (created) list.reload(); }} />}
      <ErrorNote error={list.error ?? cancel.error} testId="alerts-error" />
      {!list.loading && shown.length === 0 && !open && (
        <Empty testId="alerts-empty">No active alerts. Get told here when a price crosses a level or moves fast.</Empty>
      )}
      {shown.length > 0 && (
        <ul class="rows alert-list" data-testid="alerts">
          {shown.map((a) => (
            <li key={a.id} data-testid={`alert-${a.id}`} data-active={a.active ? "true" : "false"} data-fired={a.fired_count} class={a.active ? "" : "alert-done"}>
              <span class="alert-what">
                <strong class="ticker">{a.symbol}</strong> {alertRule(a)}
                <span class="muted small block">
                  {a.rearm ? "Every crossing" : "Once"} · by {nameOf(a.created_by)}
                  {a.note && <> · “{a.note}”</>}
                  {a.last_fired_at && <> · last {when(a.last_fired_at)}</>}
                </span>
              </span>
              <span class="row-end">
                <Badge tone={a.fired_count > 0 ? "brand" : "neutral"} testId={`alert-fired-${a.id}`}>
                  fired {a.fired_count}×
                </Badge>
                {a.active ? (
                  (a.created_by === me || treasury) && (
                    <Button kind="ghost" class="btn-small" testId={`alert-cancel-${a.id}`} busy={cancel.busy} onClick={() => void cancel.run(a)}>Cancel</Button>
                  )
                ) : (
                  <Badge testId={`alert-state-${a.id}`}>{a.fired_count > 0 && !a.rearm ? "Done" : "Off"}</Badge>
                )}
              </span>
            </li>
          ))}
        </ul>
      )}
      {done.length > 0 && (
        <button class="link small" type="button" data-testid="alerts-toggle-done" onClick={() => setShowDone(!showDone)}>
          {showDone ? "Hide finished alerts" : `Show ${done.length} finished`}
        </button>
      )}
    </Panel>
  );
}

function NewAlert({ clubId, symbols, onDone }: { clubId: string; symbols: string[]; onDone: (created: boolean) => void }) {
  const [symbol, setSymbol] = useState(symbols[0] ?? "");
  const [kind, setKind] = useState<PriceAlert["kind"]>("above");
  const [price, setPrice] = useState("");
  const [move, setMove] = useState("");
  const [windowSeconds, setWindowSeconds] = useState(900);
  const [rearm, setRearm] = useState(false);
  const [note, setNote] = useState("");
  const create = useAction(async () => {
    const body: Record<string, unknown> = { symbol: symbol.trim().toUpperCase(), kind, rearm, note: note.trim() };
    if (kind === "move") {
      const bps = percentToBps(move);
      if (bps === null) throw new ApiError("Enter the move as a percentage, like 2 or 0.5.", 422, "validation_error");
      Object.assign(body, { move_bps: bps, window_seconds: windowSeconds });
    } else {
      const value = parseAmountInput(price);
      if (value === null || !/[1-9]/.test(value)) throw new ApiError("Enter a price like 30 or 30.25.", 422, "validation_error");
      body.price = value;
    }
    await api<PriceAlert>("POST", `/api/v1/clubs/${clubId}/alerts`, { body });
    onDone(true);
  });
  const value = (e: Event) => (e.currentTarget as HTMLInputElement).value;
  return (
    <form class="form alert-form" data-testid="alert-form" onSubmit={(e) => { e.preventDefault(); void create.run(); }}>
      <div class="form-row">
        <Field label="Symbol" testId="alert-symbol" required list="alert-symbols" autoCapitalize="characters" maxLength={16} value={symbol} onInput={(e) => setSymbol(value(e))} />
        <datalist id="alert-symbols">{symbols.map((s) => <option key={s} value={s} />)}</datalist>
        <label class="field">
          <span class="field-label">When it</span>
          <select data-testid="alert-kind" value={kind} onChange={(e) => setKind((e.currentTarget as HTMLSelectElement).value as PriceAlert["kind"])}>
            <option value="above">rises above</option>
            <option value="below">falls below</option>
            <option value="move">moves by</option>
          </select>
        </label>
        {kind === "move" ? (
          <>
            <Field label="Move (%)" testId="alert-move" inputMode="decimal" placeholder="2" required value={move} onInput={(e) => setMove(value(e))} />
            <label class="field">
              <span class="field-label">Within</span>
              <select data-testid="alert-window" value={windowSeconds} onChange={(e) => setWindowSeconds(Number((e.currentTarget as HTMLSelectElement).value))}>
                {WINDOWS.map(([s, text]) => <option key={s} value={s}>{text}</option>)}
              </select>
            </label>
          </>
        ) : (
          <Field label="Price" testId="alert-price" inputMode="decimal" placeholder="30.00" required value={price} onInput={(e) => setPrice(value(e))} />
        )}
      </div>
      <Field label="Note (optional)" testId="alert-note" maxLength={200} placeholder="Why it matters" value={note} onInput={(e) => setNote(value(e))} />
      <label class="check"><input type="checkbox" checked={rearm} data-testid="alert-rearm" onChange={(e) => setRearm((e.currentTarget as HTMLInputElement).checked)} /> Fire again at every new crossing</label>
      <ErrorNote error={create.error} testId="alert-error" />
      <div class="form-actions">
        <Button kind="ghost" type="button" onClick={() => onDone(false)}>Cancel</Button>
        <Button type="submit" busy={create.busy} testId="alert-submit">Create alert</Button>
      </div>
    </form>
  );
}

const TOAST_MS = 9_000;

/** A toast for each firing (newest on top, each for a few seconds; dismissable). */
export function AlertToasts({ firings }: { firings: AlertTriggered[] }) {
  const [gone, setGone] = useState<Set<string>>(new Set());
  const [now, setNow] = useState(Date.now());
  const [seenAt] = useState(() => new Map<string, number>());
  for (const f of firings) if (!seenAt.has(f.id)) seenAt.set(f.id, Date.now());
  const shown = firings.filter((f) => !gone.has(f.id) && now - (seenAt.get(f.id) ?? now) < TOAST_MS).slice(0, 3);
  useEffect(() => {
    if (shown.length === 0) return;
    const timer = window.setTimeout(() => setNow(Date.now()), 1_000);
    return () => clearTimeout(timer);
  }, [shown.length, now, firings.length]);
  if (shown.length === 0) return null;
  return (
    <div class="toasts" aria-live="assertive">
      {shown.map((f) => (
        <div key={f.id} class="toast" role="alert" data-testid="alert-toast" data-alert-id={f.alert_id} data-fired={f.fired_count}>
          <svg class="toast-icon" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
            <path fill="currentColor" d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z" />
          </svg>
          <span class="toast-text">
            <strong>{f.symbol} {f.kind === "move" ? `moved ${bpsPercent(f.measured_bps)}` : f.kind === "above" ? `rose above ${f.threshold ?? ""}` : `fell below ${f.threshold ?? ""}`}</strong>
            <span class="small block">
              at {f.price} · fired {f.fired_count}× {f.still_active ? "· stays on" : "· done"} · {clock(f.ts)}
            </span>
          </span>
          <button class="icon-btn toast-close" aria-label="Dismiss" onClick={() => setGone(new Set([...gone, f.id]))}>×</button>
        </div>
      ))}
    </div>
  );
}
