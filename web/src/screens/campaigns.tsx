/** Community crowdfunding: the feed, a campaign's live page (progress changes as payments land,
 * through the `campaign:<id>` room with catch-up by seq), investing through the sandbox
 * checkout, the owner's editor, updates and profit reports, dashboards and admin verification.
 * Money is shown exactly as the API's decimal strings, with ₹ and Indian grouping. */
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError } from "../api.ts";
import { fieldName } from "../errors.ts";
import { live } from "../live.ts";
import { type CatchUp, type LogEvent, RoomLog } from "../roomlog.ts";
import { money, parseAmountInput } from "../money.ts";
import { navigate } from "../router.ts";
import { api, session, uploadFile } from "../session.ts";
import { useSendKey } from "../sendkey.ts";
import { useStore } from "../store.ts";
import { Badge, Button, Countdown, Empty, Field, Notice, Panel, label, useAction, useLoad, when } from "../ui.tsx";
import "../campaigns.css";

interface Campaign {
  id: string;
  owner_id: string;
  owner_name: string | null;
  title: string;
  story: string;
  category: string;
  city: string;
  currency: string;
  goal: string;
  min_investment: string;
  max_investment: string;
  profit_share_bps: number;
  profit_period_months: number;
  starts_on: string;
  ends_at: string;
  funding_model: string;
  pledge_policy: string;
  status: string;
  raised: string;
  reserved: string;
  remaining: string;
  progress_bps: number;
  investor_count: number;
  open: boolean;
  reviews: { decision: string; notes: string; at: string }[];
  picture_file_ids: string[];
  document_file_ids: string[];
  pictures: Picture[];
  documents: Doc[];
}
interface Picture { id: string; url: string }
interface Doc { id: string; filename: string; url: string }
interface Investment {
  id: string;
  campaign_id: string;
  campaign_title: string | null;
  requested: string;
  amount: string;
  part_filled: boolean;
  status: string;
  checkout_url: string | null;
  expires_at: string;
  created_at: string;
}
interface Quote { requested: string; amount: string; remaining: string; outcome: string; reason: string | null; message: string; opens_on?: string | null }
interface Update { id: string; title: string; body: string; created_at: string }
interface Share { user_id: string; invested: string; amount: string }
interface Report {
  id: string; campaign_id: string; period_start: string; period_end: string; profit: string; pool: string;
  status: string; decision_notes: string | null; checkout_url: string | null; shares: Share[]; created_at: string;
  campaign_title: string | null; document_url: string | null; note: string;
}
interface Transfer { id: string; kind: string; campaign_id: string; user_id: string; amount: string; status: string; attempts: number; last_error: string | null; paid_at: string | null }
interface Dispute { id: string; campaign_id: string; campaign_title: string | null; reason: string; status: string; resolution: string | null; created_at: string }
interface Progress { seq: number; campaign_id: string; raised: string; reserved: string; remaining: string; goal: string; progress_bps: number; investor_count: number; status: string }

const CATEGORIES = ["food", "retail", "services", "manufacturing", "agriculture", "education", "health", "crafts", "technology", "other"];
const STATUS_TONE: Record<string, "neutral" | "ok" | "warn" | "bad" | "brand"> = {
  draft: "neutral", in_review: "warn", live: "brand", funded: "ok", failed: "bad", cancelled: "neutral",
  pending: "warn", completed: "ok", expired: "neutral", refund_pending: "warn", refunded: "neutral", paid: "ok", sent: "warn",
  submitted: "warn", awaiting_review: "warn", approved: "brand", distributed: "ok", rejected: "bad", open: "warn", resolved: "ok",
};

/** An ISO day as people write it: "2026-12-24" → "24 Dec 2026". */
function day(iso: string): string {
  const d = new Date(`${iso}T00:00:00Z`);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleDateString("en-IN", { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function Status({ value, testId }: { value: string; testId?: string }) {
  return <Badge tone={STATUS_TONE[value] ?? "neutral"} testId={testId}>{label(value)}</Badge>;
}

/** A refusal or failure as a sentence (amounts with Indian grouping); never a bare code. */
function sentence(error: unknown): string {
  if (!(error instanceof ApiError)) return error instanceof Error ? error.message : String(error);
  const d = error.details as Record<string, string>;
  switch (error.code) {
    case "investment_refused":
      if (d.reason === "exceeds_remaining") return `Only ${money(d.remaining)} remains in this campaign. Pledge at most that.`;
      if (d.reason === "goal_reached") return "The goal has been reached: nothing remains to invest.";
      if (d.reason === "all_reserved") return "The rest is reserved by investors who are paying now. It frees up if they do not pay in time: try again later.";
      if (d.reason === "not_open_yet") return `This campaign opens on ${day(d.opens_on ?? "")}: you can invest from then.`;
      if (d.reason === "below_minimum") return error.message.replace(/₹([\d.]+)/, (_m, v: string) => money(v)) + ".";
      if (d.reason === "above_maximum") return error.message.replace(/₹([\d.]+)/, (_m, v: string) => money(v)) + ".";
      if (d.reason === "own_campaign") return "You cannot invest in your own campaign.";
      if (d.reason === "campaign_closed") return "This campaign is not taking investments now.";
      return "This pledge cannot be taken right now. Try again.";
    case "investment_limit_reached":
      return `Without full KYC you can invest up to ${money(d.limit)} a year; you have ${money(d.invested)} so far. Complete your KYC to invest more.`;
    case "owner_kyc_required":
      return "Complete your KYC before raising money: an admin verifies it first.";
    case "invalid_campaign":
    case "invalid_profit_report":
      return `${error.message.charAt(0).toUpperCase()}${error.message.slice(1).replace(/\.$/, "")}.`;
    case "validation_error": {
      const errors = Array.isArray((error.details as { errors?: unknown }).errors) ? (error.details as { errors: { loc?: unknown[]; msg?: string }[] }).errors : [];
      const first = errors[0];
      const field = first ? fieldName(first.loc ?? []) : "";
      if (field === "Reason" && /at least/.test(first?.msg ?? "")) return "Tell the admins a little more: at least 10 characters.";
      if (field === "Notes" || field === "Resolution") return "Write your notes first: at least 3 characters.";
      if (field && first?.msg) return `${field}: ${first.msg.replace(/^Value error, /, "")}${first.msg.endsWith(".") ? "" : "."}`;
      return "Some fields are missing or not valid. Check the amounts (like 15000.00) and dates.";
    }
    case "payout_destination_invalid":
      return d.reason === "refused"
        ? `The payout provider refused these details (${error.message.replace(/^the payout provider refused these details: /, "")}). Check the IFSC and account number.`
        : d.reason === "pending" ? "The bank has not confirmed the account yet. Try again in a minute."
        : "The bank could not verify this account. Check the details and try again.";
    case "not_an_investor":
      return "Only people who invested in this campaign can open a dispute.";
    case "campaign_state":
      return `${error.message.charAt(0).toUpperCase()}${error.message.slice(1)}.`;
    default:
      return error.message.endsWith(".") ? error.message : `${error.message}.`;
  }
}

function Problem({ error, testId = "campaign-error" }: { error: unknown; testId?: string }) {
  if (error === null || error === undefined) return null;
  return <div class="alert alert-error" role="alert" data-testid={testId} data-code={error instanceof ApiError ? error.code ?? "" : ""}><strong>{sentence(error)}</strong></div>;
}

function ProgressBar({ bps, testId }: { bps: number; testId?: string }) {
  const pct = Math.min(100, Math.floor(bps / 100));
  return (
    <div class="cf-bar" role="progressbar" aria-valuenow={pct} aria-valuemin={0} aria-valuemax={100} data-testid={testId}>
      <span class="cf-bar-fill" style={{ width: `${pct}%` }} />
    </div>
  );
}

function Card({ c }: { c: Campaign }) {
  return (
    <a class="cf-card panel" href={`/campaigns/${c.id}`} data-testid="campaign-card" data-id={c.id}>
      {c.pictures[0] && <img class="cf-cover" src={c.pictures[0].url} alt="" data-testid="campaign-cover" />}
      <div class="cf-card-head">
        <span class="cf-tag">{label(c.category)} · {c.city}</span>
        <Status value={c.status} />
      </div>
      <h3>{c.title}</h3>
      <ProgressBar bps={c.progress_bps} />
      <p class="cf-figures"><strong>{money(c.raised, c.currency)}</strong> of {money(c.goal, c.currency)} · {c.investor_count} investor{c.investor_count === 1 ? "" : "s"}</p>
      <p class="muted small">{c.status === "live" ? (c.open ? <>Closes in <Countdown deadline={c.ends_at} /></> : <span data-testid="campaign-opens">Opens on {day(c.starts_on)}</span>) : `Closed ${when(c.ends_at)}`} · {Math.floor(c.profit_share_bps / 100)}% of profit shared</p>
    </a>
  );
}

// ---- feed -------------------------------------------------------------------------------------

export function CampaignFeed() {
  const [q, setQ] = useState("");
  const [category, setCategory] = useState("");
  const [city, setCity] = useState("");
  const [status, setStatus] = useState("");
  const [closing, setClosing] = useState(false);
  const [sort, setSort] = useState("newest");
  const [minPct, setMinPct] = useState("");
  const [pages, setPages] = useState(1);
  const me = useStore(session.me);
  const params = new URLSearchParams({ sort, limit: String(12 * pages) });
  if (q.trim()) params.set("q", q.trim());
  if (category) params.set("category", category);
  if (city.trim()) params.set("city", city.trim());
  if (status) params.set("status", status);
  if (closing) params.set("closing_within_days", "7");
  if (minPct) params.set("min_funded_pct", minPct);
  const feed = useLoad(() => api<{ campaigns: Campaign[]; total: number; next_offset: number | null }>("GET", `/api/v1/campaigns?${params}`), [params.toString()]);
  return (
    <main class="page" data-testid="campaign-feed">
      <div class="page-head">
        <h1>Campaigns</h1>
        <p>Put a little into a local business and share its profit.</p>
      </div>
      <div class="cf-actions">
        <a class="btn btn-primary" href="/campaigns/new" data-testid="new-campaign">Raise money</a>
        <a class="btn btn-secondary" href="/campaigns/dashboard" data-testid="campaign-dashboard-link">My crowdfunding</a>
        {me?.roles.includes("admin") && <a class="btn btn-secondary" href="/campaigns/admin" data-testid="campaign-admin-link">Verify campaigns</a>}
      </div>
      <form class="cf-filters panel" onSubmit={(e) => e.preventDefault()}>
        <Field label="Search" testId="feed-search" value={q} placeholder="bakery, tailor…" onInput={(e) => { setQ(e.currentTarget.value); setPages(1); }} />
        <label class="field"><span class="field-label">Category</span>
          <select data-testid="feed-category" value={category} onChange={(e) => setCategory(e.currentTarget.value)}>
            <option value="">Any</option>
            {CATEGORIES.map((c) => <option key={c} value={c}>{label(c)}</option>)}
          </select>
        </label>
        <Field label="City" testId="feed-city" value={city} onInput={(e) => setCity(e.currentTarget.value)} />
        <label class="field"><span class="field-label">Status</span>
          <select data-testid="feed-status" value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
            <option value="">Live, funded and failed</option>
            <option value="live">Live</option><option value="funded">Funded</option><option value="failed">Failed</option>
          </select>
        </label>
        <label class="field"><span class="field-label">Funded at least</span>
          <select data-testid="feed-funded" value={minPct} onChange={(e) => setMinPct(e.currentTarget.value)}>
            <option value="">Any</option><option value="25">25%</option><option value="50">50%</option><option value="75">75%</option>
          </select>
        </label>
        <label class="field"><span class="field-label">Sort</span>
          <select data-testid="feed-sort" value={sort} onChange={(e) => setSort(e.currentTarget.value)}>
            <option value="newest">Newest</option><option value="closing_soon">Closing soon</option>
            <option value="most_funded">Most funded</option><option value="least_funded">Least funded</option><option value="goal">Largest goal</option>
          </select>
        </label>
        <label class="check"><input type="checkbox" checked={closing} data-testid="feed-closing" onChange={(e) => setClosing(e.currentTarget.checked)} /> Closing within a week</label>
      </form>
      <Problem error={feed.error} />
      {feed.data && feed.data.campaigns.length === 0 && <Empty testId="feed-empty">No campaign matches. Try fewer filters.</Empty>}
      <div class="cf-grid">{(feed.data?.campaigns ?? []).map((c) => <Card key={c.id} c={c} />)}</div>
      {feed.data?.next_offset !== null && feed.data?.next_offset !== undefined && (
        <Button kind="secondary" testId="feed-more" onClick={() => setPages(pages + 1)}>Show more ({feed.data.total - feed.data.campaigns.length} left)</Button>
      )}
    </main>
  );
}

// ---- campaign rooms shared by several screens ---------------------------------------------------

const roomHolders = new Map<string, number>();
let adminHolders = 0; // screens following `campaigns:admin`
const LEAVE_DELAY_MS = 2_000;

/** A screen holds `campaign:<id>` while it shows it; the socket leaves the room only a moment
 * after the last holder lets go. Socket handlers run concurrently on the server, so a leave sent
 * by the screen going away could otherwise land after the join of the screen coming in (the
 * dashboard and the campaign page follow the same rooms). Returns the release. */
function holdRoom(id: string): () => void {
  roomHolders.set(id, (roomHolders.get(id) ?? 0) + 1);
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    const left = (roomHolders.get(id) ?? 1) - 1;
    if (left > 0) { roomHolders.set(id, left); return; }
    roomHolders.delete(id);
    window.setTimeout(() => {
      if (!roomHolders.has(id) && live.connected) void live.call("campaign:leave", { campaign_id: id }).catch(() => undefined);
    }, LEAVE_DELAY_MS);
  };
}

/** Keeps a dashboard live without a reload: follows the rooms of `ids` (joined without their
 * history on every (re)connection, then `changed` fetches the state afresh) and calls
 * `changed` — throttled — on every `campaign:progress` / `campaign:update` of those campaigns
 * and on the person's campaign notifications (payments in, payouts, profit shares, refunds). */
function useDashboardLive(ids: string[], changed: () => void, admin = false) {
  const latest = useRef(changed);
  latest.current = changed;
  const key = [...new Set(ids)].sort().join(",");
  // The admins' room (`campaigns:admin`): what the admin's dashboard lists changed somewhere.
  useEffect(() => {
    if (!admin) return;
    let timer: number | null = null;
    const poke = () => {
      if (timer !== null) return;
      timer = window.setTimeout(() => { timer = null; latest.current(); }, 200);
    };
    adminHolders += 1;
    const offs = [
      live.on("campaign:admin", poke),
      live.on("room:head", (data: { room?: string }) => { if (data.room === "campaigns:admin") poke(); }),
      live.onConnect(() => { void live.call("campaign:admin_join", {}).then(poke, () => undefined); }),
    ];
    return () => {
      if (timer !== null) clearTimeout(timer);
      offs.forEach((off) => off());
      adminHolders -= 1;
      // Leave a moment later, unless the dashboard came back meanwhile (as holdRoom does).
      window.setTimeout(() => {
        if (adminHolders === 0 && live.connected) void live.call("campaign:admin_leave", {}).catch(() => undefined);
      }, LEAVE_DELAY_MS);
    };
  }, [admin]);
  useEffect(() => {
    let timer: number | null = null;
    // At most one fetch per 200 ms, never postponed by a stream of events (a busy campaign).
    const poke = () => {
      if (timer !== null) return;
      timer = window.setTimeout(() => { timer = null; latest.current(); }, 200);
    };
    const offs = [
      live.on("notification:new", (e: { notification?: { ref_type?: string | null } }) => {
        if (e.notification?.ref_type === "campaign") poke();
      }),
    ];
    const followed = key ? key.split(",") : [];
    if (followed.length > 0) {
      const watched = new Set(followed);
      const releases = followed.map(holdRoom);
      const onRoom = (data: { campaign_id?: string }) => { if (data.campaign_id && watched.has(data.campaign_id)) poke(); };
      offs.push(
        live.on("campaign:progress", onRoom),
        live.on("campaign:update", onRoom),
        live.on("campaign:report", onRoom),
        live.on("campaign:report_due", onRoom),
        // The web process's link to Redis came back (app/realtime/resume.py): events of these
        // rooms may have been lost meanwhile, so fetch the state afresh.
        live.on("room:head", (data: { room?: string }) => {
          if (data.room?.startsWith("campaign:") && watched.has(data.room.slice("campaign:".length))) poke();
        }),
        live.onConnect(() => {
          void Promise.allSettled(followed.map((id) => live.call("campaign:join", { campaign_id: id, with_events: false }))).then(poke);
        }),
        () => releases.forEach((release) => release()),
      );
    }
    return () => {
      if (timer !== null) clearTimeout(timer);
      offs.forEach((off) => off());
    };
  }, [key]);
}

// ---- the campaign page ------------------------------------------------------------------------

/** Follows `campaign:<id>` through the shared room log (roomlog.ts): joins on every
 * (re)connection with the last seq applied, applies `campaign:progress` and `campaign:update`
 * in seq order once each, and asks `campaign:sync` on a skipped seq or a `room:head` ahead. */
function useCampaignRoom(id: string, initial: Campaign | null, onUpdate: () => void, onReport: () => void) {
  const [progress, setProgress] = useState<Progress | null>(null);
  useEffect(() => {
    type Joined = { seq: number; events: LogEvent[]; campaign: Campaign; truncated: boolean };
    const fromState = (c: Campaign, seq: number): Progress => ({ seq, campaign_id: id, raised: c.raised, reserved: c.reserved, remaining: c.remaining, goal: c.goal, progress_bps: c.progress_bps, investor_count: c.investor_count, status: c.status });
    const ask = async (name: string, after: number | null): Promise<CatchUp> => {
      const ack = await live.call<Joined>(name, { campaign_id: id, after_seq: after ?? 0 });
      if (after === null || ack.truncated) {
        setProgress(fromState(ack.campaign, ack.seq));
        if (after !== null) { onUpdate(); onReport(); }
        return { state: ack.seq };
      }
      return { missed: ack.events };
    };
    const release = holdRoom(id);
    const log = new RoomLog({
      room: `campaign:${id}`,
      join: (after) => ask("campaign:join", after),
      sync: (after) => ask("campaign:sync", after),
      apply: ({ event, data }) => {
        if (event === "campaign:progress") {
          setProgress(data as unknown as Progress);
          if ((data as { status?: string }).status === "funded") onReport(); // the schedule starts
        }
        if (event === "campaign:update") onUpdate();
        if (event === "campaign:report" || event === "campaign:report_due") onReport();
      },
    });
    log.start();
    return () => {
      log.stop();
      release();
    };
  }, [id]);
  // A fresh load of the campaign (after the owner's own action) is newer than the last event.
  useEffect(() => setProgress(null), [initial]);
  if (!initial) return null;
  return progress ?? { seq: 0, campaign_id: id, raised: initial.raised, reserved: initial.reserved, remaining: initial.remaining, goal: initial.goal, progress_bps: initial.progress_bps, investor_count: initial.investor_count, status: initial.status };
}

export function CampaignPage({ id }: { id: string }) {
  const me = useStore(session.me);
  const campaign = useLoad(() => api<Campaign>("GET", `/api/v1/campaigns/${id}`), [id]);
  const updates = useLoad(() => api<{ updates: Update[] }>("GET", `/api/v1/campaigns/${id}/updates`), [id]);
  const reporting = useLoad(() => api<Reporting>("GET", `/api/v1/campaigns/${id}/profit-reports`), [id]);
  const c = campaign.data;
  const p = useCampaignRoom(id, c, updates.reload, reporting.reload);
  if (campaign.error) return <main class="page narrow"><Problem error={campaign.error} /></main>;
  if (!c || !p) return <main class="page"><p class="muted">Loading…</p></main>;
  const owner = me?.id === c.owner_id;
  const status = p.status;
  return (
    <main class="page" data-testid="campaign-page" data-id={c.id}>
      <div class="cf-head">
        <p class="cf-tag">{label(c.category)} · {c.city} · by {c.owner_name ?? "the owner"}</p>
        <h1 data-testid="campaign-title">{c.title}</h1>
      </div>
      <div class="cf-layout">
        <div class="stack">
          <Panel title="Progress" testId="campaign-progress" actions={status === "live" && !c.open ? <Badge tone="warn" testId="campaign-status">Opens {day(c.starts_on)}</Badge> : <Status value={status} testId="campaign-status" />}>
            <ProgressBar bps={p.progress_bps} testId="campaign-bar" />
            <div class="figures">
              <div class="figure"><span class="figure-name">Raised</span><span class="figure-value" data-testid="campaign-raised">{money(p.raised, c.currency)}</span></div>
              <div class="figure"><span class="figure-name">Goal</span><span class="figure-value">{money(p.goal, c.currency)}</span></div>
              <div class="figure"><span class="figure-name">Investors</span><span class="figure-value" data-testid="campaign-investors">{p.investor_count}</span></div>
              <div class="figure"><span class="figure-name">Funded</span><span class="figure-value" data-testid="campaign-pct">{Math.floor(p.progress_bps / 100)}%</span></div>
            </div>
            <p class="muted small">
              {status === "live" && c.open ? <>Closes in <Countdown deadline={c.ends_at} testId="campaign-countdown" /> · </> : null}
              {status === "live" && !c.open ? <><span data-testid="campaign-opens">Opens on {day(c.starts_on)}</span>, closes {when(c.ends_at)} · </> : null}
              {c.funding_model === "all_or_nothing" ? "All or nothing: everyone is refunded if the goal is not met." : "Keep what you raise."}{" "}
              Investors share {Math.floor(c.profit_share_bps / 100)}% of profit every {c.profit_period_months} month{c.profit_period_months === 1 ? "" : "s"}.
            </p>
          </Panel>
          {c.pictures.length > 0 && <Gallery c={c} />}
          {c.documents.length > 0 && (
            <Panel title="Documents" testId="campaign-documents">
              <ul class="rows cf-list">{c.documents.map((d) => <li key={d.id}><a href={d.url} data-external download={d.filename} data-testid="campaign-document">{d.filename}</a></li>)}</ul>
            </Panel>
          )}
          <Panel title="The story"><p class="cf-story">{c.story}</p></Panel>
          <Panel title="Updates" testId="campaign-updates">
            {(updates.data?.updates ?? []).length === 0 && <Empty>No updates yet.</Empty>}
            <ul class="rows cf-list">{(updates.data?.updates ?? []).map((u) => <li key={u.id} data-testid="campaign-update"><strong>{u.title}</strong><span class="muted small block">{when(u.created_at)}</span><p>{u.body}</p></li>)}</ul>
          </Panel>
        </div>
        <div class="stack">
          {!owner && status === "live" && <Invest c={c} remaining={p.remaining} />}
          {owner && <OwnerTools c={c} status={status} reporting={reporting} onChange={() => { campaign.reload(); updates.reload(); }} />}
          {!owner && status === "funded" && <ReportingPanel c={c} reporting={reporting.data} />}
          {!owner && (status === "funded" || status === "failed") && <DisputePanel c={c} />}
          {me?.roles.includes("admin") && <AuditTrail id={c.id} />}
          {c.reviews.length > 0 && (owner || me?.roles.includes("admin")) && (
            <Panel title="Review notes">
              <ul class="rows cf-list">{c.reviews.map((r, i) => <li key={i}><Status value={r.decision} /> {r.notes} <span class="muted small block">{when(r.at)}</span></li>)}</ul>
            </Panel>
          )}
        </div>
      </div>
    </main>
  );
}

interface AuditEntry { seq: number; at: string; actor_id: string | null; action: string; target_type: string; details: Record<string, unknown> }

/** For admins: the campaign's own audit chain, verified, newest first. */
function AuditTrail({ id }: { id: string }) {
  const [open, setOpen] = useState(false);
  const trail = useLoad(() => (open ? api<{ records: AuditEntry[]; chain_ok: boolean; chain_checked: number }>("GET", `/api/v1/admin/campaigns/${id}/audit`) : Promise.resolve(null)), [id, open]);
  return (
    <Panel title="Audit trail" testId="campaign-audit" actions={!open ? <Button kind="secondary" testId="audit-show" onClick={() => setOpen(true)}>Show</Button> : undefined}>
      <Problem error={trail.error} />
      {trail.data && (
        <>
          <p class="small" data-testid="audit-verified">{trail.data.chain_ok ? `All ${trail.data.chain_checked} records verify.` : "The chain does not verify: tell the engineers."}</p>
          <ol class="rows cf-list">{trail.data.records.map((r) => (
            <li key={r.seq} data-testid="audit-record"><strong>{label(r.action.replace(/\./g, "_"))}</strong> <span class="muted small">#{r.seq} · {when(r.at)}{r.actor_id ? "" : " · by the platform"}</span>
              {typeof r.details.notes === "string" && <span class="small block">“{r.details.notes}”</span>}
            </li>
          ))}</ol>
        </>
      )}
    </Panel>
  );
}

/** The pictures: one large, the others as thumbnails that show it large when clicked. */
function Gallery({ c }: { c: Campaign }) {
  const [shown, setShown] = useState(0);
  const big = c.pictures[Math.min(shown, c.pictures.length - 1)];
  if (!big) return null;
  return (
    <div class="cf-gallery" data-testid="campaign-pictures">
      <img class="cf-gallery-main" src={big.url} alt={`${c.title}: picture ${shown + 1} of ${c.pictures.length}`} data-testid={c.pictures.length > 1 ? "campaign-picture-main" : "campaign-picture"} />
      {c.pictures.length > 1 && (
        <div class="cf-gallery-thumbs">
          {c.pictures.map((p, i) => (
            <button type="button" key={p.id} class={i === shown ? "cf-gallery-thumb is-shown" : "cf-gallery-thumb"} aria-label={`Show picture ${i + 1}`} aria-pressed={i === shown} onClick={() => setShown(i)}>
              <img src={p.url} alt="" data-testid="campaign-picture" />
            </button>
          ))}
        </div>
      )}
    </div>
  );
}

function Invest({ c, remaining }: { c: Campaign; remaining: string }) {
  const [amount, setAmount] = useState("");
  const [quote, setQuote] = useState<Quote | null>(null);
  const [made, setMade] = useState<Investment | null>(null);
  // A retry of the same pledge after a lost answer reuses its key (the same reservation back);
  // after any answer or a changed amount the next pledge is a new request.
  const sendKey = useSendKey();
  const mine = useLoad(() => api<{ investments: Investment[] }>("GET", `/api/v1/campaigns/${c.id}/investments`), [c.id]);
  const waiting = (mine.data?.investments ?? []).filter((i) => i.status === "pending" && i.checkout_url && new Date(i.expires_at).getTime() > Date.now());
  const value = parseAmountInput(amount);
  useEffect(() => {
    setQuote(null);
    if (!value) return;
    const timer = window.setTimeout(() => {
      api<Quote>("GET", `/api/v1/campaigns/${c.id}/quote?amount=${value}`).then(setQuote, () => setQuote(null));
    }, 250);
    return () => clearTimeout(timer);
  }, [value, remaining]);
  const invest = useAction(async () => {
    if (!value) throw new ApiError("Enter an amount like 2000 or 2000.00", 422, "input");
    const path = `/api/v1/campaigns/${c.id}/invest`;
    const body = { amount: value };
    const created = await sendKey.send({ path, body }, (key) => api<Investment>("POST", path, { body, idempotencyKey: key }));
    setMade(created);
    mine.reload();
  });
  return (
    <Panel title="Invest" testId="invest-panel">
      <p class="muted small">From {money(c.min_investment)} up to {money(c.max_investment)} per person. <span data-testid="invest-remaining">{money(remaining)} remains</span>.</p>
      {waiting.length > 0 && (
        <Notice tone="warn" testId="invest-waiting">
          {waiting.length === 1 ? "You have a reservation waiting for payment:" : `You have ${waiting.length} reservations waiting for payment:`}
          <ul class="rows cf-list">{waiting.map((i) => <li key={i.id} data-testid="invest-waiting-item">{money(i.amount)} until {when(i.expires_at)} · <a href={i.checkout_url ?? ""} data-external>Pay now at the checkout</a></li>)}</ul>
          An unpaid reservation lapses by itself; investing again makes another one.
        </Notice>
      )}
      <form class="inline-form" onSubmit={(e) => { e.preventDefault(); void invest.run(); }}>
        <Field label="Amount (₹)" testId="invest-amount" inputMode="decimal" placeholder="2000.00" value={amount} onInput={(e) => { setAmount(e.currentTarget.value); setMade(null); }} />
        <Button type="submit" busy={invest.busy} testId="invest-submit" disabled={quote?.outcome === "refuse" || invest.busy || made !== null}>
          {quote?.outcome === "part_fill" ? `Invest ${money(quote.amount)}` : "Invest"}
        </Button>
      </form>
      {quote && (
        <Notice tone={quote.outcome === "accept" ? "ok" : "warn"} testId="invest-quote">
          {quote.outcome === "accept" && <>{money(quote.amount)} will be reserved for you while you pay.</>}
          {quote.outcome === "part_fill" && <>Only {money(quote.remaining)} remains: your pledge will be part-filled at {money(quote.amount)}.</>}
          {quote.outcome === "refuse" && sentence(new ApiError(quote.message, 409, "investment_refused", { reason: quote.reason ?? "", remaining: quote.remaining, opens_on: quote.opens_on ?? "" }))}
        </Notice>
      )}
      <Problem error={invest.error} testId="invest-error" />
      {made?.checkout_url && (
        <Notice tone="ok" testId="invest-checkout">
          {money(made.amount)} is reserved for you{made.part_filled ? ` (part-filled from ${money(made.requested)})` : ""} until {when(made.expires_at)}.{" "}
          <a href={made.checkout_url} data-external data-testid="invest-pay">Pay now at the checkout</a>. The progress above updates as soon as the money lands.
        </Notice>
      )}
    </Panel>
  );
}

function DisputePanel({ c }: { c: Campaign }) {
  const [reason, setReason] = useState("");
  const [sent, setSent] = useState(false);
  const send = useAction(async () => {
    await api("POST", `/api/v1/campaigns/${c.id}/disputes`, { body: { reason } });
    setSent(true);
    setReason("");
  });
  return (
    <Panel title="Something wrong?" testId="dispute-panel">
      {sent ? (
        <Notice tone="ok" testId="dispute-sent">Your dispute is with the admins. You will be notified when it is resolved.</Notice>
      ) : (
        <form class="stack" onSubmit={(e) => { e.preventDefault(); void send.run(); }}>
          <label class="field"><span class="field-label">Tell the admins what happened (investors only)</span>
            <textarea rows={3} data-testid="dispute-reason" value={reason} onInput={(e) => setReason(e.currentTarget.value)} /></label>
          <Button type="submit" kind="secondary" busy={send.busy} testId="dispute-submit">Open a dispute</Button>
          <Problem error={send.error} testId="dispute-error" />
        </form>
      )}
    </Panel>
  );
}

function OwnerTools({ c, status, reporting, onChange }: { c: Campaign; status: string; reporting: Loaded<Reporting>; onChange: () => void }) {
  const [title, setTitle] = useState("");
  const [body, setBody] = useState("");
  const submit = useAction(async () => { await api("POST", `/api/v1/campaigns/${c.id}/submit`); onChange(); });
  const post = useAction(async () => {
    await api("POST", `/api/v1/campaigns/${c.id}/updates`, { body: { title, body } });
    setTitle(""); setBody(""); onChange();
  });
  return (
    <>
      <Panel title="Your campaign" testId="owner-tools">
        {status === "draft" && (
          <div class="cf-actions">
            <a class="btn btn-secondary" href={`/campaigns/${c.id}/edit`} data-testid="edit-campaign">Edit</a>
            <Button busy={submit.busy} testId="submit-campaign" onClick={() => void submit.run()}>Send for review</Button>
          </div>
        )}
        {status === "in_review" && <Notice testId="in-review">An admin is checking your campaign. You will be notified.</Notice>}
        <Problem error={submit.error} />
        {(status === "live" || status === "funded") && (
          <form class="stack" onSubmit={(e) => { e.preventDefault(); void post.run(); }}>
            <Field label="Update title" testId="update-title" value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
            <label class="field"><span class="field-label">What happened</span><textarea data-testid="update-body" rows={3} value={body} onInput={(e) => setBody(e.currentTarget.value)} /></label>
            <Button type="submit" busy={post.busy} testId="update-post">Post update</Button>
            <Problem error={post.error} />
          </form>
        )}
      </Panel>
      {status === "funded" && <ProfitPanel c={c} reporting={reporting} />}
    </>
  );
}

/** The next profit report a funded campaign owes: the period, the due day, and how late. */
function NextReport({ d, testId }: { d: ReportDue; testId: string }) {
  return (
    <p class={`small cf-due${d.overdue ? " cf-trouble" : ""}`} data-testid={testId} data-state={d.state}>
      Next profit report (period {d.number}): {day(d.period_start)} to {day(d.period_end)}, due by <strong>{day(d.due_on)}</strong> <DueBadge d={d} />
    </p>
  );
}

/** What an investor (or anyone following a funded campaign) sees of its profit reporting: the
 * next report the owner owes and the reports filed so far. Changes live (`campaign:report`,
 * `campaign:report_due` make the page fetch it again). */
function ReportingPanel({ c, reporting }: { c: Campaign; reporting: Reporting | null }) {
  const filed = reporting?.reports ?? [];
  return (
    <Panel title="Profit reports" testId="campaign-reporting">
      <p class="muted small">The owner reports profit every {plural(c.profit_period_months, "month")} from the day the campaign was funded, at most 45 days after each period ends; investors share {Math.floor(c.profit_share_bps / 100)}% of it.</p>
      {reporting?.next_due && <NextReport d={reporting.next_due} testId="campaign-report-due" />}
      {reporting && filed.length === 0 && <Empty>No profit report filed yet.</Empty>}
      <ul class="rows cf-list">
        {filed.map((r) => (
          <li key={r.id} data-testid="campaign-report" data-status={r.status}>
            <strong>{day(r.period_start)} to {day(r.period_end)}</strong> · profit {money(r.profit)} · investors' pool {money(r.pool)} <Status value={r.status === "submitted" ? "awaiting_review" : r.status} />
            <span class="muted small block">Filed {when(r.created_at)}{r.shares[0] ? <> · your share {money(r.shares[0].amount)}</> : null}</span>
            {r.document_url && <a class="small" href={r.document_url} data-external target="_blank" rel="noopener" data-testid="campaign-report-statement">The statement</a>}
          </li>
        ))}
      </ul>
    </Panel>
  );
}

function ProfitPanel({ c, reporting }: { c: Campaign; reporting: Loaded<Reporting> }) {
  const reports = reporting;
  const today = new Date().toISOString().slice(0, 10);
  const [start, setStart] = useState("");
  const [end, setEnd] = useState(today);
  const [profit, setProfit] = useState("");
  const [file, setFile] = useState<File | null>(null);
  const [note, setNote] = useState("");
  const send = useAction(async () => {
    const amount = parseAmountInput(profit);
    if (!amount) throw new ApiError("Enter the profit like 25000.00", 422, "input");
    if (!file) throw new ApiError("Attach the profit statement (PDF or image)", 422, "input");
    const stored = await uploadFile(file, "campaign");
    await api("POST", `/api/v1/campaigns/${c.id}/profit-reports`, { body: { period_start: start, period_end: end, profit: amount, document_file_id: stored.id, note: note.trim() } });
    setProfit(""); setNote(""); reports.reload();
  });
  return (
    <Panel title="Profit reports" testId="profit-panel">
      {reports.data?.next_due && <NextReport d={reports.data.next_due} testId="owner-report-due" />}
      <form class="stack" onSubmit={(e) => { e.preventDefault(); void send.run(); }}>
        <div class="cf-row">
          <Field label="From" type="date" testId="profit-start" value={start} onInput={(e) => setStart(e.currentTarget.value)} />
          <Field label="To" type="date" testId="profit-end" value={end} onInput={(e) => setEnd(e.currentTarget.value)} />
        </div>
        <Field label="Profit for the period (₹)" testId="profit-amount" inputMode="decimal" value={profit} onInput={(e) => setProfit(e.currentTarget.value)} hint={`Investors receive ${Math.floor(c.profit_share_bps / 100)}% of it.`} />
        <label class="field"><span class="field-label">Note for the admin and investors (optional)</span>
          <textarea rows={2} data-testid="profit-note" value={note} onInput={(e) => setNote(e.currentTarget.value)} /></label>
        <label class="field"><span class="field-label">Statement</span><input type="file" accept="application/pdf,image/png,image/jpeg" data-testid="profit-file" onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)} /></label>
        <Button type="submit" busy={send.busy} testId="profit-submit">Report profit</Button>
        <Problem error={send.error} testId="profit-error" />
      </form>
      <ul class="rows cf-list">
        {(reports.data?.reports ?? []).map((r) => (
          <li key={r.id} data-testid="profit-report" data-status={r.status}>
            <strong>{r.period_start} to {r.period_end}</strong> · profit {money(r.profit)} · investors' pool <strong>{money(r.pool)}</strong> <Status value={r.status} />
            {r.status === "approved" && r.checkout_url && <p><a href={r.checkout_url} data-external data-testid="pool-pay">Pay {money(r.pool)} in for your investors</a></p>}
            {r.note && <p class="muted small">Your note: {r.note}</p>}
            {r.document_url && <p class="small"><a href={r.document_url} data-external target="_blank" rel="noopener">The statement</a></p>}
            {r.decision_notes && <p class="muted small">Admin: {r.decision_notes}</p>}
            {r.shares.length > 0 && <p class="muted small">Shared among {plural(r.shares.length, "investor")}.</p>}
          </li>
        ))}
      </ul>
    </Panel>
  );
}

// ---- the owner's editor -----------------------------------------------------------------------

export function CampaignEditor({ id }: { id?: string }) {
  const existing = useLoad(() => (id ? api<Campaign>("GET", `/api/v1/campaigns/${id}`) : Promise.resolve(null)), [id]);
  const inMonth = new Date(Date.now() + 30 * 86400_000).toISOString().slice(0, 16);
  const [form, setForm] = useState<Record<string, string>>({
    title: "", story: "", category: "food", city: "", goal: "", min_investment: "500.00", max_investment: "",
    profit_share_bps: "20", profit_period_months: "3", starts_on: new Date().toISOString().slice(0, 10), ends_at: inMonth,
    funding_model: "all_or_nothing", pledge_policy: "part_fill",
  });
  useEffect(() => {
    const c = existing.data;
    if (!c) return;
    setForm({ title: c.title, story: c.story, category: c.category, city: c.city, goal: c.goal, min_investment: c.min_investment,
      max_investment: c.max_investment, profit_share_bps: String(c.profit_share_bps / 100), profit_period_months: String(c.profit_period_months),
      starts_on: c.starts_on, ends_at: c.ends_at.slice(0, 16), funding_model: c.funding_model, pledge_policy: c.pledge_policy });
  }, [existing.data?.id]);
  const [pictures, setPictures] = useState<Picture[]>([]);
  useEffect(() => { if (existing.data) setPictures(existing.data.pictures); }, [existing.data?.id]);
  const [docs, setDocs] = useState<{ id: string; filename: string }[]>([]);
  useEffect(() => { if (existing.data) setDocs(existing.data.documents.map((d) => ({ id: d.id, filename: d.filename }))); }, [existing.data?.id]);
  const uploadDocs = useAction(async (files: File[]) => {
    const added: { id: string; filename: string }[] = [];
    for (const file of files) {
      if (!["application/pdf", "image/png", "image/jpeg"].includes(file.type)) throw new ApiError(`${file.name} is not a PDF, PNG or JPEG file`, 422, "input");
      const stored = await uploadFile(file, "campaign");
      added.push({ id: stored.id, filename: file.name });
    }
    setDocs((now) => [...now, ...added].slice(0, 10));
  });
  const set = (key: string) => (e: Event) => setForm({ ...form, [key]: (e.currentTarget as HTMLInputElement).value });
  const upload = useAction(async (files: File[]) => {
    const added: Picture[] = [];
    for (const file of files) {
      if (!["image/png", "image/jpeg"].includes(file.type)) throw new ApiError(`${file.name} is not a PNG or JPEG picture`, 422, "input");
      const stored = await uploadFile(file, "campaign");
      if (!stored.content_type.startsWith("image/")) throw new ApiError(`${file.name} is not a picture`, 422, "input");
      added.push({ id: stored.id, url: URL.createObjectURL(file) });
    }
    setPictures((now) => [...now, ...added].slice(0, 10));
  });
  const save = useAction(async () => {
    const amounts = ["goal", "min_investment", "max_investment"].map((k) => parseAmountInput(form[k] ?? ""));
    if (amounts.some((a) => a === null)) throw new ApiError("Amounts are written like 15000 or 15000.00", 422, "input");
    const pct = Number(form.profit_share_bps);
    if (!Number.isInteger(pct * 100) || pct <= 0 || pct > 100) throw new ApiError("The profit share is a percentage between 0.01 and 100", 422, "input");
    const body = {
      ...form, goal: amounts[0], min_investment: amounts[1], max_investment: amounts[2],
      profit_share_bps: Math.round(pct * 100), profit_period_months: Number(form.profit_period_months),
      ends_at: new Date(form.ends_at ?? "").toISOString(),
      picture_file_ids: pictures.map((p) => p.id),
      document_file_ids: docs.map((d) => d.id),
    };
    const saved = id
      ? await api<Campaign>("PUT", `/api/v1/campaigns/${id}`, { body })
      : await api<Campaign>("POST", "/api/v1/campaigns", { body });
    navigate(`/campaigns/${saved.id}`);
  });
  return (
    <main class="page narrow" data-testid="campaign-editor">
      <h1>{id ? "Edit your campaign" : "Raise money for your business"}</h1>
      <p class="muted">Your KYC must be verified. An admin checks every campaign before it goes live.</p>
      <form class="stack panel cf-form" onSubmit={(e) => { e.preventDefault(); void save.run(); }}>
        <Field label="Title" testId="cf-title" value={form.title} onInput={set("title")} />
        <label class="field"><span class="field-label">Story</span><textarea rows={5} data-testid="cf-story" value={form.story} onInput={set("story")} /></label>
        <div class="cf-row">
          <label class="field"><span class="field-label">Category</span>
            <select data-testid="cf-category" value={form.category} onChange={set("category")}>{CATEGORIES.map((c) => <option key={c} value={c}>{label(c)}</option>)}</select>
          </label>
          <Field label="City" testId="cf-city" value={form.city} onInput={set("city")} />
        </div>
        <div class="cf-row">
          <Field label="Goal (₹)" testId="cf-goal" inputMode="decimal" value={form.goal} onInput={set("goal")} />
          <Field label="Smallest pledge (₹)" testId="cf-min" inputMode="decimal" value={form.min_investment} onInput={set("min_investment")} />
          <Field label="Most per person (₹)" testId="cf-max" inputMode="decimal" value={form.max_investment} onInput={set("max_investment")} />
        </div>
        <div class="cf-row">
          <Field label="Profit shared (%)" testId="cf-share" inputMode="decimal" value={form.profit_share_bps} onInput={set("profit_share_bps")} />
          <Field label="Report profit every (months)" testId="cf-period" type="number" min={1} max={12} value={form.profit_period_months} onInput={set("profit_period_months")} />
        </div>
        <div class="cf-row">
          <Field label="Opens on" type="date" testId="cf-start" value={form.starts_on} onInput={set("starts_on")} />
          <Field label="Closes at" type="datetime-local" testId="cf-end" value={form.ends_at} onInput={set("ends_at")} />
        </div>
        <div class="cf-row">
          <label class="field"><span class="field-label">If the goal is not met</span>
            <select data-testid="cf-model" value={form.funding_model} onChange={set("funding_model")}>
              <option value="all_or_nothing">Refund everyone (all or nothing)</option><option value="keep_what_you_raise">Keep what was raised</option>
            </select>
          </label>
          <label class="field"><span class="field-label">A pledge above what remains</span>
            <select data-testid="cf-policy" value={form.pledge_policy} onChange={set("pledge_policy")}>
              <option value="part_fill">Accept the remainder</option><option value="refuse">Refuse it</option>
            </select>
          </label>
        </div>
        <div class="field">
          <span class="field-label">Pictures (PNG or JPEG, up to 10: the first is the cover)</span>
          <div class="cf-thumbs" data-testid="cf-pictures">
            {pictures.map((p, i) => (
              <figure key={p.id} class="cf-thumb" data-testid="cf-picture">
                <img src={p.url} alt={`picture ${i + 1}`} />
                <button type="button" class="btn btn-secondary btn-small" data-testid="cf-picture-remove" onClick={() => setPictures(pictures.filter((q) => q.id !== p.id))}>Remove</button>
              </figure>
            ))}
          </div>
          <input type="file" multiple accept="image/png,image/jpeg" data-testid="cf-picture-input" disabled={upload.busy || pictures.length >= 10}
            onChange={(e) => { const files = Array.from(e.currentTarget.files ?? []); e.currentTarget.value = ""; void upload.run(files); }} />
          {upload.busy && <span class="muted small">Uploading…</span>}
          <Problem error={upload.error} testId="cf-picture-error" />
        </div>
        <div class="field">
          <span class="field-label">Documents for the admin and investors (PDF, PNG or JPEG, up to 10: a quote, a lease, a licence)</span>
          <ul class="rows cf-list" data-testid="cf-documents">
            {docs.map((d) => (
              <li key={d.id} data-testid="cf-document">{d.filename} <button type="button" class="btn btn-secondary btn-small" data-testid="cf-document-remove" onClick={() => setDocs(docs.filter((x) => x.id !== d.id))}>Remove</button></li>
            ))}
          </ul>
          <input type="file" multiple accept="application/pdf,image/png,image/jpeg" data-testid="cf-document-input" disabled={uploadDocs.busy || docs.length >= 10}
            onChange={(e) => { const files = Array.from(e.currentTarget.files ?? []); e.currentTarget.value = ""; void uploadDocs.run(files); }} />
          {uploadDocs.busy && <span class="muted small">Uploading…</span>}
          <Problem error={uploadDocs.error} testId="cf-document-error" />
        </div>
        <Button type="submit" busy={save.busy || upload.busy || uploadDocs.busy} testId="cf-save">{id ? "Save draft" : "Create draft"}</Button>
        <Problem error={save.error} testId="cf-error" />
      </form>
    </main>
  );
}

// ---- dashboards -------------------------------------------------------------------------------

interface BoardUpdate extends Update { campaign_id: string; campaign_title: string | null }
interface ReportDue { campaign_id: string; campaign_title: string; number: number; period_start: string; period_end: string; due_on: string; state: "upcoming" | "due" | "overdue"; overdue: boolean; days_overdue: number; overdue_since: string | null }
/** `GET /api/v1/campaigns/{id}/profit-reports`: the reports and the next one the owner owes. */
interface Reporting { reports: Report[]; next_due: ReportDue | null }
type Loaded<T> = { data: T | null; reload: () => void };
interface MyBoard {
  invested: string; received: string; return_bps: number; investments: Investment[]; payouts: Transfer[];
  upcoming: Campaign[]; investor_updates: BoardUpdate[]; owned: Campaign[]; owner_reports_due: ReportDue[]; owner_reports: Report[];
  owner_transfers: Transfer[]; owner_updates: BoardUpdate[]; disputes: Dispute[];
  investor_reports_due: ReportDue[]; investor_reports: Report[];
}

interface Destination { kind: string; vpa: string | null; ifsc: string | null; account_last4: string | null; account_holder: string | null; registered_name: string | null }
interface DestinationState { destination: Destination | null; waiting_payouts: number }

const IFSC = /^[A-Z]{4}0[A-Z0-9]{6}$/;

/** Where releases and profit shares are paid: a UPI id or a bank account, verified with the
 * payout provider before it is saved. */
function PayoutDestinationPanel({ onSaved }: { onSaved: () => void }) {
  const state = useLoad(() => api<DestinationState>("GET", "/api/v1/me/payout-destination"), []);
  const [kind, setKind] = useState("vpa");
  const [form, setForm] = useState<Record<string, string>>({ vpa: "", account_holder: "", ifsc: "", account_number: "" });
  const [editing, setEditing] = useState(false);
  const set = (key: string) => (e: Event) => setForm({ ...form, [key]: (e.currentTarget as HTMLInputElement).value });
  const save = useAction(async () => {
    let body: Record<string, string>;
    if (kind === "vpa") {
      const vpa = (form.vpa ?? "").trim();
      if (!/^[\w.-]{2,}@[A-Za-z][A-Za-z0-9]+$/.test(vpa)) throw new ApiError("A UPI id looks like name@bank", 422, "input");
      body = { kind, vpa };
    } else {
      const ifsc = (form.ifsc ?? "").trim().toUpperCase();
      const number = (form.account_number ?? "").replace(/\s/g, "");
      if (!IFSC.test(ifsc)) throw new ApiError("An IFSC is 4 letters, a zero, then 6 letters or digits (like HDFC0001234)", 422, "input");
      if (!/^\d{9,18}$/.test(number)) throw new ApiError("An account number is 9 to 18 digits", 422, "input");
      if ((form.account_holder ?? "").trim().length < 3) throw new ApiError("Write the account holder's name as the bank has it", 422, "input");
      body = { kind, account_holder: (form.account_holder ?? "").trim(), ifsc, account_number: number };
    }
    await api("PUT", "/api/v1/me/payout-destination", { body });
    setEditing(false);
    state.reload();
    onSaved();
  });
  const d = state.data?.destination ?? null;
  const waiting = state.data?.waiting_payouts ?? 0;
  return (
    <Panel title="Where we pay you" testId="payout-destination">
      {waiting > 0 && <Notice tone="warn" testId="destination-waiting">{waiting} payout{waiting === 1 ? " waits" : "s wait"} for a UPI id or bank account.</Notice>}
      {d && !editing && (
        <p data-testid="destination-current">
          {d.kind === "vpa" ? <>UPI <strong>{d.vpa}</strong></> : <>Bank account ••••{d.account_last4} · {d.ifsc}</>}
          {d.registered_name && <span class="muted small block">Verified: {d.registered_name}</span>}
        </p>
      )}
      <Problem error={state.error} testId="destination-load-error" />
      {state.data && !d && !editing && <Empty>No UPI id or bank account yet: releases and profit shares wait for one.</Empty>}
      {state.data && !editing && <Button kind="secondary" testId="destination-edit" onClick={() => setEditing(true)}>{d ? "Change" : "Add one"}</Button>}
      {editing && (
        <form class="stack" onSubmit={(e) => { e.preventDefault(); void save.run(); }}>
          <label class="field"><span class="field-label">Pay me by</span>
            <select data-testid="destination-kind" value={kind} onChange={(e) => setKind(e.currentTarget.value)}>
              <option value="vpa">UPI</option><option value="bank_account">Bank transfer (IMPS)</option>
            </select>
          </label>
          {kind === "vpa" ? (
            <Field label="UPI id" testId="destination-vpa" placeholder="name@okaxis" value={form.vpa} onInput={set("vpa")} />
          ) : (
            <>
              <Field label="Account holder" testId="destination-holder" value={form.account_holder} onInput={set("account_holder")} />
              <div class="cf-row">
                <Field label="IFSC" testId="destination-ifsc" placeholder="HDFC0001234" value={form.ifsc} onInput={set("ifsc")} />
                <Field label="Account number" testId="destination-number" inputMode="numeric" value={form.account_number} onInput={set("account_number")} />
              </div>
            </>
          )}
          <Button type="submit" busy={save.busy} testId="destination-save">Verify and save</Button>
          <Problem error={save.error} testId="destination-error" />
        </form>
      )}
    </Panel>
  );
}

interface StatementJob { id: string; status: string; percent: number; error: { code: string; message: string } | null; download: { url: string; filename: string } | null }

/** Ask the reports agent for a statement, follow it to the end, offer the file. */
function StatementButtons({ kind, campaignId, testId }: { kind: "investor" | "campaign"; campaignId?: string; testId: string }) {
  const [job, setJob] = useState<StatementJob | null>(null);
  const ask = useAction(async (format: "csv" | "pdf") => {
    let current = await api<StatementJob>("POST", "/api/v1/me/campaigns/statements", { body: { kind, format, campaign_id: campaignId } });
    setJob(current);
    for (let i = 0; i < 120 && current.status !== "done" && current.status !== "failed"; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      current = await api<StatementJob>("GET", `/api/v1/me/campaigns/statements/${current.id}`);
      setJob(current);
    }
    if (current.status === "failed") throw new ApiError(current.error?.message ?? "the statement could not be built", 500, current.error?.code ?? "failed");
  });
  const working = ask.busy && job?.status !== "done";
  return (
    <div class="cf-actions" data-testid={testId}>
      <Button kind="secondary" busy={working} testId={`${testId}-csv`} onClick={() => void ask.run("csv")}>CSV</Button>
      <Button kind="secondary" busy={working} testId={`${testId}-pdf`} onClick={() => void ask.run("pdf")}>PDF</Button>
      {working && <span class="muted small">Preparing… {job?.percent ?? 0}%</span>}
      {job?.status === "done" && job.download && <a href={job.download.url} data-external download={job.download.filename} data-testid={`${testId}-download`}>Download {job.download.filename}</a>}
      <Problem error={ask.error} testId={`${testId}-error`} />
    </div>
  );
}

/** Why a payout is not paid yet, in words. */
function PayoutTrouble({ t }: { t: Transfer }) {
  if (t.status === "sent") return <span class="muted small block">On its way: the bank confirms it shortly.</span>;
  if (t.status === "failed") return <span class="small block cf-trouble" data-testid="payout-failed">It did not go through ({t.last_error ?? "the bank refused it"}). An admin will send it again.</span>;
  if (t.status === "pending" && t.last_error?.includes("payout destination")) return <span class="small block cf-trouble">Waiting for your UPI id or bank account.</span>;
  return null;
}

/** "Overdue by 3 days", "Due now", "Period running": the state of the next report due. */
function DueBadge({ d }: { d: ReportDue }) {
  if (d.overdue) return <Badge tone="bad" testId="report-due-state">Overdue by {plural(d.days_overdue, "day")}{d.overdue_since ? `, since ${day(d.overdue_since)}` : ""}</Badge>;
  if (d.state === "due") return <Badge tone="warn" testId="report-due-state">Due now</Badge>;
  return <Badge tone="neutral" testId="report-due-state">Period running</Badge>;
}

function UpdateRows({ updates, testId }: { updates: BoardUpdate[]; testId: string }) {
  return (
    <ul class="rows cf-list">
      {updates.map((u) => (
        <li key={u.id} data-testid={testId} data-campaign={u.campaign_id}>
          <strong>{u.title}</strong> · <a href={`/campaigns/${u.campaign_id}`}>{u.campaign_title ?? "Campaign"}</a>
          <span class="muted small block" data-testid={`${testId}-date`}>{when(u.created_at)}</span>
          <p class="cf-update-body">{u.body}</p>
        </li>
      ))}
    </ul>
  );
}

export function CampaignDashboard() {
  const board = useLoad(() => api<MyBoard>("GET", "/api/v1/me/campaigns/dashboard"), []);
  const b = board.data;
  // Live without a reload: the rooms of the campaigns owned (raised, reserved, investors,
  // updates) and invested in (updates), and the person's campaign notifications (payments,
  // payouts, profit shares) make the board fetch itself again.
  const followed = b ? [
    ...b.owned.filter((c) => c.status === "live" || c.status === "funded").map((c) => c.id),
    ...b.investments.filter((i) => i.status === "completed" || i.status === "pending").map((i) => i.campaign_id),
  ].slice(0, 40) : [];
  useDashboardLive(followed, board.reload);
  const dueBy = new Map((b?.owner_reports_due ?? []).map((d) => [d.campaign_id, d]));
  return (
    <main class="page" data-testid="campaign-dashboard">
      <div class="page-head"><h1>My crowdfunding</h1></div>
      <Problem error={board.error} />
      {b && (
        <div class="cf-layout">
          <div class="stack">
            <PayoutDestinationPanel onSaved={board.reload} />
            <Panel title="As an investor" testId="investor-board">
              <div class="figures">
                <div class="figure"><span class="figure-name">Invested</span><span class="figure-value" data-testid="board-invested">{money(b.invested)}</span></div>
                <div class="figure"><span class="figure-name">Profit received</span><span class="figure-value" data-testid="board-received">{money(b.received)}</span></div>
                <div class="figure"><span class="figure-name">Return so far</span><span class="figure-value">{(b.return_bps / 100).toFixed(2)}%</span></div>
              </div>
              {b.investments.length === 0 && <Empty>You have not invested yet. <a href="/campaigns">See the campaigns</a>.</Empty>}
              <ul class="rows cf-list">
                {b.investments.map((i) => (
                  <li key={i.id} data-testid="board-investment" data-status={i.status}>
                    <a href={`/campaigns/${i.campaign_id}`}>{i.campaign_title ?? "Campaign"}</a> · {money(i.amount)} <Status value={i.status} />
                    {i.status === "pending" && i.checkout_url && <> · <a href={i.checkout_url} data-external>Pay</a> before {when(i.expires_at)}</>}
                  </li>
                ))}
              </ul>
              {b.payouts.length > 0 && <h3>Payouts</h3>}
              <ul class="rows cf-list">{b.payouts.map((t) => <li key={t.id} data-testid="board-payout" data-status={t.status}>{label(t.kind)} {money(t.amount)} <Status value={t.status} /> {t.paid_at && t.status === "paid" && <span class="muted small">{when(t.paid_at)}</span>}<PayoutTrouble t={t} /></li>)}</ul>
              {b.investor_updates.length > 0 && <h3>News from your campaigns</h3>}
              <UpdateRows updates={b.investor_updates} testId="board-investor-update" />
              {b.disputes.length > 0 && <h3>Your disputes</h3>}
              <ul class="rows cf-list">
                {b.disputes.map((d) => (
                  <li key={d.id} data-testid="board-dispute" data-status={d.status}>
                    <a href={`/campaigns/${d.campaign_id}`} data-testid="dispute-campaign">{d.campaign_title ?? "Campaign"}</a> <Status value={d.status} />
                    <span class="small block">“{d.reason}”</span>
                    {d.resolution && <span class="muted small block">Resolved: {d.resolution}</span>}
                  </li>
                ))}
              </ul>
              {(b.investor_reports_due.length > 0 || b.investor_reports.length > 0) && <h3>Profit reports owed to you</h3>}
              <ul class="rows cf-list">
                {b.investor_reports_due.map((d) => (
                  <li key={d.campaign_id} data-testid="board-investor-due" data-campaign={d.campaign_id} data-state={d.state}>
                    <a href={`/campaigns/${d.campaign_id}`}>{d.campaign_title}</a>
                    <NextReport d={d} testId="board-investor-due-line" />
                  </li>
                ))}
                {b.investor_reports.map((r) => (
                  <li key={r.id} data-testid="board-investor-report" data-status={r.status}>
                    <a href={`/campaigns/${r.campaign_id}`}>{r.campaign_title ?? "Campaign"}</a>: {day(r.period_start)} to {day(r.period_end)} · profit {money(r.profit)} <Status value={r.status === "submitted" ? "awaiting_review" : r.status} />
                    {r.shares[0] && <span class="muted small block">Your share {money(r.shares[0].amount)}</span>}
                    {r.document_url && <a class="small block" href={r.document_url} data-external target="_blank" rel="noopener">The statement</a>}
                  </li>
                ))}
              </ul>
              <h3>Statement</h3>
              <p class="muted small">Every investment, refund and profit share, for your records.</p>
              <StatementButtons kind="investor" testId="investor-statement" />
              {b.upcoming.length > 0 && <h3>Closing next</h3>}
              <ul class="rows cf-list">{b.upcoming.map((c) => <li key={c.id}><a href={`/campaigns/${c.id}`}>{c.title}</a> · closes in <Countdown deadline={c.ends_at} /></li>)}</ul>
            </Panel>
          </div>
          <div class="stack">
            <Panel title="As an owner" testId="owner-board" actions={<a class="btn btn-secondary" href="/campaigns/new">New campaign</a>}>
              {b.owned.length === 0 && <Empty>No campaigns of yours.</Empty>}
              <ul class="rows cf-list">
                {b.owned.map((c) => {
                  const due = dueBy.get(c.id);
                  return (
                    <li key={c.id} data-testid="board-owned" data-id={c.id}><a href={`/campaigns/${c.id}`}>{c.title}</a> <Status value={c.status} /> · <span data-testid="board-owned-raised">{money(c.raised)}</span> of {money(c.goal)} · <span data-testid="board-owned-investors">{plural(c.investor_count, "investor")}</span>
                      {c.status === "live" && c.reserved !== "0.00" && <span data-testid="board-owned-reserved"> · {money(c.reserved)} reserved by people paying now</span>}
                      {due && <NextReport d={due} testId="board-report-due" />}
                      {c.status !== "draft" && c.status !== "in_review" && <StatementButtons kind="campaign" campaignId={c.id} testId="campaign-statement" />}
                    </li>
                  );
                })}
              </ul>
              {b.owner_transfers.length > 0 && <h3>Money released to you</h3>}
              <ul class="rows cf-list">{b.owner_transfers.map((t) => <li key={t.id} data-testid="board-release" data-status={t.status}>{money(t.amount)} <Status value={t.status} /><PayoutTrouble t={t} /></li>)}</ul>
              {b.owner_reports.length > 0 && <h3>Profit reports</h3>}
              <ul class="rows cf-list">{b.owner_reports.map((r) => <li key={r.id} data-testid="board-owner-report"><a href={`/campaigns/${r.campaign_id}`}>{r.campaign_title ?? "Campaign"}</a>: {day(r.period_start)} to {day(r.period_end)}, pool {money(r.pool)} <Status value={r.status} />{r.status === "approved" && r.checkout_url && <> · <a href={r.checkout_url} data-external>pay it in</a></>}</li>)}</ul>
              {b.owner_updates.length > 0 && <h3>Your updates</h3>}
              <UpdateRows updates={b.owner_updates} testId="board-owner-update" />
            </Panel>
          </div>
        </div>
      )}
    </main>
  );
}

interface AdminBoard { to_verify: Campaign[]; reports_to_decide: Report[]; failed_transfers: Transfer[]; open_disputes: Dispute[]; live: Campaign[]; reports_overdue: ReportDue[] }

interface Choice { label: string; kind?: "primary" | "secondary"; testId: string; confirm: string; run: (notes: string) => Promise<void> }

/** An admin's decision: the admin writes the notes (nothing is filled in for them), picks a
 * decision, and confirms it in a second step that repeats what will happen. */
function Decision({ testId, noteLabel, choices }: { testId: string; noteLabel: string; choices: Choice[] }) {
  const [notes, setNotes] = useState("");
  const [picked, setPicked] = useState<Choice | null>(null);
  const [missing, setMissing] = useState(false);
  const act = useAction(async (choice: Choice) => { await choice.run(notes.trim()); setPicked(null); setNotes(""); });
  const pick = (choice: Choice) => {
    if (notes.trim().length < 3) { setMissing(true); return; }
    setMissing(false);
    setPicked(choice);
  };
  return (
    <div class="stack cf-decision" data-testid={testId}>
      <label class="field"><span class="field-label">{noteLabel}</span>
        <textarea rows={2} data-testid="decision-notes" value={notes} disabled={picked !== null}
          onInput={(e) => { setNotes(e.currentTarget.value); setMissing(false); }} /></label>
      {missing && <p class="small cf-trouble" role="alert" data-testid="decision-notes-missing">Write your notes first (at least 3 characters): they are kept with the decision and shown to the people it concerns.</p>}
      {picked === null ? (
        <div class="cf-actions">
          {choices.map((choice) => <Button key={choice.testId} kind={choice.kind ?? "secondary"} testId={choice.testId} onClick={() => pick(choice)}>{choice.label}</Button>)}
        </div>
      ) : (
        <div class="cf-confirm" role="group" aria-label="Confirm the decision" data-testid="decision-confirm-box">
          <p><strong>{picked.confirm}</strong> Your notes: “{notes.trim()}”</p>
          <div class="cf-actions">
            <Button busy={act.busy} testId="decision-confirm" onClick={() => void act.run(picked)}>Yes, {picked.label.toLowerCase()}</Button>
            <Button kind="ghost" testId="decision-cancel" onClick={() => setPicked(null)}>Not yet</Button>
          </div>
        </div>
      )}
      <Problem error={act.error} testId="decision-error" />
    </div>
  );
}

export function CampaignAdmin() {
  const board = useLoad(() => api<AdminBoard>("GET", "/api/v1/admin/campaigns/dashboard"), []);
  const act = useAction(async (path: string, body: unknown) => { await api("POST", path, { body }); board.reload(); });
  const post = async (path: string, body: unknown) => { await api("POST", path, { body }); board.reload(); };
  const b = board.data;
  // Live without a reload: the admins' room (submissions, decisions, reports, disputes,
  // payouts, closings) and the rooms of the live campaigns listed (pledges, payments).
  useDashboardLive((b?.live ?? []).map((c) => c.id), board.reload, true);
  const titles = new Map((b?.to_verify ?? []).map((c) => [c.id, c.title]));
  return (
    <main class="page" data-testid="campaign-admin">
      <div class="page-head"><h1>Crowdfunding: admin</h1></div>
      <Problem error={board.error ?? act.error} />
      {b && (
        <div class="stack">
          <Panel title={`Campaigns to verify (${b.to_verify.length})`} testId="to-verify">
            {b.to_verify.length === 0 && <Empty>Nothing waits for verification.</Empty>}
            <ul class="rows cf-list">
              {b.to_verify.map((c) => (
                <li key={c.id} data-testid="verify-item" data-id={c.id}>
                  <a href={`/campaigns/${c.id}`}><strong>{c.title}</strong></a> by {c.owner_name} · {c.city} · goal {money(c.goal)} · {Math.floor(c.profit_share_bps / 100)}% of profit · opens {day(c.starts_on)}
                  <p class="small">{c.story}</p>
                  {c.documents.length > 0 && <p class="small">Documents: {c.documents.map((d) => <a key={d.id} href={d.url} data-external download={d.filename} class="cf-doc">{d.filename}</a>)}</p>}
                  <Decision testId="verify-decision" noteLabel="Notes to the owner (required)" choices={[
                    { label: "Verify and go live", kind: "primary", testId: "verify-approve", confirm: `Verify “${c.title}” and put it live for investors?`,
                      run: (notes) => post(`/api/v1/admin/campaigns/${c.id}/review`, { decision: "verify", notes }) },
                    { label: "Send back", testId: "verify-send-back", confirm: `Send “${c.title}” back to its owner to edit?`,
                      run: (notes) => post(`/api/v1/admin/campaigns/${c.id}/review`, { decision: "send_back", notes }) },
                  ]} />
                </li>
              ))}
            </ul>
          </Panel>
          <Panel title={`Profit reports (${b.reports_to_decide.length})`} testId="reports-to-decide">
            {b.reports_to_decide.length === 0 && <Empty>No profit report waits.</Empty>}
            <ul class="rows cf-list">
              {b.reports_to_decide.map((r) => (
                <li key={r.id} data-testid="report-item">
                  <a href={`/campaigns/${r.campaign_id}`}><strong>{r.campaign_title ?? titles.get(r.campaign_id) ?? "Campaign"}</strong></a>: {r.period_start} to {r.period_end} · profit {money(r.profit)} · investors' pool {money(r.pool)}
                  {r.note && <p class="small">Owner's note: {r.note}</p>}
                  {r.document_url && <p class="small"><a href={r.document_url} data-external target="_blank" rel="noopener" data-testid="report-document">Open the supporting statement</a></p>}
                  <Decision testId="report-decision" noteLabel="Your notes on the statement (required)" choices={[
                    { label: "Approve", kind: "primary", testId: "report-approve", confirm: `Approve ${money(r.profit)} of profit? The owner is then asked to pay ${money(r.pool)} in for the investors.`,
                      run: (notes) => post(`/api/v1/admin/campaigns/profit-reports/${r.id}/decision`, { approve: true, notes }) },
                    { label: "Reject", testId: "report-reject", confirm: "Reject this profit report? The owner sees your notes.",
                      run: (notes) => post(`/api/v1/admin/campaigns/profit-reports/${r.id}/decision`, { approve: false, notes }) },
                  ]} />
                </li>
              ))}
            </ul>
          </Panel>
          <Panel title={`Overdue profit reports (${b.reports_overdue.length})`} testId="reports-overdue">
            {b.reports_overdue.length === 0 && <Empty>No owner is late with a profit report.</Empty>}
            <ul class="rows cf-list">{b.reports_overdue.map((d) => (
              <li key={d.campaign_id} data-testid="overdue-item" data-campaign={d.campaign_id}><a href={`/campaigns/${d.campaign_id}`}><strong>{d.campaign_title}</strong></a><NextReport d={d} testId="overdue-line" /></li>
            ))}</ul>
          </Panel>
          <Panel title={`Live campaigns (${b.live.length})`} testId="live-campaigns">
            {b.live.length === 0 && <Empty>No campaign is live.</Empty>}
            <ul class="rows cf-list">{b.live.map((c) => (
              <li key={c.id} data-testid="live-item" data-id={c.id}>
                <a href={`/campaigns/${c.id}`}><strong>{c.title}</strong></a> · <span data-testid="live-raised">{money(c.raised)}</span> of {money(c.goal)} · <span data-testid="live-investors">{plural(c.investor_count, "investor")}</span>
                {c.reserved !== "0.00" && <span data-testid="live-reserved"> · {money(c.reserved)} reserved</span>} · closes {when(c.ends_at)}
              </li>
            ))}</ul>
          </Panel>
          <Panel title={`Failed payouts (${b.failed_transfers.length})`} testId="failed-payouts">
            {b.failed_transfers.length === 0 && <Empty>No payout has failed.</Empty>}
            <ul class="rows cf-list">{b.failed_transfers.map((t) => <li key={t.id}>{label(t.kind)} {money(t.amount)} · {plural(t.attempts, "attempt")} · {t.last_error} <Button kind="secondary" testId="payout-retry" onClick={() => void act.run(`/api/v1/admin/campaigns/transfers/${t.id}/retry`, {})}>Retry</Button></li>)}</ul>
          </Panel>
          <Panel title={`Open disputes (${b.open_disputes.length})`} testId="open-disputes">
            {b.open_disputes.length === 0 && <Empty>No open dispute.</Empty>}
            <ul class="rows cf-list">{b.open_disputes.map((d) => (
              <li key={d.id} data-testid="dispute-item" data-campaign={d.campaign_id}><a href={`/campaigns/${d.campaign_id}`} data-testid="dispute-campaign"><strong>{d.campaign_title ?? "Campaign"}</strong></a>: {d.reason} <span class="muted small">· opened {when(d.created_at)}</span>
                <Decision testId="dispute-decision" noteLabel="How it was resolved (the investor sees this)" choices={[
                  { label: "Resolve", testId: "dispute-resolve", confirm: "Mark this dispute resolved with these notes?",
                    run: (notes) => post(`/api/v1/admin/campaigns/disputes/${d.id}/resolve`, { resolution: notes }) },
                ]} />
              </li>
            ))}</ul>
          </Panel>
        </div>
      )}
    </main>
  );
}
