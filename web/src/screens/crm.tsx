/** The operator's CRM: the pipeline board (drag a card between columns, or pick a status on a
 * phone), lead and client pages with their timelines, my reminders today (live), the KYC queue,
 * the dashboard with charts, the CSV import screen — and the public contact form that makes
 * leads. Every figure comes from the API; money is shown exactly as its decimal strings. */
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError } from "../api.ts";
import { AllocationChart } from "../charts.tsx";
import { live } from "../live.ts";
import { type CatchUp, type LogEvent, RoomLog } from "../roomlog.ts";
import { bpsPercent, money, parseAmountInput } from "../money.ts";
import { navigate, route } from "../router.ts";
import { api, post, session } from "../session.ts";
import { useStore } from "../store.ts";
import { Badge, Button, Empty, ErrorNote, Field, Notice, Panel, label, useAction, useLoad, when } from "../ui.tsx";
import "../crm.css";

interface Score {
  total: number;
  source: number;
  engagement: number;
  completeness: number;
  decay_bp: number;
  days_inactive: number;
}

interface Lead {
  id: string;
  full_name: string;
  email: string | null;
  phone: string | null;
  city: string | null;
  company: string | null;
  investment_capacity: string | null;
  message: string | null;
  source: string;
  status: string;
  stage: string;
  lost_reason: string | null;
  owner_id: string | null;
  owner_name: string | null;
  client_id: string | null;
  merged_into: string | null;
  score: Score;
  created_at: string;
  last_activity_at: string;
  erased: boolean;
  version: number;
}

/** `crm:lead` in the board room the server chose for this person. */
interface LeadEvent {
  seq: number;
  change: string;
  lead: Lead;
  visible: boolean;
}

interface BoardJoined {
  room: string;
  seq: number;
  missed: { event: string; data: LeadEvent }[];
  complete: boolean;
}

interface Activity {
  id: string;
  kind: string;
  text: string;
  actor_name: string | null;
  other_name?: string | null;
  undoable?: boolean | null;
  data: Record<string, unknown>;
  at: string;
}

interface Client {
  id: string;
  lead_id: string;
  full_name: string;
  email: string | null;
  phone: string | null;
  city: string | null;
  company: string | null;
  owner_name: string | null;
  user_id: string | null;
  link_pending?: boolean;
  status: string;
  segment: string;
  investment_capacity: string | null;
  investment_profile: { risk_tolerance: string | null; horizon_years?: number | null; goals: string[]; preferred_products: string[] };
  preferences?: { channel: string; best_time: string | null; language: string | null; do_not_contact: boolean };
  kyc_status: string | null;
  created_at: string;
  erased?: boolean;
  account_erased?: boolean | null;
  account_retained?: string[];
}

interface Reminder {
  id: string;
  lead_id: string | null;
  client_id: string | null;
  due_at: string;
  text: string;
  status: string;
}

interface RateRow {
  key: string;
  label: string;
  leads: number;
  converted: number;
  rate_bp: number;
}

interface Report {
  leads: number;
  converted: number;
  rate_bp: number;
  by_source: RateRow[];
  by_agent: RateRow[];
  by_month: RateRow[];
  funnel: { stage: string; leads: number }[];
  by_status: { key: string; count: number }[];
  clients_by_segment: { key: string; count: number }[];
  kyc: { clients: number; verified: number; pending: number; other: number; expiring: number; expiring_days: number };
}

const COLUMNS = ["new", "contacted", "qualified", "converted", "lost"] as const;
const NEXT: Record<string, string[]> = {
  new: ["contacted", "lost"],
  contacted: ["qualified", "lost"],
  qualified: ["converted", "lost"],
  lost: ["contacted"],
  converted: [],
};

/** People read sentences: the codes the CRM answers, said plainly. */
const SENTENCES: Record<string, string> = {
  lead_illegal_transition: "A lead cannot move that way. Follow new → contacted → qualified → converted.",
  lost_reason_required: "Say why the lead was lost.",
  kyc_reason_required: "Say why the document is rejected: the client is told.",
  reminder_in_past: "That time has passed: pick a time from now on.",
  lead_merged: "This lead was merged into another: work on that one.",
  risk_from_questionnaire: "The client took the risk questionnaire: its result is their risk profile.",
  lead_duplicate: "Someone with this e-mail or phone is already a lead.",
  invalid_contact: "Check the e-mail address or phone number.",
  lead_merge_refused: "These leads cannot be merged.",
  merge_undo_refused: "This merge cannot be undone any more.",
  assignee_invalid: "Pick an active agent of your team.",
  lead_not_found: "This lead does not exist, or it is not in your book.",
  client_not_found: "This client does not exist, or is not in your book.",
  rate_limited: "Too many messages from here; please try again in a little while.",
  import_invalid: "The file could not be read as a CSV with a full_name column.",
  forbidden: "Your role does not allow this.",
  lead_changed: "Someone changed this lead at the same moment; look again and retry.",
  subject_erased: "This person's data was erased on their request.",
};

/** A refusal about one field, said with the field's name. */
function aboutField(code: string | null | undefined, field: unknown): string | null {
  const what = field === "email" ? "e-mail address" : field === "phone" ? "phone number" : field === "full_name" ? "name" : null;
  if (!what) return null;
  if (code === "invalid_contact") return `The ${what} is not valid.`;
  if (code === "lead_duplicate") return `A lead or client with this ${what} exists already.`;
  return null;
}

function plain(error: unknown): unknown {
  if (error instanceof ApiError && error.code) {
    const named = aboutField(error.code, error.details.field);
    if (named) return new ApiError(named, error.status, error.code, error.details);
  }
  if (error instanceof ApiError && error.code && SENTENCES[error.code]) {
    return new ApiError(SENTENCES[error.code] as string, error.status, error.code, error.details);
  }
  return error;
}

function Problem({ error, testId }: { error: unknown; testId?: string }) {
  return <ErrorNote error={plain(error)} testId={testId ?? "crm-error"} />;
}

const TABS: [string, string][] = [
  ["/crm", "Pipeline"],
  ["/crm/reminders", "My reminders"],
  ["/crm/clients", "Clients"],
  ["/crm/kyc", "KYC queue"],
  ["/crm/dashboard", "Dashboard"],
  ["/crm/import", "Import"],
  ["/crm/team", "Team"],
];

function CrmNav() {
  const path = useStore(route).path;
  const me = useStore(session.me);
  const tabs = me?.roles.includes("admin") ? [...TABS, ["/crm/audit", "Audit"] as [string, string]] : TABS;
  return (
    <nav class="tabs crm-tabs" role="tablist">
      {tabs.map(([href, text]) => (
        <a key={href} role="tab" aria-selected={path === href} class={path === href ? "tab active" : "tab"} href={href} data-testid={`crm-tab-${href.split("/")[2] ?? "pipeline"}`}>{text}</a>
      ))}
    </nav>
  );
}

function isStaff(roles: string[] | undefined): boolean {
  return Boolean(roles?.some((r) => r === "crm_agent" || r === "crm_manager" || r === "admin"));
}

/** `/crm/consent` (any signed-in person): the operator's requests to link their account with
 * its client record — accept (their relationship manager then sees their investments and KYC)
 * or decline. Nothing of the account is shared before they accept. */
function Consent() {
  const list = useLoad(() => api<{ items: { client_id: string; client_name: string; manager_name: string | null; requested_at: string | null }[] }>("GET", "/api/v1/crm/link-requests"));
  const [answered, setAnswered] = useState<string | null>(null);
  const answer = useAction(async (clientId: string, accept: boolean) => {
    await api("POST", `/api/v1/crm/link-requests/${clientId}`, { body: { accept } });
    setAnswered(accept ? "Linked. Your relationship manager can now see your investments and KYC." : "Declined. Nothing of your account is shared.");
    list.reload();
  });
  return (
    <main class="page" data-testid="crm-consent">
      <div class="page-head"><h1>Link your account?</h1></div>
      <Panel title="Requests from the Samooh team">
        <Problem error={list.error ?? answer.error} />
        {answered && <Notice tone="ok" testId="consent-done">{answered}</Notice>}
        {list.data?.items.length === 0 && <Empty testId="consent-none">No request is waiting for you.</Empty>}
        <ul class="rows">
          {list.data?.items.map((r) => (
            <li key={r.client_id} class="stack" data-testid={`consent-${r.client_id}`}>
              <p>The team that looks after you as a client{r.manager_name ? ` (${r.manager_name})` : ""} asks to link your account with their record of you, <strong>{r.client_name}</strong>{r.requested_at ? `, asked ${when(r.requested_at)}` : ""}. If you accept, they can see your clubs, investments, KYC documents and risk profile.</p>
              <div class="form-actions">
                <Button busy={answer.busy} onClick={() => void answer.run(r.client_id, true)} testId={`consent-accept-${r.client_id}`}>Accept</Button>
                <Button kind="ghost" busy={answer.busy} onClick={() => void answer.run(r.client_id, false)} testId={`consent-decline-${r.client_id}`}>Decline</Button>
              </div>
            </li>
          ))}
        </ul>
      </Panel>
    </main>
  );
}

interface StaffRow { user_id: string; full_name: string; email: string; roles: string[]; manager_id: string | null; active: boolean }
interface ScoreRulesOut {
  source_points: Record<string, number>;
  engagement_points: number;
  engagement_cap: number;
  engagement_days: number;
  completeness_points: Record<string, number>;
  half_life_days: number;
  version: number;
  updated_at: string | null;
  updated_by_name: string | null;
  stale: number;
  sources: string[];
  fields: string[];
}

interface RuleProblem { field: string; message: string }
interface RuleRowDraft { key: string; points: string }
interface RulesDraft { sources: RuleRowDraft[]; fields: RuleRowDraft[]; engagement_points: string; engagement_cap: string; engagement_days: string; half_life_days: string }

function draftOf(r: ScoreRulesOut): RulesDraft {
  const rows = (m: Record<string, number>) => Object.entries(m).map(([key, points]) => ({ key, points: String(points) }));
  return {
    sources: rows(r.source_points), fields: rows(r.completeness_points), engagement_points: String(r.engagement_points),
    engagement_cap: String(r.engagement_cap), engagement_days: String(r.engagement_days), half_life_days: String(r.half_life_days),
  };
}

/** The score's rules, edited by an admin: weights by source and by filled field are rows (add,
 * change, remove); the engagement and decay numbers below. Problems are said as sentences, the
 * server's (`score_rules_invalid` → `details.problems`) and the form's own (not a number). */
function ScoreRulesEditor({ rules, onSaved }: { rules: ScoreRulesOut; onSaved: () => void }) {
  const [d, setD] = useState<RulesDraft>(() => draftOf(rules));
  const [problems, setProblems] = useState<RuleProblem[]>([]);
  const [saved, setSaved] = useState<number | null>(null);
  useEffect(() => setD(draftOf(rules)), [rules.version]);
  const save = useAction(async () => {
    setSaved(null);
    const local: RuleProblem[] = [];
    const whole = (text: string, field: string, what: string): number => {
      const n = Number(text.trim());
      if (text.trim() === "" || !Number.isInteger(n)) local.push({ field, message: `Write ${what} as a whole number.` });
      return n;
    };
    const rows = (list: RuleRowDraft[], name: string, noun: string) => list.map((r, i) => ({
      key: r.key, points: whole(r.points, `${name}.${i}`, `the points of ${noun} row ${i + 1}`),
    }));
    const half = Number(d.half_life_days.trim());
    if (d.half_life_days.trim() === "" || !Number.isFinite(half)) local.push({ field: "half_life_days", message: "Write the half-life as a number of days." });
    const body = {
      version: rules.version,
      source_points: rows(d.sources, "source_points", "source"),
      completeness_points: rows(d.fields, "completeness_points", "field"),
      engagement_points: whole(d.engagement_points, "engagement_points", "the points per activity"),
      engagement_cap: whole(d.engagement_cap, "engagement_cap", "the engagement cap"),
      engagement_days: whole(d.engagement_days, "engagement_days", "the engagement window"),
      half_life_days: half,
    };
    setProblems(local);
    if (local.length > 0) return;
    try {
      const out = await api<ScoreRulesOut>("PUT", "/api/v1/crm/score-rules", { body });
      setSaved(out.version);
      onSaved();
    } catch (error) {
      if (error instanceof ApiError && error.code === "score_rules_invalid" && Array.isArray(error.details.problems)) {
        setProblems(error.details.problems as RuleProblem[]);
        return;
      }
      if (error instanceof ApiError && error.code === "score_rules_changed") {
        onSaved();
        throw new ApiError("Someone changed the rules while you edited them: they are shown as they are now; make your change again.", 409, error.code);
      }
      throw error;
    }
  });
  const setRow = (which: "sources" | "fields", i: number, change: Partial<RuleRowDraft>) =>
    setD({ ...d, [which]: d[which].map((r, j) => (j === i ? { ...r, ...change } : r)) });
  const addRow = (which: "sources" | "fields", options: string[]) => {
    const free = options.find((o) => !d[which].some((r) => r.key === o));
    setD({ ...d, [which]: [...d[which], { key: free ?? "", points: "0" }] });
  };
  const removeRow = (which: "sources" | "fields", i: number) => setD({ ...d, [which]: d[which].filter((_, j) => j !== i) });
  const rowList = (which: "sources" | "fields", options: string[], noun: string, prefix: string) => (
    <ul class="rows rules-rows">
      {d[which].map((r, i) => (
        <li key={i} class="rule-row" data-testid={`${prefix}-row-${i}`}>
          <select aria-label={`${noun} of row ${i + 1}`} value={r.key} data-testid={`${prefix}-key-${i}`} onChange={(e) => setRow(which, i, { key: (e.target as HTMLSelectElement).value })}>
            {!options.includes(r.key) && <option value={r.key}>{r.key ? label(r.key) : `Pick a ${noun}…`}</option>}
            {options.map((o) => <option key={o} value={o}>{label(o)}</option>)}
          </select>
          <input aria-label={`Points of row ${i + 1}`} inputMode="numeric" class="rule-points" value={r.points} data-testid={`${prefix}-points-${i}`} onInput={(e) => setRow(which, i, { points: (e.target as HTMLInputElement).value })} />
          <span class="small muted">points</span>
          <Button kind="ghost" type="button" onClick={() => removeRow(which, i)} testId={`${prefix}-remove-${i}`}>Remove</Button>
        </li>
      ))}
    </ul>
  );
  return (
    <form class="form" data-testid="rules-form" onSubmit={(e) => {
      e.preventDefault();
      void save.run();
    }}>
      <Problem error={save.error} />
      {problems.length > 0 && (
        <div class="alert alert-error" role="alert" data-testid="rules-problems">
          <p>Nothing was saved:</p>
          <ul>{problems.map((p) => <li key={`${p.field}-${p.message}`} data-field={p.field}>{p.message}</li>)}</ul>
        </div>
      )}
      {saved !== null && <Notice tone="ok" testId="rules-saved">Saved as version {saved}. Every open lead is rescored by these rules in the next minute.</Notice>}
      <h3 class="small">Points by source</h3>
      {rowList("sources", rules.sources, "source", "rules-source")}
      <Button kind="secondary" type="button" onClick={() => addRow("sources", rules.sources)} testId="rules-source-add">Add a source</Button>
      <h3 class="small">Points for each filled profile field</h3>
      {rowList("fields", rules.fields, "field", "rules-field")}
      <Button kind="secondary" type="button" onClick={() => addRow("fields", rules.fields)} testId="rules-field-add">Add a field</Button>
      <h3 class="small">Engagement and inactivity</h3>
      <Field label="Points per call, e-mail, meeting or note" testId="rules-engagement-points" inputMode="numeric" value={d.engagement_points} onInput={(e) => setD({ ...d, engagement_points: (e.target as HTMLInputElement).value })} />
      <Field label="At most (engagement cap)" testId="rules-engagement-cap" inputMode="numeric" value={d.engagement_cap} onInput={(e) => setD({ ...d, engagement_cap: (e.target as HTMLInputElement).value })} />
      <Field label="Activities count for (days)" testId="rules-engagement-days" inputMode="numeric" value={d.engagement_days} onInput={(e) => setD({ ...d, engagement_days: (e.target as HTMLInputElement).value })} />
      <Field label="The score halves every (days without activity)" testId="rules-half-life" inputMode="decimal" value={d.half_life_days} onInput={(e) => setD({ ...d, half_life_days: (e.target as HTMLInputElement).value })} />
      <div class="form-actions">
        <Button busy={save.busy} testId="rules-save">Save the rules</Button>
        <Button kind="ghost" type="button" onClick={() => {
          setD(draftOf(rules));
          setProblems([]);
        }}>Undo my edits</Button>
      </div>
    </form>
  );
}

/** `/crm/team`: the CRM staff and their teams (admins place people under a manager and take
 * them in or out of round-robin assignment), and the lead score's rules in force. */
function Team() {
  const me = useStore(session.me);
  const admin = Boolean(me?.roles.includes("admin"));
  const staff = useLoad(() => api<{ items: StaffRow[] }>("GET", "/api/v1/crm/staff"));
  const rules = useLoad(() => api<ScoreRulesOut>("GET", "/api/v1/crm/score-rules"));
  const put = useAction(async (row: StaffRow, change: Partial<StaffRow>) => {
    await api("PUT", `/api/v1/crm/staff/${row.user_id}`, { body: { manager_id: change.manager_id !== undefined ? change.manager_id : row.manager_id, active: change.active ?? row.active } });
    staff.reload();
  });
  const people = staff.data?.items ?? [];
  const managers = people.filter((p) => p.roles.includes("crm_manager"));
  const r = rules.data;
  return (
    <div class="stack" data-testid="crm-team">
      <Panel title="Staff and teams">
        <Problem error={staff.error ?? put.error} />
        {people.length === 0 && <Empty>No CRM staff you may see.</Empty>}
        <ul class="rows">
          {people.map((p) => (
            <li key={p.user_id} class="row-end" data-testid={`staff-${p.user_id}`}>
              <span><strong>{p.full_name}</strong> <span class="muted small block">{p.email} · {p.roles.filter((x) => x.startsWith("crm_") || x === "admin").map(label).join(", ")}</span></span>
              {admin && p.roles.includes("crm_agent") ? (
                <select aria-label={`Manager of ${p.full_name}`} value={p.manager_id ?? ""} disabled={put.busy} data-testid={`staff-manager-${p.user_id}`}
                  onChange={(e) => void put.run(p, { manager_id: (e.target as HTMLSelectElement).value || null })}>
                  <option value="">No manager</option>
                  {managers.map((m) => <option key={m.user_id} value={m.user_id}>{m.full_name}</option>)}
                </select>
              ) : <span class="small muted">{p.manager_id ? `Team of ${people.find((m) => m.user_id === p.manager_id)?.full_name ?? "a manager"}` : ""}</span>}
              {admin ? (
                <label class="check small"><input type="checkbox" checked={p.active} disabled={put.busy} data-testid={`staff-active-${p.user_id}`}
                  onChange={(e) => void put.run(p, { active: (e.target as HTMLInputElement).checked })} /> Takes new leads in turn</label>
              ) : <Badge tone={p.active ? "ok" : "neutral"}>{p.active ? "Takes leads" : "Not in turn"}</Badge>}
            </li>
          ))}
        </ul>
      </Panel>
      <Panel title="How leads are scored" testId="score-rules">
        <Problem error={rules.error} />
        {r && (
          <dl class="facts">
            <dt>Source</dt><dd data-testid="rules-shown-source">{Object.entries(r.source_points).map(([k, v]) => `${label(k)} ${v}`).join(" · ") || "no points"}</dd>
            <dt>Engagement</dt><dd>{r.engagement_points} per call, e-mail, meeting or note in the last {r.engagement_days} days, at most {r.engagement_cap}</dd>
            <dt>Completeness</dt><dd data-testid="rules-shown-fields">{Object.entries(r.completeness_points).map(([k, v]) => `${label(k)} ${v}`).join(" · ") || "no points"}</dd>
            <dt>Inactivity</dt><dd>the sum (at most 100) halves every {r.half_life_days} days without activity</dd>
          </dl>
        )}
        {r && (
          <p class="small muted" data-testid="rules-version">
            {r.version === 0 ? "The configured defaults (no one has changed them on screen)." : `Version ${r.version}${r.updated_by_name ? `, set by ${r.updated_by_name}` : ""}${r.updated_at ? ` ${when(r.updated_at)}` : ""}.`}
            {r.stale > 0 ? ` ${r.stale} open lead(s) still wait to be rescored by them.` : " Every open lead is scored by them."} Every lead's page shows its score's parts.
          </p>
        )}
        {r && admin && <ScoreRulesEditor rules={r} onSaved={() => rules.reload()} />}
        {r && !admin && <p class="small muted">Only an admin changes these.</p>}
      </Panel>
    </div>
  );
}

interface AuditRow { seq: number; at: string; actor_name: string | null; action: string; target_type: string; target_id: string; details: Record<string, unknown> }

/** `/crm/audit` (admins): the CRM's audit trail — merges, undos, conversions, erasures,
 * exports, KYC openings — people named only by keyed hash; the chain's verification. */
function AuditTrail() {
  const [action, setAction] = useState("");
  const trail = useLoad(() => api<{ items: AuditRow[]; chain_ok: boolean; chain_checked: number }>("GET", `/api/v1/crm/audit?limit=200${action ? `&action=${encodeURIComponent(action)}` : ""}`), [action]);
  return (
    <Panel title="Audit trail" testId="crm-audit" actions={
      <select aria-label="Which actions" value={action} data-testid="audit-filter" onChange={(e) => setAction((e.target as HTMLSelectElement).value)}>
        <option value="">Everything</option>
        <option value="crm.lead.merge">Merges and undos</option>
        <option value="crm.person">Exports and erasures</option>
        <option value="crm.lead.convert">Conversions</option>
        <option value="crm.kyc">KYC scans opened</option>
        <option value="crm.client">Clients</option>
      </select>
    }>
      <Problem error={trail.error} />
      {trail.data && <p class="small" data-testid="audit-chain">{trail.data.chain_ok ? `The chain verifies (${trail.data.chain_checked} records).` : "The chain does NOT verify: tell the security team."}</p>}
      {trail.data?.items.length === 0 && <Empty>Nothing recorded.</Empty>}
      <ol class="timeline">
        {trail.data?.items.map((r) => (
          <li key={r.seq} class="timeline-item" data-action={r.action}>
            <span class="timeline-kind">{r.action.replace(/^crm\./, "").replace(/[._]/g, " ")}</span>
            <span class="timeline-text small">{r.target_type} {r.target_id.slice(0, 12)}…{r.details.why ? ` · ${String(r.details.why)}` : ""}{r.details.merge_id ? ` · merge ${String(r.details.merge_id).slice(-6)}` : ""}</span>
            <span class="muted small">#{r.seq} · {when(r.at)}{r.actor_name ? ` · ${r.actor_name}` : ""}</span>
          </li>
        ))}
      </ol>
    </Panel>
  );
}

/** The CRM section: its tabs and the screen of the path. */
export default function CrmScreen({ section, id }: { section: string; id?: string }) {
  const me = useStore(session.me);
  if (section === "consent") return <Consent />;
  if (!isStaff(me?.roles)) {
    return <main class="page"><Problem error={new ApiError("The CRM is for the operator's staff.", 403, "forbidden")} /></main>;
  }
  return (
    <main class="page crm" data-testid="crm">
      <div class="page-head"><h1>CRM</h1></div>
      <CrmNav />
      {section === "board" && <Board />}
      {section === "lead" && id && <LeadPage key={id} leadId={id} />}
      {section === "client" && id && <ClientPage key={id} clientId={id} />}
      {section === "person" && id && <PersonToClient key={id} userId={id} />}
      {section === "clients" && <Clients />}
      {section === "reminders" && <Reminders />}
      {section === "kyc" && <KycQueue />}
      {section === "dashboard" && <Dashboard />}
      {section === "audit" && <AuditTrail />}
      {section === "team" && <Team />}
      {section === "import" && <Import />}
    </main>
  );
}

// ---- the pipeline board ---------------------------------------------------------------------

async function moveLead(lead: Lead, to: string, reason?: string): Promise<void> {
  if (to === "converted") {
    // Converting makes a client and cannot be undone: its options are chosen on the lead page.
    navigate(`/crm/leads/${lead.id}?convert=1`);
    return;
  }
  await api("POST", `/api/v1/crm/leads/${lead.id}/status`, { body: { status: to, reason: reason ?? null, version: lead.version } });
}

/**
 * The person's board room is shared by the board and open lead pages: the first user joins it
 * (`crm:join`, idempotent on the server), and it is left a moment after the last one lets go —
 * so moving from the board to a lead page never sends a leave that could overtake the next join.
 */
let boardHolders = 0;
let boardLeaveTimer: number | null = null;
function holdBoardRoom(): () => void {
  boardHolders += 1;
  if (boardLeaveTimer !== null) {
    clearTimeout(boardLeaveTimer);
    boardLeaveTimer = null;
  }
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    boardHolders -= 1;
    if (boardHolders > 0) return;
    boardLeaveTimer = window.setTimeout(() => {
      boardLeaveTimer = null;
      if (boardHolders === 0) void live.call("crm:leave", {}).catch(() => undefined);
    }, 3_000);
  };
}

/** What a board-room event means to one open page: nothing to it, a change of its record (read
 * it again), the record back in the person's book (and read again), or the record gone from it. */
type BoardVerdict<E> = "ignore" | "change" | "back" | { gone: E };

/**
 * One open record page (a lead, a client) kept live in the person's board room: `judge` says
 * what each event means to it, `onChange` reads the record again; after a dropped connection or
 * a `room:head` ahead the events missed are replayed in order (and when more were missed than
 * the server replays, the page reads its record again). `gone` is the event that took the
 * record out of the person's book, until one brings it back.
 */
function useBoardPage<E>(key: string, judge: (event: string, data: unknown) => BoardVerdict<E>, onChange: () => void): { joined: boolean; gone: E | null } {
  const [joined, setJoined] = useState(false);
  const [gone, setGone] = useState<E | null>(null);
  const latest = useRef({ judge, onChange });
  latest.current = { judge, onChange };
  useEffect(() => {
    const release = holdBoardRoom();
    setGone(null);
    const log = new RoomLog({
      room: null,
      join: async (after): Promise<CatchUp> => {
        setJoined(false);
        const answer = await live.call<BoardJoined>("crm:join", { after_seq: after });
        if (after === null || !answer.complete) {
          if (after !== null) latest.current.onChange();
          return { state: answer.seq, room: answer.room };
        }
        return { missed: answer.missed as unknown as LogEvent[], room: answer.room };
      },
      apply: ({ event, data }) => {
        const verdict = latest.current.judge(event, data);
        if (verdict === "ignore") return;
        if (typeof verdict === "object") {
          setGone(verdict.gone);
          return;
        }
        if (verdict === "back") setGone(null);
        latest.current.onChange();
      },
      joined: () => setJoined(true),
    });
    log.start();
    return () => {
      log.stop();
      release();
    };
  }, [key]);
  return { joined, gone };
}

/**
 * An open lead page kept live: every change to a lead of the person's book is told in their
 * board room (status, owner, activities, reminders, merges, conversion, erasure); the page reads
 * the lead again for each change of it or of a lead merged into it. `gone`: handed to someone
 * outside the person's team.
 */
function useLiveLead(leadId: string, onChange: () => void): { joined: boolean; gone: LeadEvent | null } {
  return useBoardPage<LeadEvent>(`lead:${leadId}`, (event, data) => {
    if (event !== "crm:lead") return "ignore";
    const e = data as LeadEvent;
    if (e.lead.id === leadId) return !e.visible && e.lead.status !== "merged" ? { gone: e } : "back";
    return e.lead.merged_into === leadId ? "change" : "ignore";
  }, onChange);
}

/** `crm:client` in the board room: a client changed (ids only; the page reads it again). */
interface ClientEvent {
  seq: number;
  change: string;
  client_id: string;
  lead_id: string;
  owner_id: string | null;
  visible: boolean;
}

/**
 * An open client page kept live, like a lead page: `crm:client` in the board room tells every
 * change to a client of the person's book (profile, status, manager, activity, follow-up, KYC
 * document, erasure). `gone`: the change that took the client out of the person's book.
 */
function useLiveClient(clientId: string, onChange: () => void): { joined: boolean; gone: ClientEvent | null } {
  return useBoardPage<ClientEvent>(`client:${clientId}`, (event, data) => {
    if (event !== "crm:client") return "ignore";
    const e = data as ClientEvent;
    if (e.client_id !== clientId) return "ignore";
    return e.visible ? "back" : { gone: e };
  }, onChange);
}

/**
 * The board's leads, kept live: loaded over HTTP, then changed by the `crm:lead` events of the
 * person's own board room (joined on every connection; after a drop it asks for what it missed
 * after the last `seq` it applied, and reloads when the server cannot replay it all). A card
 * keeps the newest `version` it saw, so an event older than the loaded lead changes nothing.
 */
function useLiveBoard() {
  const [cards, setCards] = useState<Lead[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [joined, setJoined] = useState(false);
  const versions = useRef(new Map<string, number>());
  const mounted = useRef(true);

  // Leads changed live while a page is on its way: their live state is newer than the page's.
  const touched = useRef<Set<string> | null>(null);
  const order = (list: Lead[]) => list.sort((a, b) => b.score.total - a.score.total);

  const apply = (events: LeadEvent[]) => {
    const fresh = events.filter((e) => (versions.current.get(e.lead.id) ?? -1) <= e.lead.version);
    if (fresh.length === 0) return;
    for (const e of fresh) {
      versions.current.set(e.lead.id, e.lead.version);
      touched.current?.add(e.lead.id);
    }
    setCards((prev) => {
      const next = new Map(prev.map((l) => [l.id, l]));
      for (const e of fresh) {
        if (e.visible && e.lead.status !== "merged") next.set(e.lead.id, e.lead);
        else next.delete(e.lead.id);
      }
      return order([...next.values()]);
    });
  };
  const load = async () => {
    const changing = new Set<string>();
    touched.current = changing;
    try {
      const page = await api<{ items: Lead[] }>("GET", "/api/v1/crm/leads?limit=500&sort=score");
      if (!mounted.current) return;
      setCards((prev) => {
        const out = page.items.filter((l) => !changing.has(l.id));
        for (const l of out) versions.current.set(l.id, l.version);
        return order([...out, ...prev.filter((l) => changing.has(l.id))]);
      });
      setError(null);
    } catch (caught) {
      if (mounted.current) setError(caught);
    } finally {
      if (touched.current === changing) touched.current = null;
    }
  };
  useEffect(() => {
    mounted.current = true;
    const release = holdBoardRoom();
    void load();
    // The board room through the shared room log (roomlog.ts): `crm:join` on every connection
    // with the last seq applied (the server names the room in its answer), `crm:lead` in seq
    // order once each, and a skipped seq or a `room:head` ahead asks again.
    const log = new RoomLog({
      room: null,
      join: async (after): Promise<CatchUp> => {
        setJoined(false);
        const answer = await live.call<BoardJoined>("crm:join", { after_seq: after });
        if (after === null || !answer.complete) {
          await load();
          return { state: answer.seq, room: answer.room };
        }
        return { missed: answer.missed as unknown as LogEvent[], room: answer.room };
      },
      apply: ({ event, data }) => {
        if (event === "crm:lead") apply([data as unknown as LeadEvent]);
      },
      joined: () => {
        if (!mounted.current) return;
        setJoined(true);
        setError(null);
      },
      failed: (caught) => {
        if (mounted.current) setError(caught);
      },
    });
    log.start();
    return () => {
      mounted.current = false;
      log.stop();
      release(); // leaves the board room once no screen holds it
    };
  }, []);
  return { cards, error, joined, reload: () => void load() };
}

/** Text search over names, e-mails and notes (the API's `q`), within the person's scope. */
function LeadSearch() {
  const [q, setQ] = useState("");
  const [asked, setAsked] = useState("");
  const found = useLoad(() => (asked ? api<{ items: Lead[]; total: number }>("GET", `/api/v1/crm/leads?limit=20&q=${encodeURIComponent(asked)}`) : Promise.resolve(null)), [asked]);
  return (
    <div data-testid="lead-search">
      <form class="crm-search" role="search" onSubmit={(e) => {
        e.preventDefault();
        setAsked(q.trim());
      }}>
        <input type="search" aria-label="Search leads" placeholder="Search leads by name, e-mail or notes" value={q} maxLength={100}
          onInput={(e) => setQ((e.target as HTMLInputElement).value)} data-testid="lead-search-input" />
        <Button kind="secondary" testId="lead-search-go">Search</Button>
        {asked && <Button kind="ghost" type="button" onClick={() => { setQ(""); setAsked(""); }}>Clear</Button>}
      </form>
      <Problem error={found.error} />
      {asked && found.data && (
        <Panel title={`${found.data.total} lead(s) match “${asked}”`} testId="lead-search-results">
          {found.data.items.length === 0 && <Empty>No lead matches.</Empty>}
          <ul class="rows">
            {found.data.items.map((l) => (
              <li key={l.id} class="row-end">
                <a href={`/crm/leads/${l.id}`}>{l.full_name}</a>
                <span class="muted small">{l.email ?? "—"} · {label(l.status)}{l.owner_name ? ` · ${l.owner_name}` : ""}</span>
              </li>
            ))}
          </ul>
        </Panel>
      )}
    </div>
  );
}

function Board() {
  const leads = useLiveBoard();
  const [lostFor, setLostFor] = useState<Lead | null>(null);
  const [over, setOver] = useState<string | null>(null);
  const move = useAction(async (lead: Lead, to: string, reason?: string) => {
    if (to === "lost" && !reason) {
      setLostFor(lead);
      return;
    }
    try {
      await moveLead(lead, to, reason);
    } catch (error) {
      leads.reload(); // someone changed it meanwhile: show the lead as it is now
      throw error;
    } finally {
      setLostFor(null);
    }
    leads.reload();
  });
  const items = leads.cards;
  const drop = (to: string, event: DragEvent) => {
    event.preventDefault();
    setOver(null);
    const id = event.dataTransfer?.getData("text/plain");
    const lead = items.find((l) => l.id === id);
    if (lead && lead.status !== to) void move.run(lead, to);
  };
  return (
    <section data-testid="crm-board" data-live={leads.joined ? "joined" : "waiting"}>
      <div class="row-end board-live">
        <span class="small muted" data-testid="board-live">{leads.joined ? "● Live: changes by your team appear here as they happen" : "Connecting…"}</span>
      </div>
      <NewLead onCreated={() => leads.reload()} />
      <LeadSearch />
      <Problem error={leads.error ?? move.error} testId="board-error" />
      {lostFor && <LostReason lead={lostFor} busy={move.busy} onCancel={() => setLostFor(null)} onSubmit={(why) => void move.run(lostFor, "lost", why)} />}
      <div class="board">
        {COLUMNS.map((column) => {
          const cards = items.filter((l) => l.status === column);
          return (
            <div
              key={column}
              class={over === column ? "board-col over" : "board-col"}
              data-testid={`column-${column}`}
              onDragOver={(e) => {
                e.preventDefault();
                setOver(column);
              }}
              onDragLeave={() => setOver(null)}
              onDrop={(e) => drop(column, e)}
            >
              <h2 class="board-col-head">{label(column)} <span class="muted">{cards.length}</span></h2>
              {cards.length === 0 && <p class="muted small board-empty">Nothing here.</p>}
              {cards.map((lead) => (
                <article key={lead.id} class="lead-card" draggable={NEXT[lead.status]?.length !== 0} data-testid={`card-${lead.id}`} data-name={lead.full_name}
                  onDragStart={(e) => e.dataTransfer?.setData("text/plain", lead.id)}>
                  <a class="lead-card-name" href={`/crm/leads/${lead.id}`}>{lead.full_name}</a>
                  <span class="muted small block">{lead.email ?? lead.phone ?? "—"}</span>
                  <span class="lead-card-meta">
                    <Badge tone="brand">{lead.score.total}</Badge>
                    <span class="small muted">{label(lead.source)}{lead.owner_name ? ` · ${lead.owner_name}` : " · unassigned"}</span>
                  </span>
                  {(NEXT[lead.status] ?? []).length > 0 && !lead.erased && (
                    <label class="move-to small">
                      <span class="visually-hidden">Move {lead.full_name} to</span>
                      <select data-testid={`move-${lead.id}`} value="" onChange={(e) => {
                        const to = (e.target as HTMLSelectElement).value;
                        if (to) void move.run(lead, to);
                      }}>
                        <option value="">Move to…</option>
                        {(NEXT[lead.status] ?? []).map((to) => <option key={to} value={to}>{label(to)}</option>)}
                      </select>
                    </label>
                  )}
                </article>
              ))}
            </div>
          );
        })}
      </div>
    </section>
  );
}

function LostReason({ lead, busy, onCancel, onSubmit }: { lead: Lead; busy: boolean; onCancel: () => void; onSubmit: (why: string) => void }) {
  const [why, setWhy] = useState("");
  return (
    <form class="panel panel-pad inline-form lost-form" data-testid="lost-form" onSubmit={(e) => {
      e.preventDefault();
      if (why.trim()) onSubmit(why.trim());
    }}>
      <Field label={`Why was ${lead.full_name} lost?`} testId="lost-reason" value={why} onInput={(e) => setWhy((e.target as HTMLInputElement).value)} required maxLength={500} />
      <div class="form-actions">
        <Button busy={busy} testId="lost-submit">Mark lost</Button>
        <Button kind="ghost" type="button" onClick={onCancel}>Cancel</Button>
      </div>
    </form>
  );
}

function NewLead({ onCreated }: { onCreated: () => void }) {
  const [open, setOpen] = useState(false);
  const [form, setForm] = useState({ full_name: "", email: "", phone: "", city: "" });
  const [dupes, setDupes] = useState<{ lead: Lead }[]>([]);
  const save = useAction(async () => {
    const body = Object.fromEntries(Object.entries(form).filter(([, v]) => v.trim() !== ""));
    const created = await api<{ lead: Lead; possible_duplicates: { lead: Lead }[] }>("POST", "/api/v1/crm/leads", { body });
    setDupes(created.possible_duplicates);
    setForm({ full_name: "", email: "", phone: "", city: "" });
    onCreated();
  });
  const set = (key: keyof typeof form) => (e: Event) => setForm({ ...form, [key]: (e.target as HTMLInputElement).value });
  if (!open) return <div class="row-end"><Button kind="secondary" testId="new-lead-open" onClick={() => setOpen(true)}>New lead</Button></div>;
  return (
    <form class="panel panel-pad form new-lead" data-testid="new-lead" onSubmit={(e) => {
      e.preventDefault();
      void save.run();
    }}>
      <div class="form-row">
        <Field label="Name" testId="lead-name" value={form.full_name} onInput={set("full_name")} required />
        <Field label="E-mail" testId="lead-email" type="email" value={form.email} onInput={set("email")} />
        <Field label="Phone" testId="lead-phone" value={form.phone} onInput={set("phone")} />
        <Field label="City" testId="lead-city" value={form.city} onInput={set("city")} />
      </div>
      <Problem error={save.error} testId="new-lead-error" />
      {dupes.length > 0 && (
        <Notice tone="warn" testId="possible-duplicates">Possibly the same person as {dupes.map((d) => <a key={d.lead.id} href={`/crm/leads/${d.lead.id}`}>{d.lead.full_name} </a>)}— open the lead to merge.</Notice>
      )}
      <div class="form-actions">
        <Button busy={save.busy} testId="lead-save">Add lead</Button>
        <Button kind="ghost" type="button" onClick={() => setOpen(false)}>Close</Button>
      </div>
    </form>
  );
}

// ---- a lead ---------------------------------------------------------------------------------

function TimelineList({ items, onUndo, undoBusy = false }: { items: Activity[]; onUndo?: (mergeId: string) => void; undoBusy?: boolean }) {
  if (items.length === 0) return <Empty>No activity yet.</Empty>;
  return (
    <ol class="timeline" data-testid="timeline">
      {items.map((a) => (
        <li key={a.id} class="timeline-item" data-kind={a.kind}>
          <span class="timeline-kind">{label(a.kind)}</span>
          <span class="timeline-text">{describe(a)}</span>
          <span class="muted small">{when(a.at)}{a.actor_name ? ` · ${a.actor_name}` : ""}</span>
          {onUndo && a.kind === "merged" && a.undoable && (
            <Button kind="ghost" busy={undoBusy} onClick={() => onUndo(String(a.data.merge_id))} testId={`undo-merge-${String(a.data.merge_id)}`}>Undo this merge</Button>
          )}
        </li>
      ))}
    </ol>
  );
}

function describe(a: Activity): string {
  if (a.kind === "status") return `${label(String(a.data.from ?? ""))} → ${label(String(a.data.to ?? ""))}${a.text ? `: ${a.text}` : ""}`;
  if (a.kind === "created") return `Lead created${a.data.source ? ` (${label(String(a.data.source))})` : ""}${a.text ? `: ${a.text}` : ""}`;
  if (a.kind === "converted") return "Became a client";
  if (a.kind === "merged") return `${a.other_name ?? "Another lead"} was merged into this one${a.undoable === false ? " (undone later)" : ""}`;
  if (a.kind === "merge_undone") return `The merge of ${a.other_name ?? "another lead"} was undone`;
  if (a.kind === "invited" && !a.text) return "Invited to the platform";
  if (a.kind === "profile") {
    const fields = Array.isArray(a.data.fields) ? (a.data.fields as string[]).map((f) => label(f)).join(", ") : "";
    return fields ? `Changed: ${fields.toLowerCase()}` : "Profile changed";
  }
  if (a.kind === "assigned") return "Assigned";
  return a.text;
}

/** Converting a qualified lead: the client's starting capacity and risk tolerance, whether to
 * invite them to the platform, and a plain warning that it cannot be undone. */
function ConvertForm({ lead, onCancel }: { lead: Lead; onCancel: () => void }) {
  const [capacity, setCapacity] = useState(lead.investment_capacity ?? "");
  const [risk, setRisk] = useState("");
  const [invite, setInvite] = useState(Boolean(lead.email));
  const convert = useAction(async () => {
    const amount = capacity.trim() ? parseAmountInput(capacity) : null;
    if (capacity.trim() && amount === null) throw new ApiError("Write the capacity as an amount, e.g. 250000 or 2,50,000.50.", 422, "validation_error");
    const done = await api<{ client: Client }>("POST", `/api/v1/crm/leads/${lead.id}/convert`, {
      body: { invite, investment_capacity: amount, investment_profile: risk ? { risk_tolerance: risk } : null, version: lead.version },
    });
    navigate(`/crm/clients/${done.client.id}`);
  });
  return (
    <form class="panel panel-pad form" data-testid="convert-form" onSubmit={(e) => {
      e.preventDefault();
      void convert.run();
    }}>
      <h3>Convert {lead.full_name} to a client</h3>
      <Problem error={convert.error} />
      <Field label="Investment capacity (₹)" testId="convert-capacity" value={capacity} inputMode="decimal" onInput={(e) => setCapacity((e.target as HTMLInputElement).value)} />
      <label class="field"><span class="field-label">Risk tolerance (until they take the questionnaire)</span>
        <select value={risk} data-testid="convert-risk" onChange={(e) => setRisk((e.target as HTMLSelectElement).value)}>
          <option value="">Not known yet</option>
          {["conservative", "moderate", "aggressive"].map((r) => <option key={r} value={r}>{label(r)}</option>)}
        </select>
      </label>
      <label class="check"><input type="checkbox" checked={invite} disabled={!lead.email} data-testid="convert-invite" onChange={(e) => setInvite((e.target as HTMLInputElement).checked)} /> Invite them to the platform{lead.email ? ` (${lead.email}; an existing account is only asked to link)` : " (no e-mail address)"}</label>
      <p class="small muted">Converting cannot be undone: the lead becomes a client with its history.</p>
      <div class="form-actions">
        <Button busy={convert.busy} testId="convert-confirm">Convert</Button>
        <Button kind="ghost" type="button" onClick={onCancel}>Cancel</Button>
      </div>
    </form>
  );
}

/** The contact fields a lead's and a client's edit forms share (`prefix` starts their test ids);
 * the phone is only ever replaced, never shown back. */
function ContactFields({ f, set, prefix }: { f: { full_name: string; email: string; phone: string; city: string; company: string }; set: (key: string) => (e: Event) => void; prefix: string }) {
  return (
    <>
      <Field label="Name" testId={`${prefix}name`} value={f.full_name} required maxLength={120} onInput={set("full_name")} />
      <Field label="E-mail" testId={`${prefix}email`} type="email" value={f.email} maxLength={254} onInput={set("email")} />
      <Field label="New phone number (leave empty to keep)" testId={`${prefix}phone`} type="tel" value={f.phone} maxLength={32} onInput={set("phone")} />
      <Field label="City" testId={`${prefix}city`} value={f.city} maxLength={80} onInput={set("city")} />
      <Field label="Company" testId={`${prefix}company`} value={f.company} maxLength={120} onInput={set("company")} />
    </>
  );
}

/** Edit a lead's contact details (re-checked for duplicates by the API). */
function LeadEdit({ lead, onSaved, onCancel }: { lead: Lead; onSaved: () => void; onCancel: () => void }) {
  const [f, setF] = useState({ full_name: lead.full_name, email: lead.email ?? "", phone: "", city: lead.city ?? "", company: lead.company ?? "", capacity: lead.investment_capacity ?? "" });
  const save = useAction(async () => {
    const amount = f.capacity.trim() ? parseAmountInput(f.capacity) : null;
    if (f.capacity.trim() && amount === null) throw new ApiError("Write the capacity as an amount, e.g. 250000 or 2,50,000.50.", 422, "validation_error");
    const body: Record<string, unknown> = { full_name: f.full_name, email: f.email.trim() || null, city: f.city.trim() || null, company: f.company.trim() || null, investment_capacity: amount };
    if (f.phone.trim()) body.phone = f.phone.trim();
    await api("PATCH", `/api/v1/crm/leads/${lead.id}`, { body });
    onSaved();
  });
  const set = (key: string) => (e: Event) => setF({ ...f, [key]: (e.target as HTMLInputElement).value });
  return (
    <form class="form" data-testid="lead-edit" onSubmit={(e) => {
      e.preventDefault();
      void save.run();
    }}>
      <Problem error={save.error} />
      <ContactFields f={f} set={set} prefix="lead-edit-" />
      <Field label="Investment capacity (₹)" testId="lead-edit-capacity" value={f.capacity} inputMode="decimal" onInput={set("capacity")} />
      <div class="form-actions">
        <Button busy={save.busy} testId="lead-edit-save">Save</Button>
        <Button kind="ghost" type="button" onClick={onCancel}>Cancel</Button>
      </div>
    </form>
  );
}

function LeadPage({ leadId }: { leadId: string }) {
  const lead = useLoad(() => api<Lead>("GET", `/api/v1/crm/leads/${leadId}`), [leadId]);
  const timeline = useLoad(() => api<{ items: Activity[] }>("GET", `/api/v1/crm/leads/${leadId}/timeline`), [leadId]);
  const dupes = useLoad(() => api<{ items: { lead: Lead; name_ratio: number; email_ratio: number }[] }>("GET", `/api/v1/crm/leads/${leadId}/duplicates`), [leadId]);
  const [note, setNote] = useState({ kind: "note", text: "" });
  const [reminder, setReminder] = useState({ text: "", due: "" });
  const [lost, setLost] = useState(false);
  const [converting, setConverting] = useState(() => new URLSearchParams(window.location.search).has("convert"));
  const [editing, setEditing] = useState(false);
  const refresh = () => {
    lead.reload();
    timeline.reload();
    dupes.reload();
  };
  const liveLead = useLiveLead(leadId, refresh);
  const act = useAction(async (to: string, reason?: string) => {
    if (!lead.data) return;
    if (to === "converted") {
      setConverting(true);
      return;
    }
    try {
      await moveLead(lead.data, to, reason);
    } finally {
      setLost(false);
      refresh(); // after a refusal too: someone may have changed it meanwhile
    }
  });
  const log = useAction(async () => {
    await api("POST", `/api/v1/crm/leads/${leadId}/activities`, { body: note });
    setNote({ ...note, text: "" });
    refresh();
  });
  const remind = useAction(async () => {
    const due = new Date(reminder.due);
    if (Number.isNaN(due.getTime())) throw new ApiError("Pick when to be reminded.", 422, "validation_error");
    await api("POST", "/api/v1/crm/reminders", { body: { lead_id: leadId, text: reminder.text, due_at: due.toISOString() } });
    setReminder({ text: "", due: "" });
    timeline.reload();
  });
  const [confirmMerge, setConfirmMerge] = useState<Lead | null>(null);
  const merge = useAction(async (otherId: string) => {
    const done = await api<{ id: string }>("POST", `/api/v1/crm/leads/${leadId}/merge`, { body: { other_id: otherId } });
    setConfirmMerge(null);
    setLastMerge(done.id);
    refresh();
  });
  const staff = useLoad(() => api<{ items: { user_id: string; full_name: string; active: boolean }[] }>("GET", "/api/v1/crm/staff"));
  const assign = useAction(async (ownerId: string) => {
    await api("POST", `/api/v1/crm/leads/${leadId}/assign`, { body: { owner_id: ownerId } });
    refresh();
  });
  const [lastMerge, setLastMerge] = useState<string | null>(null);
  const undo = useAction(async (mergeId?: string) => {
    const which = mergeId ?? lastMerge;
    if (!which) return;
    await api("POST", `/api/v1/crm/merges/${which}/undo`);
    setLastMerge(null);
    refresh();
  });
  const merged = lead.data?.status === "merged";
  const l = lead.data;
  if (liveLead.gone) {
    const to = liveLead.gone.lead.owner_name;
    return (
      <Notice tone="info" testId="lead-gone">
        {liveLead.gone.lead.full_name} was handed to {to ?? "someone else"}: it is no longer in your book. <a href="/crm">Back to the pipeline</a>
      </Notice>
    );
  }
  // A reload that fails (a live change fetched again on a busy server) keeps the page as it
  // was, forms and questions open, with the problem above it; only a first load that fails
  // shows the problem alone.
  if (lead.error && !l) return <Problem error={lead.error} />;
  if (!l) return <p class="muted">Loading…</p>;
  return (
    <div class="crm-detail" data-testid="lead-page" data-status={l.status} data-live={liveLead.joined ? "joined" : "waiting"}>
      <div class="crm-detail-head">
        <div>
          <h2 data-testid="lead-title">{l.full_name}</h2>
          <p class="muted">{label(l.source)} · {l.owner_name ?? "unassigned"} · since {when(l.created_at)}</p>
        </div>
        <Badge tone={l.status === "converted" ? "ok" : l.status === "lost" ? "bad" : "brand"} testId="lead-status">{label(l.status)}</Badge>
      </div>
      <Problem error={act.error ?? log.error ?? remind.error ?? merge.error ?? undo.error ?? assign.error ?? lead.error} />
      <div class="crm-columns">
        <div class="stack">
          <Panel title="Contact" actions={!editing && !merged && !l.erased && <Button kind="ghost" onClick={() => setEditing(true)} testId="lead-edit-open">Edit</Button>}>
            {editing && <LeadEdit lead={l} onCancel={() => setEditing(false)} onSaved={() => {
              setEditing(false);
              refresh();
            }} />}
            <dl class="facts">
              <dt>E-mail</dt><dd>{l.email ?? "—"}</dd>
              <dt>Phone</dt><dd data-testid="lead-phone-shown">{l.phone ?? "—"}</dd>
              <dt>City</dt><dd>{l.city ?? "—"}</dd>
              <dt>Company</dt><dd>{l.company ?? "—"}</dd>
              <dt>Capacity</dt><dd>{money(l.investment_capacity)}</dd>
              <dt>Owner</dt>
              <dd>
                {(staff.data?.items.length ?? 0) > 1 && !["converted", "merged"].includes(l.status) ? (
                  <select aria-label="Owner" data-testid="lead-owner" value={l.owner_id ?? ""} disabled={assign.busy}
                    onChange={(e) => {
                      const to = (e.target as HTMLSelectElement).value;
                      if (to && to !== l.owner_id) void assign.run(to);
                    }}>
                    {!l.owner_id && <option value="">Unassigned</option>}
                    {staff.data?.items.filter((m) => m.active || m.user_id === l.owner_id).map((m) => <option key={m.user_id} value={m.user_id}>{m.full_name}</option>)}
                  </select>
                ) : (l.owner_name ?? "Unassigned")}
              </dd>
              {l.lost_reason && <><dt>Lost because</dt><dd>{l.lost_reason}</dd></>}
              {l.message && <><dt>Message</dt><dd>{l.message}</dd></>}
            </dl>
            <div class="form-actions">
              {(NEXT[l.status] ?? []).map((to) => (
                <Button key={to} kind={to === "lost" ? "ghost" : to === "converted" ? "primary" : "secondary"} busy={act.busy} testId={`to-${to}`}
                  onClick={() => (to === "lost" ? setLost(true) : void act.run(to))}>
                  {to === "converted" ? "Convert to client" : `Mark ${to}`}
                </Button>
              ))}
              {l.client_id && <a class="btn btn-secondary" href={`/crm/clients/${l.client_id}`} data-testid="open-client">Open client</a>}
            </div>
            {lost && <LostReason lead={l} busy={act.busy} onCancel={() => setLost(false)} onSubmit={(why) => void act.run("lost", why)} />}
            {converting && l.status === "qualified" && <ConvertForm lead={l} onCancel={() => setConverting(false)} />}
          </Panel>
          <Panel title={`Score ${l.score.total}`} testId="score">
            <ul class="score-parts">
              <li><span>Source</span><strong>{l.score.source}</strong></li>
              <li><span>Engagement</span><strong>{l.score.engagement}</strong></li>
              <li><span>Completeness</span><strong>{l.score.completeness}</strong></li>
              <li><span>Inactivity decay</span><strong>× {bpsPercent(l.score.decay_bp)}</strong></li>
            </ul>
            <p class="small muted">{l.score.days_inactive} day(s) since the last activity.</p>
          </Panel>
          {(dupes.data?.items.length ?? 0) > 0 && !merged && (
            <Panel title="Possible duplicates" testId="duplicates">
              <ul class="rows">
                {dupes.data?.items.map((d) => (
                  <li key={d.lead.id} class="row-end">
                    <a href={`/crm/leads/${d.lead.id}`}>{d.lead.full_name}</a>
                    <span class="small muted">{d.lead.email} · name {d.name_ratio}% · e-mail {d.email_ratio}%</span>
                    <Button kind="secondary" busy={merge.busy} onClick={() => setConfirmMerge(d.lead)} testId={`merge-${d.lead.id}`}>Merge into this…</Button>
                  </li>
                ))}
              </ul>
              {confirmMerge && (
                <div class="alert alert-warn" role="alertdialog" data-testid="merge-confirm">
                  <p>Merge <strong>{confirmMerge.full_name}</strong> ({confirmMerge.email ?? "no e-mail"}) into <strong>{l.full_name}</strong>? Its activities and reminders move here, and it keeps no work of its own. You can undo it from the timeline.</p>
                  <div class="form-actions">
                    <Button busy={merge.busy} onClick={() => void merge.run(confirmMerge.id)} testId="merge-confirm-yes">Merge</Button>
                    <Button kind="ghost" onClick={() => setConfirmMerge(null)}>Cancel</Button>
                  </div>
                </div>
              )}
            </Panel>
          )}
          {lastMerge && <Notice tone="ok" testId="merged">Merged. <Button kind="ghost" busy={undo.busy} onClick={() => void undo.run()} testId="undo-merge">Undo</Button></Notice>}
        </div>
        <div class="stack">
          {merged && (
            <Notice tone="info" testId="merged-away">This lead was merged into <a href={`/crm/leads/${l.merged_into ?? ""}`} data-testid="merged-into">another lead</a>: work on that one (the merge can be undone from its timeline).</Notice>
          )}
          {!merged && !l.erased && <Panel title="Log an activity">
            <form class="form" onSubmit={(e) => {
              e.preventDefault();
              void log.run();
            }}>
              <label class="field"><span class="field-label">Kind</span>
                <select value={note.kind} data-testid="activity-kind" onChange={(e) => setNote({ ...note, kind: (e.target as HTMLSelectElement).value })}>
                  {["note", "call", "email", "meeting"].map((k) => <option key={k} value={k}>{label(k)}</option>)}
                </select>
              </label>
              <label class="field"><span class="field-label">What happened</span>
                <textarea required maxLength={4000} rows={3} value={note.text} data-testid="activity-text" onInput={(e) => setNote({ ...note, text: (e.target as HTMLTextAreaElement).value })} />
              </label>
              <Button busy={log.busy} testId="activity-save">Save</Button>
            </form>
          </Panel>}
          {!merged && !l.erased && <Panel title="Follow-up reminder">
            <form class="form" onSubmit={(e) => {
              e.preventDefault();
              void remind.run();
            }}>
              <Field label="About" testId="reminder-text" value={reminder.text} required maxLength={500} onInput={(e) => setReminder({ ...reminder, text: (e.target as HTMLInputElement).value })} />
              <Field label="When" testId="reminder-due" type="datetime-local" value={reminder.due} required onInput={(e) => setReminder({ ...reminder, due: (e.target as HTMLInputElement).value })} />
              <Button busy={remind.busy} testId="reminder-save">Remind me</Button>
            </form>
          </Panel>}
          <Panel title="Timeline">
            <TimelineList items={timeline.data?.items ?? []} onUndo={(id) => void undo.run(id)} undoBusy={undo.busy} />
          </Panel>
          {!merged && <EraseOnRequest leadId={leadId} erased={l.erased} onDone={refresh} />}
        </div>
      </div>
    </div>
  );
}

interface ErasureOut {
  lead_id: string;
  client_id: string | null;
  account: "erased" | "kept" | "none";
  retained: { kind: string; count: number; reason: string }[];
}

/** Erasure on the person's request (admins): asks first, then says what happened to their
 * platform account — erased with the CRM's records when the CRM made it and nothing holds it,
 * else what keeps it and why (legal retention). */
function EraseOnRequest({ leadId, erased, onDone }: { leadId: string; erased: boolean; onDone: () => void }) {
  const me = useStore(session.me);
  const [asking, setAsking] = useState(false);
  const [done, setDone] = useState<ErasureOut | null>(null);
  const erase = useAction(async () => {
    const out = await api<ErasureOut>("DELETE", `/api/v1/crm/leads/${leadId}`);
    setAsking(false);
    setDone(out);
    onDone();
  });
  if (!me?.roles.includes("admin") || (erased && !done)) return null;
  const sentence = (text: string) => `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
  return (
    <Panel title="Erase on their request" testId="erasure">
      <Problem error={erase.error} />
      {done ? (
        <div class="alert alert-ok" role="status" data-testid="erasure-done" data-account={done.account}>
          <p>Erased: their name, contacts, notes and reminders are gone from the CRM; the audit trail keeps only a keyed hash.</p>
          {done.account === "erased" && <p data-testid="erasure-account">Their platform account, which the CRM made for them, was erased too: it is anonymised and can never sign in again.</p>}
          {done.account === "none" && <p data-testid="erasure-account">They had no platform account.</p>}
          {done.account === "kept" && (
            <>
              <p data-testid="erasure-account">Their platform account stays, and this is why:</p>
              <ul data-testid="erasure-retained">
                {done.retained.map((r) => <li key={r.kind} data-kind={r.kind}>{sentence(r.reason)}</li>)}
              </ul>
            </>
          )}
        </div>
      ) : asking ? (
        <div class="alert alert-warn" role="alertdialog" data-testid="erasure-confirm">
          <p>Erase everything the CRM holds on this person? Their name, contacts, notes and reminders are removed for good. Their platform account is erased too when the CRM made it and they hold nothing on the platform; otherwise it stays for the law's retention period, and you will see why.</p>
          <div class="form-actions">
            <Button kind="danger" busy={erase.busy} onClick={() => void erase.run()} testId="erasure-yes">Erase</Button>
            <Button kind="ghost" onClick={() => setAsking(false)}>Cancel</Button>
          </div>
        </div>
      ) : (
        <Button kind="ghost" onClick={() => setAsking(true)} testId="erasure-open">Erase this person's data…</Button>
      )}
    </Panel>
  );
}

// ---- clients --------------------------------------------------------------------------------

function Clients() {
  const [q, setQ] = useState("");
  const [search, setSearch] = useState("");
  const clients = useLoad(() => api<{ items: Client[]; total: number }>("GET", `/api/v1/crm/clients?limit=200${search ? `&q=${encodeURIComponent(search)}` : ""}`), [search]);
  return (
    <Panel title={`Clients${clients.data ? ` (${clients.data.total})` : ""}`} testId="clients" actions={
      <form class="inline-form" onSubmit={(e) => {
        e.preventDefault();
        setSearch(q.trim());
      }}>
        <input aria-label="Search clients" placeholder="Name or e-mail" value={q} onInput={(e) => setQ((e.target as HTMLInputElement).value)} />
        <Button kind="secondary">Search</Button>
      </form>
    }>
      <NewClient />
      <Problem error={clients.error} />
      {clients.data?.items.length === 0 && <Empty>No clients yet. Convert a qualified lead, or add one.</Empty>}
      <div class="table-wrap">
        <table class="crm-table">
          <thead><tr><th>Name</th><th>Segment</th><th>Status</th><th>Manager</th><th>Since</th></tr></thead>
          <tbody>
            {clients.data?.items.map((c) => (
              <tr key={c.id} data-testid={`client-row-${c.id}`}>
                <td><a href={`/crm/clients/${c.id}`}>{c.full_name}</a><span class="muted small block">{c.email}</span></td>
                <td>{label(c.segment)}</td><td>{label(c.status)}</td><td>{c.owner_name ?? "—"}</td><td>{when(c.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Panel>
  );
}

/** A client entered directly (not a lead first); the same duplicate rule as leads. */
function NewClient() {
  const [open, setOpen] = useState(false);
  const empty = { full_name: "", email: "", phone: "", city: "", investment_capacity: "" };
  const [form, setForm] = useState(empty);
  const [invite, setInvite] = useState(false);
  const save = useAction(async () => {
    const fields = Object.fromEntries(Object.entries(form).filter(([, v]) => v.trim() !== ""));
    if (fields.investment_capacity) {
      const amount = parseAmountInput(String(fields.investment_capacity));
      if (!amount) throw new ApiError("Enter the capacity in rupees, like 500000 or 500000.50.", 422, "validation_error");
      fields.investment_capacity = amount;
    }
    const made = await api<{ client: Client }>("POST", "/api/v1/crm/clients", { body: { ...fields, invite } });
    setForm(empty);
    navigate(`/crm/clients/${made.client.id}`);
  });
  const set = (key: keyof typeof form) => (e: Event) => setForm({ ...form, [key]: (e.target as HTMLInputElement).value });
  if (!open) return <div class="row-end"><Button kind="secondary" testId="new-client-open" onClick={() => setOpen(true)}>New client</Button></div>;
  return (
    <form class="panel panel-pad form new-lead" data-testid="new-client" onSubmit={(e) => {
      e.preventDefault();
      void save.run();
    }}>
      <div class="form-row">
        <Field label="Name" testId="client-name" value={form.full_name} onInput={set("full_name")} required />
        <Field label="E-mail" testId="client-email" type="email" value={form.email} onInput={set("email")} />
        <Field label="Phone" testId="client-phone" value={form.phone} onInput={set("phone")} />
        <Field label="City" testId="client-city" value={form.city} onInput={set("city")} />
        <Field label="Investment capacity (₹)" testId="client-capacity" value={form.investment_capacity} onInput={set("investment_capacity")} inputMode="decimal" />
      </div>
      <label class="check"><input type="checkbox" checked={invite} onChange={(e) => setInvite((e.target as HTMLInputElement).checked)} data-testid="client-invite" /> Invite them to the platform</label>
      <Problem error={save.error} testId="new-client-error" />
      <div class="form-actions">
        <Button busy={save.busy} testId="client-save">Add client</Button>
        <Button kind="ghost" type="button" onClick={() => setOpen(false)}>Close</Button>
      </div>
    </form>
  );
}

interface KycDoc {
  id: string;
  kind: string;
  status: string;
  number: string | null;
  expires_on: string | null;
  rejection_reason?: string | null;
}

const KYC_KINDS: [string, string][] = [["pan", "PAN"], ["aadhaar", "Aadhaar"], ["driving_licence", "Driving licence"], ["address_proof", "Proof of address"]];
const PROOFS = ["passport", "utility_bill", "bank_statement", "rent_agreement", "voter_id"];

/** The client's KYC as the KYC service sees it, and a scan uploaded by staff for review. */
function ClientKycPanel({ client, changes = 0, onChange }: { client: Client; changes?: number; onChange: () => void }) {
  const kyc = useLoad(() => api<{ member: boolean; status: string; missing: string[]; documents: KycDoc[] }>("GET", `/api/v1/crm/clients/${client.id}/kyc`), [client.id, client.user_id, changes]);
  const [form, setForm] = useState({ kind: "pan", number: "", proof_type: "", issued_on: "", expires_on: "" });
  const [file, setFile] = useState<File | null>(null);
  const invite = useAction(async () => {
    await api("POST", `/api/v1/crm/clients/${client.id}/invite`);
    onChange();
  });
  const upload = useAction(async () => {
    if (!file) throw new ApiError("Choose the scan (PDF, PNG or JPEG).", 422, "file_missing");
    const body = new FormData();
    body.append("client_id", client.id);
    for (const [key, value] of Object.entries(form)) if (value.trim()) body.append(key, value.trim());
    body.append("file", file, file.name);
    await api("POST", "/api/v1/crm/kyc/documents", { body });
    setForm({ ...form, number: "" });
    setFile(null);
    kyc.reload();
    onChange();
  });
  const set = (key: keyof typeof form) => (e: Event) => setForm({ ...form, [key]: (e.target as HTMLInputElement).value });
  const k = kyc.data;
  return (
    <Panel title="KYC documents" testId="client-kyc-panel">
      <Problem error={kyc.error ?? invite.error ?? upload.error} testId="kyc-error" />
      {k && !k.member && (
        <div class="row-end">
          <span class="muted small">KYC documents are held on the client's platform account.</span>
          <Button kind="secondary" busy={invite.busy} testId="client-invite-now" onClick={() => void invite.run()}>Invite to the platform</Button>
        </div>
      )}
      {k?.member && (
        <>
          <p class="small">Status <strong data-testid="kyc-status">{label(k.status)}</strong>{k.missing.length > 0 ? ` · missing ${k.missing.map(label).join(", ")}` : ""}</p>
          {k.documents.length > 0 && (
            <ul class="rows" data-testid="kyc-documents">
              {k.documents.map((d) => (
                <li key={d.id} class="row-end" data-kind={d.kind} data-status={d.status}>
                  <span>{KYC_KINDS.find(([v]) => v === d.kind)?.[1] ?? label(d.kind)} {d.number ? <span class="muted small">{d.number}</span> : null}</span>
                  <Badge tone={d.status === "verified" ? "ok" : d.status === "pending" ? "brand" : "warn"}>{label(d.status)}</Badge>
                </li>
              ))}
            </ul>
          )}
          {!client.erased && <form class="form" data-testid="kyc-upload" onSubmit={(e) => {
            e.preventDefault();
            void upload.run();
          }}>
            <div class="form-row">
              <label class="field"><span class="field-label">Document</span>
                <select value={form.kind} data-testid="kyc-kind" onChange={(e) => setForm({ ...form, kind: (e.target as HTMLSelectElement).value })}>
                  {KYC_KINDS.map(([v, t]) => <option key={v} value={v}>{t}</option>)}
                </select>
              </label>
              {form.kind !== "address_proof" && <Field label="Number" testId="kyc-number" value={form.number} onInput={set("number")} />}
              {form.kind === "address_proof" && (
                <label class="field"><span class="field-label">Proof</span>
                  <select value={form.proof_type} onChange={(e) => setForm({ ...form, proof_type: (e.target as HTMLSelectElement).value })}>
                    <option value="">Choose…</option>
                    {PROOFS.map((p) => <option key={p} value={p}>{label(p)}</option>)}
                  </select>
                </label>
              )}
              {(form.kind === "address_proof") && <Field label="Issued on" testId="kyc-issued" type="date" value={form.issued_on} onInput={set("issued_on")} />}
              {(form.kind === "driving_licence" || form.kind === "address_proof") && <Field label="Expires on" testId="kyc-expires" type="date" value={form.expires_on} onInput={set("expires_on")} />}
            </div>
            <input type="file" accept="application/pdf,image/png,image/jpeg" data-testid="kyc-file" onChange={(e) => setFile((e.target as HTMLInputElement).files?.[0] ?? null)} />
            <Button kind="secondary" busy={upload.busy} testId="kyc-upload-save">Upload for review</Button>
          </form>}
        </>
      )}
    </Panel>
  );
}

interface Advisory {
  user_id: string | null;
  risk_profile: { profile: string; score: number; horizon_years: number; taken_at: string } | null;
  accounts: { account_id: string; kind: string; name: string; currency: string }[];
  client_path: string;
}

/** The client's advisory profile, from the advisory service (questionnaire, portfolios). */
function AdvisoryPanel({ client }: { client: Client }) {
  const advice = useLoad(() => api<Advisory>("GET", `/api/v1/crm/clients/${client.id}/advisory`), [client.id, client.user_id]);
  const a = advice.data;
  return (
    <Panel title="Advisory profile" testId="client-advisory">
      <Problem error={advice.error} />
      {a && !a.user_id && <Empty>Not a platform member yet: no advisory profile.</Empty>}
      {a?.user_id && !a.risk_profile && <Empty testId="advisory-none">Has not taken the risk questionnaire yet.</Empty>}
      {a?.risk_profile && (
        <dl class="facts">
          <dt>Risk profile</dt><dd data-testid="advisory-profile">{label(a.risk_profile.profile)}</dd>
          <dt>Score</dt><dd>{a.risk_profile.score} / 100</dd>
          <dt>Horizon</dt><dd>{a.risk_profile.horizon_years} years</dd>
          <dt>Taken</dt><dd>{when(a.risk_profile.taken_at)}</dd>
        </dl>
      )}
      {(a?.accounts.length ?? 0) > 0 && (
        <ul class="rows" data-testid="advisory-accounts">
          {a?.accounts.map((x) => <li key={x.account_id} class="row-end"><span>{x.name || "Portfolio"}</span><span class="muted small">{label(x.kind)} · {x.currency}</span></li>)}
        </ul>
      )}
    </Panel>
  );
}

/** `/crm/people/<user id>`: from a platform account (an advisory profile, a booking) back to
 * the CRM client it belongs to, when that client is in your book. */
function PersonToClient({ userId }: { userId: string }) {
  const found = useLoad(() => api<Client>("GET", `/api/v1/crm/clients/by-user/${encodeURIComponent(userId)}`), [userId]);
  useEffect(() => {
    if (found.data) navigate(`/crm/clients/${found.data.id}`);
  }, [found.data]);
  return found.error ? <Problem error={found.error} /> : <p class="muted">Finding the client…</p>;
}

interface Portfolio {
  member: boolean;
  investments: { club_id: string; club_name: string; currency: string; valuation_date: string | null; units: string; paid_in: string; value: string }[];
  transactions: { club_id: string; club_name: string; kind: string; amount: string; currency: string; status: string; on: string }[];
  accounts: { account_id: string; name: string; currency: string; value: string | null }[];
  totals: { currency: string; value: string; paid_in: string }[];
  total_currency: string;
  total_value: string | null;
  total_paid_in: string | null;
  total_note: string;
}

const words = (text: string): string[] => text.split(",").map((w) => w.trim()).filter(Boolean);

/** Edit a client's contact details, standing (active, inactive, suspended), capacity, goals,
 * preferred products and how they like to be reached. */
function ClientEdit({ client, onSaved, onCancel }: { client: Client; onSaved: () => void; onCancel: () => void }) {
  const [f, setF] = useState({
    full_name: client.full_name, email: client.email ?? "", phone: "", city: client.city ?? "", company: client.company ?? "",
    status: client.status, capacity: client.investment_capacity ?? "",
    goals: client.investment_profile.goals.join(", "), products: client.investment_profile.preferred_products.join(", "),
    channel: client.preferences?.channel ?? "email", best_time: client.preferences?.best_time ?? "",
    do_not_contact: client.preferences?.do_not_contact ?? false,
  });
  const save = useAction(async () => {
    const amount = f.capacity.trim() ? parseAmountInput(f.capacity) : null;
    if (f.capacity.trim() && amount === null) throw new ApiError("Write the capacity as an amount, e.g. 250000 or 2,50,000.50.", 422, "validation_error");
    const body: Record<string, unknown> = {
      full_name: f.full_name, email: f.email.trim() || null, city: f.city.trim() || null, company: f.company.trim() || null,
      status: f.status, investment_capacity: amount,
      investment_profile: { ...client.investment_profile, goals: words(f.goals), preferred_products: words(f.products) },
      preferences: { ...(client.preferences ?? { language: null }), channel: f.channel, best_time: f.best_time.trim() || null, do_not_contact: f.do_not_contact },
    };
    if (f.phone.trim()) body.phone = f.phone.trim();
    await api("PATCH", `/api/v1/crm/clients/${client.id}`, { body });
    onSaved();
  });
  const set = (key: string) => (e: Event) => setF({ ...f, [key]: (e.target as HTMLInputElement).value });
  return (
    <form class="form" data-testid="client-edit" onSubmit={(e) => {
      e.preventDefault();
      void save.run();
    }}>
      <Problem error={save.error} />
      <ContactFields f={f} set={set} prefix="edit-" />
      <label class="field"><span class="field-label">Status</span>
        <select value={f.status} data-testid="edit-status" onChange={set("status")}>
          {["active", "inactive", "suspended"].map((x) => <option key={x} value={x}>{label(x)}</option>)}
        </select>
      </label>
      <Field label="Investment capacity (₹)" testId="edit-capacity" value={f.capacity} inputMode="decimal" onInput={set("capacity")} />
      <Field label="Goals (comma separated)" testId="edit-goals" value={f.goals} onInput={set("goals")} />
      <Field label="Preferred products (comma separated)" testId="edit-products" value={f.products} onInput={set("products")} />
      <label class="field"><span class="field-label">Reach them by</span>
        <select value={f.channel} data-testid="edit-channel" onChange={set("channel")}>
          {["email", "phone", "whatsapp"].map((x) => <option key={x} value={x}>{label(x)}</option>)}
        </select>
      </label>
      <Field label="Best time" testId="edit-best-time" value={f.best_time} maxLength={80} onInput={set("best_time")} />
      <label class="check"><input type="checkbox" checked={f.do_not_contact} onChange={(e) => setF({ ...f, do_not_contact: (e.target as HTMLInputElement).checked })} /> Do not contact</label>
      <div class="form-actions">
        <Button busy={save.busy} testId="edit-save">Save</Button>
        <Button kind="ghost" type="button" onClick={onCancel}>Cancel</Button>
      </div>
    </form>
  );
}

/** Log a call, e-mail, meeting or note on a client, and set a follow-up about them. */
function ClientWork({ clientId, onDone }: { clientId: string; onDone: () => void }) {
  const [note, setNote] = useState({ kind: "note", text: "" });
  const [reminder, setReminder] = useState({ text: "", due: "" });
  const log = useAction(async () => {
    await api("POST", `/api/v1/crm/clients/${clientId}/activities`, { body: note });
    setNote({ ...note, text: "" });
    onDone();
  });
  const remind = useAction(async () => {
    const due = new Date(reminder.due);
    if (Number.isNaN(due.getTime())) throw new ApiError("Pick when to be reminded.", 422, "validation_error");
    await api("POST", "/api/v1/crm/reminders", { body: { client_id: clientId, text: reminder.text, due_at: due.toISOString() } });
    setReminder({ text: "", due: "" });
    onDone();
  });
  return (
    <Panel title="Log an activity or a follow-up" testId="client-work">
      <Problem error={log.error ?? remind.error} />
      <form class="form" onSubmit={(e) => {
        e.preventDefault();
        void log.run();
      }}>
        <label class="field"><span class="field-label">Kind</span>
          <select value={note.kind} data-testid="client-activity-kind" onChange={(e) => setNote({ ...note, kind: (e.target as HTMLSelectElement).value })}>
            {["note", "call", "email", "meeting"].map((k) => <option key={k} value={k}>{label(k)}</option>)}
          </select>
        </label>
        <label class="field"><span class="field-label">What happened</span>
          <textarea required maxLength={4000} rows={2} value={note.text} data-testid="client-activity-text" onInput={(e) => setNote({ ...note, text: (e.target as HTMLTextAreaElement).value })} />
        </label>
        <Button busy={log.busy} testId="client-activity-save">Save</Button>
      </form>
      <form class="form" onSubmit={(e) => {
        e.preventDefault();
        void remind.run();
      }}>
        <Field label="Follow up about" testId="client-reminder-text" value={reminder.text} required maxLength={500} onInput={(e) => setReminder({ ...reminder, text: (e.target as HTMLInputElement).value })} />
        <Field label="When" testId="client-reminder-due" type="datetime-local" value={reminder.due} required onInput={(e) => setReminder({ ...reminder, due: (e.target as HTMLInputElement).value })} />
        <Button kind="secondary" busy={remind.busy} testId="client-reminder-save">Remind me</Button>
      </form>
    </Panel>
  );
}

function ClientPage({ clientId }: { clientId: string }) {
  const client = useLoad(() => api<Client>("GET", `/api/v1/crm/clients/${clientId}`), [clientId]);
  const timeline = useLoad(() => api<{ items: Activity[] }>("GET", `/api/v1/crm/clients/${clientId}/timeline`), [clientId]);
  const folio = useLoad(() => api<Portfolio>("GET", `/api/v1/crm/clients/${clientId}/investments`), [clientId]);
  const advice = useLoad(() => api<Advisory>("GET", `/api/v1/crm/clients/${clientId}/advisory`), [clientId]);
  const [risk, setRisk] = useState("");
  const [editing, setEditing] = useState(false);
  // Bumped on every change another person makes, so panels that load their own data (KYC)
  // read it again too.
  const [changes, setChanges] = useState(0);
  const liveClient = useLiveClient(clientId, () => {
    client.reload();
    timeline.reload();
    folio.reload();
    advice.reload();
    setChanges((n) => n + 1);
  });
  const save = useAction(async (body: Record<string, unknown>) => {
    await api("PATCH", `/api/v1/crm/clients/${clientId}`, { body });
    client.reload();
    timeline.reload();
  });
  const c = client.data;
  if (liveClient.gone) {
    return (
      <Notice tone="info" testId="client-gone">
        {c?.full_name ?? "This client"} was handed to someone else: they are no longer in your book. <a href="/crm/clients">Back to the clients</a>
      </Notice>
    );
  }
  if (client.error && !c) return <Problem error={client.error} />; // as on the lead page
  if (!c) return <p class="muted">Loading…</p>;
  const questionnaire = advice.data?.risk_profile ?? null;
  return (
    <div class="crm-detail" data-testid="client-page" data-live={liveClient.joined ? "joined" : "waiting"}>
      <div class="crm-detail-head">
        <div>
          <h2 data-testid="client-title">{c.full_name}</h2>
          <p class="muted">Client since {when(c.created_at)} · manager {c.owner_name ?? "—"} · <a href={`/crm/leads/${c.lead_id}`}>lead history</a></p>
        </div>
        <Badge tone={c.status === "active" ? "ok" : c.status === "suspended" ? "bad" : "warn"} testId="client-status">{label(c.status)}</Badge>
      </div>
      <Problem error={save.error ?? folio.error ?? client.error} />
      <div class="crm-columns">
        <div class="stack">
          <Panel title="Profile" actions={!editing && !c.erased && <Button kind="ghost" onClick={() => setEditing(true)} testId="client-edit-open">Edit</Button>}>
            {editing ? <ClientEdit client={c} onCancel={() => setEditing(false)} onSaved={() => {
              setEditing(false);
              client.reload();
              timeline.reload();
            }} /> : (
            <dl class="facts">
              <dt>E-mail</dt><dd data-testid="client-email">{c.email ?? "—"}</dd>
              <dt>Phone</dt><dd>{c.phone ?? "—"}</dd>
              <dt>City</dt><dd>{c.city ?? "—"}</dd>
              <dt>Segment</dt><dd data-testid="client-segment">{label(c.segment)}</dd>
              <dt>Capacity</dt><dd>{money(c.investment_capacity)}</dd>
              <dt>KYC</dt><dd data-testid="client-kyc">{label(c.kyc_status ?? "not_started")}</dd>
              {questionnaire ? (
                <><dt>Risk profile</dt><dd data-testid="client-risk">{label(questionnaire.profile)} <span class="muted small">(their questionnaire, {questionnaire.score}/100)</span></dd></>
              ) : (
                <><dt>Risk tolerance</dt><dd data-testid="client-risk">{c.investment_profile.risk_tolerance ? <>{label(c.investment_profile.risk_tolerance)} <span class="muted small">(agent's note; no questionnaire yet)</span></> : "—"}</dd></>
              )}
              <dt>Goals</dt><dd data-testid="client-goals">{c.investment_profile.goals.join(", ") || "—"}</dd>
              <dt>Preferred products</dt><dd>{c.investment_profile.preferred_products.join(", ") || "—"}</dd>
              <dt>Reach by</dt><dd>{c.preferences ? `${label(c.preferences.channel)}${c.preferences.best_time ? `, ${c.preferences.best_time}` : ""}${c.preferences.do_not_contact ? " · do not contact" : ""}` : "—"}</dd>
              <dt>Platform account</dt><dd data-testid="client-account">{c.account_erased ? "Erased with the person" : c.user_id ? (c.erased ? `Kept: ${(c.account_retained ?? []).join("; ") || "for legal retention"}` : "Linked") : c.link_pending ? "Asked to link their existing account (waiting for them)" : "Not invited"}</dd>
            </dl>
            )}
            {!editing && !questionnaire && !c.erased && (
              <form class="inline-form" onSubmit={(e) => {
                e.preventDefault();
                if (risk) void save.run({ investment_profile: { ...c.investment_profile, risk_tolerance: risk } });
              }}>
                <select aria-label="Risk tolerance (agent's note)" value={risk} onChange={(e) => setRisk((e.target as HTMLSelectElement).value)}>
                  <option value="">Risk tolerance (your note)…</option>
                  {["conservative", "moderate", "aggressive"].map((r) => <option key={r} value={r}>{label(r)}</option>)}
                </select>
                <Button kind="secondary" busy={save.busy}>Save</Button>
              </form>
            )}
          </Panel>
          <AdvisoryPanel client={c} />
          <ClientKycPanel client={c} changes={changes} onChange={() => {
            client.reload();
            timeline.reload();
          }} />
          <Panel title="Investments" testId="portfolio">
            {!folio.data?.member && <Empty>Not a platform member yet: no club investments.</Empty>}
            {folio.data?.member && folio.data.investments.length === 0 && <Empty>A member, but in no club yet.</Empty>}
            {(folio.data?.investments.length ?? 0) > 0 && (
              <table class="crm-table">
                <thead><tr><th>Club</th><th>Paid in</th><th>Value</th></tr></thead>
                <tbody>
                  {folio.data?.investments.map((i) => (
                    <tr key={i.club_id}><td>{i.club_name}</td><td>{money(i.paid_in, i.currency)}</td><td>{money(i.value, i.currency)}</td></tr>
                  ))}
                </tbody>
              </table>
            )}
            {(folio.data?.accounts.length ?? 0) > 0 && (
              <table class="crm-table" data-testid="personal-accounts">
                <thead><tr><th>Personal account</th><th>Value</th></tr></thead>
                <tbody>
                  {folio.data?.accounts.map((a) => (
                    <tr key={a.account_id}><td>{a.name}</td><td>{a.value === null ? "not priced now" : money(a.value, a.currency)}</td></tr>
                  ))}
                </tbody>
              </table>
            )}
            {folio.data?.member && (folio.data.totals.length > 1 || folio.data.totals.some((t) => t.currency !== folio.data?.total_currency)) && (
              <p class="small" data-testid="portfolio-per-currency">By currency: {folio.data.totals.map((t) => money(t.value, t.currency)).join(" · ")}</p>
            )}
            {folio.data?.member && (
              <p class="small">Total value <strong data-testid="portfolio-total">{folio.data.total_value === null ? "—" : money(folio.data.total_value, folio.data.total_currency)}</strong>
                <span class="muted block" data-testid="portfolio-note">{folio.data.total_note}</span></p>
            )}
            {(folio.data?.transactions.length ?? 0) > 0 && (
              <table class="crm-table" data-testid="transactions">
                <thead><tr><th>Date</th><th>Club</th><th>Amount</th><th>Status</th></tr></thead>
                <tbody>
                  {folio.data?.transactions.map((t, i) => (
                    <tr key={i}><td>{t.on}</td><td>{t.club_name}</td><td>{money(t.amount, t.currency)}</td><td>{label(t.status)}</td></tr>
                  ))}
                </tbody>
              </table>
            )}
          </Panel>
        </div>
        <div class="stack">
          {!c.erased && <ClientWork clientId={clientId} onDone={() => timeline.reload()} />}
          <Panel title="History">
            <TimelineList items={timeline.data?.items ?? []} />
          </Panel>
          <EraseOnRequest leadId={c.lead_id} erased={Boolean(c.erased)} onDone={() => {
            client.reload();
            timeline.reload();
          }} />
        </div>
      </div>
    </div>
  );
}

// ---- reminders, KYC -------------------------------------------------------------------------

function Reminders() {
  const list = useLoad(() => api<{ items: Reminder[] }>("GET", `/api/v1/crm/reminders?scope=today&tz=${encodeURIComponent(Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC")}`));
  const me = useStore(session.me);
  const myId = useRef<string | null>(null);
  myId.current = me?.id ?? null;
  const [fell, setFell] = useState<{ text: string; subject: string } | null>(null);
  const [joined, setJoined] = useState(false);
  useEffect(() => {
    // `crm:reminder` is logged in the board room (with its seq): one that fell due while this
    // screen was away or cut off is replayed on the next join, in order, once.
    const release = holdBoardRoom();
    const log = new RoomLog({
      room: null,
      join: async (after): Promise<CatchUp> => {
        setJoined(false);
        const answer = await live.call<BoardJoined>("crm:join", { after_seq: after });
        if (after === null || !answer.complete) {
          if (after !== null) list.reload();
          return { state: answer.seq, room: answer.room };
        }
        return { missed: answer.missed as unknown as LogEvent[], room: answer.room };
      },
      apply: ({ event, data }) => {
        if (event !== "crm:reminder") return;
        const e = data as unknown as { reminder: Reminder & { assignee_id: string }; subject: string };
        if (e.reminder.assignee_id !== myId.current) return; // a teammate's (managers, admins)
        setFell({ text: e.reminder.text, subject: e.subject });
        list.reload();
      },
      joined: () => setJoined(true),
    });
    log.start();
    return () => {
      log.stop();
      release();
    };
  }, []);
  const done = useAction(async (id: string) => {
    await api("POST", `/api/v1/crm/reminders/${id}/done`);
    list.reload();
  });
  const now = Date.now();
  return (
    <Panel title="My reminders today" testId="reminders">
      <span hidden data-testid="reminders-live" data-live={joined ? "joined" : "waiting"} />
      {fell && <Notice tone="info" testId="reminder-fell-due">Due now: {fell.text} ({fell.subject})</Notice>}
      <Problem error={list.error ?? done.error} />
      {list.data?.items.length === 0 && <Empty testId="no-reminders">Nothing due today.</Empty>}
      <ul class="rows">
        {list.data?.items.map((r) => (
          <li key={r.id} class="row-end reminder" data-testid={`reminder-${r.id}`} data-status={r.status}>
            <span>
              <strong>{r.text}</strong>
              <span class="muted small block">{Date.parse(r.due_at) < now ? "Due" : "At"} {when(r.due_at)} · <a href={r.lead_id ? `/crm/leads/${r.lead_id}` : `/crm/clients/${r.client_id}`}>open</a></span>
            </span>
            <Button kind="secondary" busy={done.busy} onClick={() => void done.run(r.id)} testId={`reminder-done-${r.id}`}>Done</Button>
          </li>
        ))}
      </ul>
    </Panel>
  );
}

interface KycQueueItem {
  client_id: string;
  client_name: string;
  document_id: string;
  kind: string;
  submitted_at: string;
  expires_on: string | null;
  number: string | null;
  issued_on: string | null;
  proof_type: string | null;
  content_type: string | null;
  file_link: string | null;
}

/** One waiting document: its details beside its scan (opened through the CRM's signed link);
 * a manager verifies only after opening the scan, and a rejection says why (the client is told). */
function KycReview({ item, canDecide, onDecided }: { item: KycQueueItem; canDecide: boolean; onDecided: () => void }) {
  const [scan, setScan] = useState<string | null>(null);
  const [reason, setReason] = useState("");
  const open = useAction(async () => {
    if (!item.file_link) return;
    const link = await api<{ url: string }>("GET", `${item.file_link}?disposition=inline`);
    setScan(link.url);
  });
  const decide = useAction(async (verify: boolean) => {
    await api("POST", `/api/v1/crm/kyc/${item.document_id}/decision`, { body: { verify, reason: verify ? null : reason } });
    onDecided();
  });
  const image = (item.content_type ?? "").startsWith("image/");
  return (
    <li class="kyc-review" data-testid={`kyc-item-${item.document_id}`}>
      <div class="row-end">
        <span><a href={`/crm/clients/${item.client_id}`}>{item.client_name}</a> <span class="muted small">{label(item.kind)} · sent {when(item.submitted_at)}</span></span>
        <Button kind="ghost" busy={open.busy} onClick={() => void open.run()} testId={`kyc-open-${item.document_id}`} disabled={!item.file_link}>{scan ? "Reload scan" : "Open scan"}</Button>
      </div>
      <dl class="facts small">
        <dt>Number</dt><dd data-testid={`kyc-number-${item.document_id}`}>{item.number ?? "—"}</dd>
        {item.proof_type && <><dt>Proof</dt><dd>{label(item.proof_type)}</dd></>}
        {item.issued_on && <><dt>Issued</dt><dd>{item.issued_on}</dd></>}
        <dt>Expires</dt><dd>{item.expires_on ?? "—"}</dd>
      </dl>
      <Problem error={open.error ?? decide.error} />
      {scan && (image
        ? <img class="kyc-scan" src={scan} alt={`${label(item.kind)} of ${item.client_name}`} data-testid={`kyc-scan-${item.document_id}`} />
        : <p><a href={scan} target="_blank" rel="noopener" data-testid={`kyc-scan-${item.document_id}`}>Open the PDF in a new tab</a></p>)}
      {canDecide && (
        <form class="inline-form" onSubmit={(e) => { e.preventDefault(); void decide.run(false); }}>
          <Button kind="secondary" type="button" busy={decide.busy} disabled={!scan} onClick={() => void decide.run(true)} testId={`kyc-verify-${item.document_id}`}>Verify</Button>
          <input aria-label="Reason for rejecting" placeholder="Why rejected (the client is told)" value={reason} maxLength={500}
            onInput={(e) => setReason((e.target as HTMLInputElement).value)} data-testid={`kyc-reason-${item.document_id}`} />
          <Button kind="ghost" busy={decide.busy} disabled={!reason.trim()} testId={`kyc-reject-${item.document_id}`}>Reject</Button>
        </form>
      )}
      {canDecide && !scan && <p class="muted small">Open the scan to compare it with the details before verifying.</p>}
    </li>
  );
}

function KycExpiringList() {
  const soon = useLoad(() => api<{ days: number; items: { client_id: string; client_name: string; document_id: string; kind: string; expires_on: string; days_left: number }[] }>("GET", "/api/v1/crm/kyc/expiring"));
  return (
    <Panel title={`Expiring within ${soon.data?.days ?? 30} days`} testId="crm-kyc-expiring">
      <Problem error={soon.error} />
      {soon.data?.items.length === 0 && <Empty>No client's verified document lapses soon.</Empty>}
      <ul class="rows">
        {soon.data?.items.map((d) => (
          <li key={d.document_id} class="row-end">
            <a href={`/crm/clients/${d.client_id}`}>{d.client_name}</a>
            <span class="small"><Badge tone={d.days_left <= 7 ? "bad" : "warn"}>{d.days_left === 0 ? "today" : `${d.days_left} days`}</Badge> <span class="muted">{label(d.kind)} · {d.expires_on}</span></span>
          </li>
        ))}
      </ul>
    </Panel>
  );
}

function KycQueue() {
  const me = useStore(session.me);
  const queue = useLoad(() => api<{ items: KycQueueItem[] }>("GET", "/api/v1/crm/kyc/queue"));
  const canDecide = Boolean(me?.roles.some((r) => r === "crm_manager" || r === "admin"));
  return (
    <div class="stack">
    <KycExpiringList />
    <Panel title="KYC documents waiting" testId="crm-kyc">
      <Problem error={queue.error} />
      {queue.data?.items.length === 0 && <Empty>No client document is waiting for review.</Empty>}
      <ul class="rows">
        {queue.data?.items.map((d) => (
          <KycReview key={d.document_id} item={d} canDecide={canDecide} onDecided={() => queue.reload()} />
        ))}
      </ul>
    </Panel>
    </div>
  );
}

// ---- the dashboard --------------------------------------------------------------------------

function Bars({ rows, testId, names = false }: { rows: RateRow[]; testId: string; names?: boolean }) {
  const most = Math.max(1, ...rows.map((r) => r.leads));
  if (rows.length === 0) return <Empty>No leads in this period.</Empty>;
  return (
    <ul class="bars" data-testid={testId}>
      {rows.map((r) => (
        <li key={r.key} data-key={r.key}>
          <span class="bar-label">{names ? r.label : label(r.label)}</span>
          <span class="bar-track" aria-hidden="true">
            <span class="bar-fill" style={{ width: `${(r.leads / most) * 100}%` }} />
            <span class="bar-fill bar-won" style={{ width: `${(r.converted / most) * 100}%` }} />
          </span>
          <span class="bar-figure">{r.converted}/{r.leads} · {bpsPercent(r.rate_bp)}</span>
        </li>
      ))}
    </ul>
  );
}

function Dashboard() {
  const [since, setSince] = useState("");
  const [until, setUntil] = useState("");
  const query = [since && `since=${since}`, until && `until=${until}`].filter(Boolean).join("&");
  const report = useLoad(() => {
    if (since && until && until < since) return Promise.reject(new ApiError("The end date is before the start date.", 422, "validation_error"));
    return api<Report>("GET", `/api/v1/crm/reports${query ? `?${query}` : ""}`);
  }, [since, until]);
  const r = report.data;
  return (
    <section class="stack" data-testid="crm-dashboard">
      <div class="row-end">
        <label class="field inline"><span class="field-label">Leads created from</span>
          <input type="date" value={since} onInput={(e) => setSince((e.target as HTMLInputElement).value)} data-testid="report-since" />
        </label>
        <label class="field inline"><span class="field-label">until (not including)</span>
          <input type="date" value={until} min={since || undefined} onInput={(e) => setUntil((e.target as HTMLInputElement).value)} data-testid="report-until" />
        </label>
        <a class="btn btn-ghost" href="/api/v1/crm/leads/export.csv" data-external download onClick={(e) => {
          e.preventDefault();
          void exportCsv();
        }}>Export CSV</a>
      </div>
      <ReportFiles />
      <Problem error={report.error} />
      {r && (
        <>
          <div class="figures">
            <div class="figure"><span class="figure-name">Leads</span><span class="figure-value" data-testid="kpi-leads">{r.leads}</span></div>
            <div class="figure"><span class="figure-name">Converted</span><span class="figure-value" data-testid="kpi-converted">{r.converted}</span></div>
            <div class="figure"><span class="figure-name">Conversion</span><span class="figure-value" data-testid="kpi-rate">{bpsPercent(r.rate_bp)}</span></div>
            <div class="figure"><span class="figure-name">KYC verified</span><span class="figure-value" data-testid="kpi-kyc">{r.kyc.verified}/{r.kyc.clients}</span></div>
          </div>
          <div class="crm-columns">
            <Panel title="Sales funnel" testId="funnel">
              <ul class="bars">
                {r.funnel.map((f) => (
                  <li key={f.stage} data-stage={f.stage} data-testid={`funnel-${f.stage}`} data-count={f.leads}>
                    <span class="bar-label">{label(f.stage)}</span>
                    <span class="bar-track" aria-hidden="true"><span class="bar-fill bar-won" style={{ width: `${(f.leads / Math.max(1, r.leads)) * 100}%` }} /></span>
                    <span class="bar-figure">{f.leads}</span>
                  </li>
                ))}
              </ul>
            </Panel>
            <Panel title="Clients by segment" testId="segments">
              {r.clients_by_segment.every((s) => s.count === 0) ? <Empty>No clients yet.</Empty> : (
                <AllocationChart slices={r.clients_by_segment.filter((s) => s.count > 0).map((s) => ({ label: label(s.key), value: String(s.count) }))} />
              )}
            </Panel>
            <Panel title="Conversion by source"><Bars rows={r.by_source} testId="by-source" /></Panel>
            <Panel title="Conversion by agent"><Bars rows={r.by_agent} testId="by-agent" names /></Panel>
            <Panel title="Conversion by month"><Bars rows={r.by_month} testId="by-month" names /></Panel>
            <Panel title="KYC compliance" testId="kyc-compliance">
              <dl class="facts">
                <dt>Verified</dt><dd>{r.kyc.verified}</dd>
                <dt>Pending review</dt><dd>{r.kyc.pending}</dd>
                <dt>Not yet complete</dt><dd>{r.kyc.other}</dd>
                <dt>Expiring in {r.kyc.expiring_days} days</dt><dd>{r.kyc.expiring}</dd>
              </dl>
            </Panel>
          </div>
        </>
      )}
    </section>
  );
}

interface ReportJob {
  id: string;
  format: string;
  status: string;
  percent: number;
  error: { code: string; message: string } | null;
  download: { url: string; filename: string; size: number } | null;
}

/** The pipeline report as PDF or CSV, built by the reports agent; a signed link when ready. */
function ReportFiles() {
  const [job, setJob] = useState<ReportJob | null>(null);
  const request = useAction(async (format: "pdf" | "csv") => {
    let seen = await api<ReportJob>("POST", "/api/v1/crm/report-jobs", { body: { format } });
    setJob(seen);
    const until = Date.now() + 120_000;
    while (seen.status !== "done" && seen.status !== "failed" && Date.now() < until) {
      await new Promise((done) => setTimeout(done, 700));
      seen = await api<ReportJob>("GET", `/api/v1/crm/report-jobs/${seen.id}`);
      setJob(seen);
    }
    if (seen.status === "failed") throw new ApiError(seen.error?.message ?? "The report could not be built.", 500, seen.error?.code);
  });
  return (
    <div class="row-end report-files" data-testid="crm-report-files">
      <span class="small muted">Pipeline report</span>
      <Button kind="secondary" busy={request.busy} testId="report-pdf" onClick={() => void request.run("pdf")}>PDF</Button>
      <Button kind="secondary" busy={request.busy} testId="report-csv" onClick={() => void request.run("csv")}>CSV</Button>
      {job && job.status !== "done" && job.status !== "failed" && <span class="small muted" data-testid="report-progress">Preparing… {job.percent}%</span>}
      {job?.download && <a class="btn btn-ghost" href={job.download.url} data-external download={job.download.filename} data-testid="report-download">Download {job.download.filename}</a>}
      <Problem error={request.error} testId="report-error" />
    </div>
  );
}

async function exportCsv(): Promise<void> {
  const token = await session.accessToken();
  const response = await fetch("/api/v1/crm/leads/export.csv", { headers: { Authorization: `Bearer ${token}` } });
  if (!response.ok) return;
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = "leads.csv";
  link.click();
  URL.revokeObjectURL(url);
}

// ---- import ---------------------------------------------------------------------------------

interface ImportReport {
  created: number;
  refused: number;
  rows: { row: number; status: string; lead_id: string | null; code: string | null; field?: string | null; message: string | null }[];
}

function Import() {
  const [text, setText] = useState("full_name,email,phone,city,investment_capacity\n");
  const [report, setReport] = useState<ImportReport | null>(null);
  const run = useAction(async () => {
    setReport(await api<ImportReport>("POST", "/api/v1/crm/leads/import", { body: { csv: text } }));
  });
  return (
    <section class="stack" data-testid="crm-import">
      <Panel title="Import leads from CSV">
        <form class="form" onSubmit={(e) => {
          e.preventDefault();
          void run.run();
        }}>
          <p class="small muted">Columns: full_name (required), email, phone, city, company, investment_capacity (e.g. 500000.00), source, message.</p>
          <input type="file" accept=".csv,text/csv" data-testid="import-file" onChange={(e) => {
            const file = (e.target as HTMLInputElement).files?.[0];
            if (file) void file.text().then(setText);
          }} />
          <label class="field"><span class="field-label">CSV</span>
            <textarea rows={8} value={text} data-testid="import-text" onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
          </label>
          <Button busy={run.busy} testId="import-run">Import</Button>
        </form>
        <Problem error={run.error} />
      </Panel>
      {report && (
        <Panel title={`${report.created} created, ${report.refused} refused`} testId="import-report">
          <table class="crm-table">
            <thead><tr><th>Row</th><th>Result</th><th>Why</th></tr></thead>
            <tbody>
              {report.rows.map((r) => (
                <tr key={r.row} data-status={r.status}>
                  <td>{r.row}</td>
                  <td>{r.status === "created" ? <a href={`/crm/leads/${r.lead_id}`}>Created</a> : "Refused"}</td>
                  <td data-testid={`import-why-${r.row}`}>{r.code ? aboutField(r.code, r.field) ?? (r.code === "validation_error" ? `${(r.message ?? "").charAt(0).toUpperCase()}${(r.message ?? "").slice(1)}.` : SENTENCES[r.code] ?? r.message) : ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Panel>
      )}
    </section>
  );
}

// ---- the public contact form ----------------------------------------------------------------

/** The public web-to-lead form: no account; a hidden honeypot field catches bots. */
export function ContactForm() {
  const [form, setForm] = useState({ full_name: "", email: "", phone: "", city: "", message: "", website: "" });
  const [sent, setSent] = useState(false);
  const send = useAction(async () => {
    const body = Object.fromEntries(Object.entries(form).filter(([k, v]) => v.trim() !== "" || k === "full_name" || k === "email"));
    await post("/api/v1/crm/web-form", body);
    setSent(true);
  });
  const set = (key: keyof typeof form) => (e: Event) => setForm({ ...form, [key]: (e.target as HTMLInputElement).value });
  return (
    <main class="page narrow" data-testid="contact-page">
      <h1>Talk to an adviser</h1>
      <p class="muted">Tell us how to reach you; someone from our team will call or write within a working day.</p>
      {sent ? (
        <Notice tone="ok" testId="contact-sent">Thank you — we have your details and will be in touch soon.</Notice>
      ) : (
        <form class="panel panel-pad form" onSubmit={(e) => {
          e.preventDefault();
          void send.run();
        }}>
          <Field label="Your name" testId="contact-name" value={form.full_name} onInput={set("full_name")} required maxLength={120} autoComplete="name" />
          <Field label="E-mail" testId="contact-email" type="email" value={form.email} onInput={set("email")} required autoComplete="email" />
          <Field label="Phone (optional)" testId="contact-phone" type="tel" value={form.phone} onInput={set("phone")} autoComplete="tel" />
          <Field label="City (optional)" testId="contact-city" value={form.city} onInput={set("city")} />
          <label class="field"><span class="field-label">What would you like to know?</span>
            <textarea rows={4} maxLength={4000} value={form.message} data-testid="contact-message" onInput={set("message")} />
          </label>
          <label class="honeypot" aria-hidden="true">Leave this empty
            <input tabIndex={-1} autoComplete="off" value={form.website} onInput={set("website")} name="website" data-testid="contact-website" />
          </label>
          <Problem error={send.error} testId="contact-error" />
          <Button busy={send.busy} testId="contact-submit">Send</Button>
        </form>
      )}
    </main>
  );
}
