/** Monthly dues: the treasurer's grid of members × months (paid, pending, late, waived; waive a
 * month with a reason) and a member's own months with a way to pay them. */
import { useEffect, useRef, useState } from "preact/hooks";
import { money } from "../money.ts";
import { api, newKey } from "../session.ts";
import type { Club, DuesCell, DuesGrid, DuesStatus } from "../types.ts";
import { Badge, Button, ErrorNote, Field, Notice, label, useAction, useLoad } from "../ui.tsx";

const TONE: Record<DuesStatus, "ok" | "warn" | "bad" | "neutral"> = { paid: "ok", pending: "warn", late: "bad", waived: "neutral", none: "neutral" };

/** "2026-12" → "Dec 2026". */
export function monthLabel(month: string): string {
  const [year = 1970, number = 1] = month.split("-").map(Number);
  return new Date(Date.UTC(year, number - 1, 1)).toLocaleString("en-GB", { month: "short", year: "numeric", timeZone: "UTC" });
}

export function hasDues(club: Club): boolean {
  return Boolean(club.dues_amount) && club.dues_amount !== "0.00";
}

/** The late cells of a grid (for the treasurer's inbox). */
export function lateDues(grid: DuesGrid | null | undefined): { user_id: string; cell: DuesCell }[] {
  return (grid?.rows ?? []).flatMap((row) => row.cells.filter((c) => c.status === "late").map((cell) => ({ user_id: row.user_id, cell })));
}

export function DuesDesk({ club, version, nameOf }: { club: Club; version: number; nameOf: (id: string) => string }) {
  const grid = useLoad(() => api<DuesGrid>("GET", `/api/v1/clubs/${club.id}/dues?months=6`), [club.id, version]);
  const [waiving, setWaiving] = useState<{ user_id: string; month: string } | null>(null);
  const [reason, setReason] = useState("");
  const waive = useAction(async () => {
    if (!waiving) return;
    await api("POST", `/api/v1/clubs/${club.id}/dues/waivers`, { body: { ...waiving, reason } });
    setWaiving(null);
    setReason("");
    grid.reload();
  });
  if (!hasDues(club)) {
    return <Notice testId="dues-none">This club has no monthly dues. An owner sets them under Rules (amount, due day, grace days, late fee).</Notice>;
  }
  const g = grid.data;
  return (
    <div class="dues-desk" data-testid="dues-desk">
      <ErrorNote error={grid.error} />
      {g && <DuesTable g={g} nameOf={nameOf} onWaive={setWaiving} />}
      {waiving && (
        <form class="form" data-testid="dues-waive-form" onSubmit={(e) => { e.preventDefault(); void waive.run(); }}>
          <p class="small">Waive {nameOf(waiving.user_id)}'s dues for {monthLabel(waiving.month)}:</p>
          <Field label="Why" testId="dues-waive-reason" required minLength={3} maxLength={200} value={reason} onInput={(e) => setReason((e.currentTarget as HTMLInputElement).value)} />
          <ErrorNote error={waive.error} testId="dues-waive-error" />
          <div class="form-actions">
            <Button kind="ghost" type="button" onClick={() => setWaiving(null)}>Keep it</Button>
            <Button type="submit" busy={waive.busy} testId="dues-waive-confirm">Waive</Button>
          </div>
        </form>
      )}
    </div>
  );
}

/** The grid of members × months. On a narrow screen it scrolls sideways with the names kept
 * in view, and opens scrolled to the current month (the months before it are to the left). */
function DuesTable({ g, nameOf, onWaive }: { g: DuesGrid; nameOf: (id: string) => string; onWaive: (cell: { user_id: string; month: string }) => void }) {
  const scroller = useRef<HTMLDivElement>(null);
  const today = new Date().toISOString().slice(0, 7);
  // The current month when shown, else the latest one before it.
  const current = g.months.includes(today) ? today : [...g.months].reverse().find((m) => m <= today) ?? g.months[g.months.length - 1];
  useEffect(() => {
    const box = scroller.current;
    const th = box?.querySelector<HTMLElement>(`th[data-month="${current}"]`);
    if (!box || !th || box.scrollWidth <= box.clientWidth) return;
    // The current month ends at the right edge: the months before it are to its left.
    box.scrollLeft += th.getBoundingClientRect().right - box.getBoundingClientRect().right;
  }, [g.months.join(","), current]);
  return (
    <>
          <p class="muted small">
            {money(g.amount, g.currency)} a month per member, due on day {g.due_day}, late after {g.grace_days} more day{g.grace_days === 1 ? "" : "s"}
            {g.late_fee !== "0.00" ? `; a late fee of ${money(g.late_fee, g.currency)} is charged from the member's units` : ""}.
          </p>
          <div class="table-scroll" ref={scroller} data-testid="dues-grid-scroll">
            <table class="dues-grid" data-testid="dues-grid">
              <thead>
                <tr><th scope="col">Member</th>{g.months.map((m) => <th key={m} scope="col" data-month={m} class={m === current ? "current-month" : undefined}>{monthLabel(m)}</th>)}</tr>
              </thead>
              <tbody>
                {g.rows.map((row) => (
                  <tr key={row.user_id}>
                    <th scope="row">{nameOf(row.user_id)}</th>
                    {row.cells.map((cell) => (
                      <td key={cell.month} data-testid={`dues-${row.user_id}-${cell.month}`} data-status={cell.status}>
                        {cell.status === "none" ? <span class="muted">—</span> : <Badge tone={TONE[cell.status]}>{label(cell.status)}</Badge>}
                        {(cell.status === "pending" || cell.status === "late") && (
                          <button type="button" class="link small" data-testid={`dues-waive-${row.user_id}-${cell.month}`} onClick={() => onWaive({ user_id: row.user_id, month: cell.month })}>Waive</button>
                        )}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
            </>
  );
}

/** The member's own months; an unpaid one can be paid (online, or recorded as paid outside). */
export function MyDues({ club, version, onPaid }: { club: Club; version: number; onPaid: () => void }) {
  const grid = useLoad(() => api<DuesGrid>("GET", `/api/v1/clubs/${club.id}/dues?months=6`), [club.id, version]);
  const [sent, setSent] = useState<string[]>([]);
  const pay = useAction(async (month: string) => {
    const g = grid.data;
    if (!g) return;
    await api("POST", `/api/v1/clubs/${club.id}/contributions`, {
      body: { amount: g.amount, method: "manual", note: `Dues for ${monthLabel(month)}`, dues_month: month },
      idempotencyKey: newKey(),
    });
    setSent([...sent, month]);
    grid.reload();
    onPaid();
  });
  if (!hasDues(club)) return null;
  const cells = (grid.data?.rows[0]?.cells ?? []).filter((c) => c.status !== "none");
  return (
    <div class="my-dues" data-testid="my-dues">
      <h3 class="subhead">My dues</h3>
      {cells.length === 0 && <p class="muted small">No dues yet.</p>}
      <ul class="rows">
        {cells.slice().reverse().map((c) => (
          <li key={c.month} data-testid={`my-dues-${c.month}`} data-status={c.status}>
            <span>
              <strong>{monthLabel(c.month)}</strong>
              <span class="muted small"> · {money(grid.data?.amount, club.currency)} due {c.due_on}{c.late_fee_charged ? " · late fee charged" : ""}</span>
            </span>
            <span class="row-end">
              {sent.includes(c.month) && c.status !== "paid" && <span class="muted small" data-testid={`my-dues-sent-${c.month}`}>waiting for the treasurer</span>}
              {(c.status === "pending" || c.status === "late") && c.paid === "0.00" && !sent.includes(c.month) && (
                <Button kind="secondary" class="btn-small" busy={pay.busy} testId={`my-dues-pay-${c.month}`} onClick={() => void pay.run(c.month)}>I paid it</Button>
              )}
              <Badge tone={TONE[c.status]}>{label(c.status)}</Badge>
            </span>
          </li>
        ))}
      </ul>
      <ErrorNote error={pay.error} testId="my-dues-error" />
    </div>
  );
}
