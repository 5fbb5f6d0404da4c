/** The admin console: users (search, suspend, reactivate), clubs, the KYC review queue, and the
 * broadcast composer with live delivery. */
import { useEffect, useState } from "preact/hooks";
import { ApiError } from "../api.ts";
import { onFeed } from "../feed.ts";
import { navigate, route } from "../router.ts";
import { api, session } from "../session.ts";
import { useStore } from "../store.ts";
import type { Broadcast } from "../types.ts";
import { Badge, Button, Empty, ErrorNote, Field, Notice, Panel, label, useAction, useLoad, when } from "../ui.tsx";

interface AdminUser {
  id: string;
  email: string;
  full_name: string;
  member_id: string | null;
  status: string;
  roles: string[];
  kyc_status: string;
  mfa_enabled: boolean;
  created_at: string;
}

const TABS: [string, string][] = [["users", "Users"], ["clubs", "Clubs"], ["kyc", "KYC queue"], ["broadcasts", "Broadcasts"]];

export default function AdminConsole() {
  const me = useStore(session.me);
  const tab = useStore(route).query.get("tab") ?? "users";
  if (!me?.roles.includes("admin")) {
    return <main class="page"><ErrorNote error={new ApiError("The admin console is for platform admins.", 403, "forbidden")} /></main>;
  }
  return (
    <main class="page" data-testid="admin-console">
      <div class="page-head"><h1>Admin console</h1></div>
      <nav class="tabs" role="tablist">
        {TABS.map(([key, text]) => (
          <a key={key} role="tab" aria-selected={tab === key} class={tab === key ? "tab active" : "tab"} href={`/admin?tab=${key}`} data-testid={`admin-tab-${key}`}>{text}</a>
        ))}
      </nav>
      {tab === "users" && <Users />}
      {tab === "clubs" && <Clubs />}
      {tab === "kyc" && <KycQueue />}
      {tab === "broadcasts" && <Broadcasts />}
    </main>
  );
}

function Users() {
  const [q, setQ] = useState("");
  const [status, setStatus] = useState("");
  const [search, setSearch] = useState({ q: "", status: "", page: 1 });
  const users = useLoad(() => {
    const params = new URLSearchParams({ page: String(search.page), page_size: "20" });
    if (search.q) params.set("q", search.q);
    if (search.status) params.set("status", search.status);
    return api<{ items: AdminUser[]; total: number; page: number; page_size: number }>("GET", `/api/v1/admin/users?${params}`);
  }, [search]);
  const act = useAction(async (user: AdminUser, what: "suspend" | "reactivate") => {
    const reason = window.prompt(`Why ${what} ${user.email}? (kept in the audit log)`);
    if (!reason) return;
    await api("POST", `/api/v1/admin/users/${user.id}/${what}`, { body: { reason } });
    users.reload();
  });
  const data = users.data;
  return (
    <Panel title={<>Users {data && <span class="muted small">{data.total}</span>}</>} testId="admin-users">
      <form class="inline-form" onSubmit={(e) => { e.preventDefault(); setSearch({ q, status, page: 1 }); }}>
        <Field label="Search" testId="user-search" placeholder="e-mail, name or member id" value={q} onInput={(e) => setQ((e.currentTarget as HTMLInputElement).value)} />
        <label class="field">
          <span class="field-label">Status</span>
          <select value={status} onChange={(e) => setStatus((e.currentTarget as HTMLSelectElement).value)} data-testid="user-status-filter">
            <option value="">Any</option>
            {["ACTIVE", "PENDING", "SUSPENDED", "ERASED"].map((s) => <option key={s} value={s}>{label(s)}</option>)}
          </select>
        </label>
        <Button type="submit" kind="secondary" testId="user-search-submit">Search</Button>
      </form>
      <ErrorNote error={users.error ?? act.error} />
      <div class="table-wrap">
        <table class="data" data-testid="user-table">
          <thead><tr><th>Person</th><th>Member id</th><th>Status</th><th>Roles</th><th>KYC</th><th>Joined</th><th /></tr></thead>
          <tbody>
            {(data?.items ?? []).map((u) => (
              <tr key={u.id} data-testid={`user-${u.id}`} data-email={u.email} data-status={u.status}>
                <th scope="row">{u.full_name}<span class="muted small block">{u.email}</span></th>
                <td>{u.member_id ?? "—"}</td>
                <td><Badge tone={u.status === "ACTIVE" ? "ok" : u.status === "SUSPENDED" ? "bad" : "warn"}>{label(u.status)}</Badge></td>
                <td>{u.roles.join(", ")}{u.mfa_enabled && <span class="muted small"> · MFA</span>}</td>
                <td>{label(u.kyc_status)}</td>
                <td class="small">{when(u.created_at)}</td>
                <td class="num">
                  {u.status === "ERASED" ? null : u.status === "SUSPENDED" ? (
                    <Button kind="ghost" testId={`reactivate-${u.id}`} onClick={() => void act.run(u, "reactivate")}>Reactivate</Button>
                  ) : u.id !== session.me.get()?.id ? (
                    <Button kind="ghost" testId={`suspend-${u.id}`} onClick={() => void act.run(u, "suspend")}>Suspend</Button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {data && data.total > data.page * data.page_size && (
        <Button kind="ghost" onClick={() => setSearch({ ...search, page: search.page + 1 })}>Next page</Button>
      )}
    </Panel>
  );
}

interface AdminClub {
  id: string; name: string; currency: string; voting_mode: string; members: number;
  last_valuation_date: string | null; created_at: string;
}

function Clubs() {
  const [q, setQ] = useState("");
  const [search, setSearch] = useState("");
  const clubs = useLoad(
    () => api<{ clubs: AdminClub[]; total: number }>("GET", `/api/v1/admin/clubs?page_size=100${search ? `&q=${encodeURIComponent(search)}` : ""}`),
    [search],
  );
  return (
    <Panel title="Clubs" testId="admin-clubs">
      <form class="row" onSubmit={(e) => { e.preventDefault(); setSearch(q.trim()); }}>
        <input aria-label="Search clubs by name" placeholder="Search by name" value={q}
          onInput={(e) => setQ((e.target as HTMLInputElement).value)} data-testid="admin-club-search" />
        <button type="submit">Search</button>
      </form>
      <p class="muted small">{clubs.data ? `${clubs.data.total} club${clubs.data.total === 1 ? "" : "s"} on the platform.` : ""} Club ids can be used as broadcast audiences.</p>
      <ErrorNote error={clubs.error} />
      <table class="data">
        <thead><tr><th>Club</th><th>Id</th><th>Members</th><th>Currency</th><th>Voting</th><th>Last valuation</th><th>Created</th></tr></thead>
        <tbody>
          {(clubs.data?.clubs ?? []).map((c) => (
            <tr key={c.id} data-testid={`admin-club-${c.id}`}>
              <th scope="row">{c.name}</th>
              <td class="mono small">{c.id}</td>
              <td>{c.members}</td>
              <td>{c.currency}</td>
              <td>{label(c.voting_mode)}</td>
              <td class="small">{c.last_valuation_date ?? "—"}</td>
              <td class="small">{when(c.created_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Panel>
  );
}

interface QueueItem {
  document: { id: string; kind: string; status: string; number: string | null; number_last4: string | null; submitted_at: string; expires_on: string | null };
  user: { id: string; email: string; full_name: string; member_id: string | null; kyc_status: string };
}

function KycQueue() {
  const queue = useLoad(() => api<{ items: QueueItem[]; total: number }>("GET", "/api/v1/admin/kyc/queue"), []);
  const [preview, setPreview] = useState<{ id: string; url: string | null } | null>(null);
  const open = useAction(async (id: string) => {
    const doc = await api<{ preview: { url: string } | null }>("GET", `/api/v1/admin/kyc/documents/${id}`);
    setPreview({ id, url: doc.preview?.url ?? null });
  });
  const decide = useAction(async (id: string, decision: "verify" | "reject") => {
    let reason: string | null = null;
    if (decision === "reject") {
      reason = window.prompt("Why is it rejected? The person reads this.");
      if (!reason) return;
    }
    await api("POST", `/api/v1/admin/kyc/documents/${id}/decision`, { body: { decision, reason } });
    setPreview(null);
    queue.reload();
  });
  const missing = queue.error instanceof ApiError && queue.error.status === 404;
  return (
    <Panel title={<>KYC queue {queue.data && <span class="muted small">{queue.data.total} waiting</span>}</>} testId="admin-kyc">
      {missing ? <p class="muted small">KYC review is not available on this server yet.</p> : <ErrorNote error={queue.error ?? decide.error ?? open.error} />}
      {queue.data && queue.data.items.length === 0 && <Empty testId="kyc-empty">Nothing waiting for review.</Empty>}
      <ul class="rows">
        {(queue.data?.items ?? []).map(({ document: d, user: u }) => (
          <li key={d.id} data-testid={`kyc-${d.id}`} class="kyc-item">
            <span>
              <strong>{label(d.kind)}</strong> {d.number ?? (d.number_last4 ? `•••• ${d.number_last4}` : "")}
              <span class="muted small block">{u.full_name} · {u.email} · submitted {when(d.submitted_at)}</span>
            </span>
            <span class="row-end">
              <Button kind="ghost" testId={`kyc-open-${d.id}`} onClick={() => void open.run(d.id)}>View scan</Button>
              <Button kind="secondary" testId={`kyc-verify-${d.id}`} onClick={() => void decide.run(d.id, "verify")}>Verify</Button>
              <Button kind="danger" testId={`kyc-reject-${d.id}`} onClick={() => void decide.run(d.id, "reject")}>Reject</Button>
            </span>
            {preview?.id === d.id && (
              preview.url ? <iframe class="kyc-preview" src={preview.url} title="Document scan" sandbox="" /> : <p class="muted small">No preview available.</p>
            )}
          </li>
        ))}
      </ul>
    </Panel>
  );
}

function Broadcasts() {
  const list = useLoad(() => api<{ broadcasts: Broadcast[] }>("GET", "/api/v1/admin/broadcasts?limit=20"), []);
  const [form, setForm] = useState({ audience: "everyone", club_id: "", title: "", body: "", severity: "info" });
  const [sent, setSent] = useState<Broadcast | null>(null);
  const [delivered, setDelivered] = useState<Set<string>>(new Set());
  useEffect(() => onFeed<{ broadcast: Broadcast }>("broadcast:message", (e) => setDelivered((d) => new Set([...d, e.broadcast.id]))), []);
  const set = (key: keyof typeof form) => (e: Event) => setForm({ ...form, [key]: (e.currentTarget as HTMLInputElement).value });
  const send = useAction(async () => {
    const body = { audience: form.audience, title: form.title, body: form.body, severity: form.severity, ...(form.audience === "club" ? { club_id: form.club_id.trim() } : {}) };
    const broadcast = await api<Broadcast>("POST", "/api/v1/admin/broadcasts", { body });
    setSent(broadcast);
    setForm({ ...form, title: "", body: "" });
    list.reload();
  });
  return (
    <div class="stack">
      <Panel title="New broadcast" testId="broadcast-composer">
        <form class="form" onSubmit={(e) => { e.preventDefault(); void send.run(); }}>
          <div class="form-row">
            <label class="field">
              <span class="field-label">To</span>
              <select data-testid="broadcast-audience" value={form.audience} onChange={set("audience")}>
                <option value="everyone">Everyone</option>
                <option value="club">One club</option>
              </select>
            </label>
            {form.audience === "club" && <Field label="Club id" testId="broadcast-club" required value={form.club_id} onInput={set("club_id")} />}
            <label class="field">
              <span class="field-label">Severity</span>
              <select data-testid="broadcast-severity" value={form.severity} onChange={set("severity")}>
                {["info", "warning", "critical"].map((s) => <option key={s} value={s}>{label(s)}</option>)}
              </select>
            </label>
          </div>
          <Field label="Title" testId="broadcast-title" required maxLength={140} value={form.title} onInput={set("title")} />
          <label class="field">
            <span class="field-label">Message</span>
            <textarea data-testid="broadcast-body" required rows={3} maxLength={5000} value={form.body} onInput={set("body")} />
          </label>
          <ErrorNote error={send.error} />
          <div class="form-actions"><Button type="submit" busy={send.busy} testId="broadcast-send">Send now</Button></div>
        </form>
        {sent && (
          <Notice tone="ok" testId="broadcast-sent">
            Sent to {sent.recipients} {sent.recipients === 1 ? "person" : "people"}.{" "}
            {delivered.has(sent.id) ? <strong data-testid="broadcast-delivered">Delivered live to this console too.</strong> : <span class="muted">Waiting for the live delivery…</span>}
          </Notice>
        )}
      </Panel>
      <Panel title="Sent" testId="broadcast-history">
        <ErrorNote error={list.error} />
        <ul class="rows">
          {(list.data?.broadcasts ?? []).map((b) => (
            <li key={b.id} data-testid={`broadcast-${b.id}`}>
              <span><strong>{b.title}</strong><span class="muted small block">{b.body}</span></span>
              <span class="row-end small muted">{b.audience === "club" ? "one club" : "everyone"} · {b.recipients} · {when(b.created_at)}</span>
            </li>
          ))}
        </ul>
      </Panel>
      <p class="muted small"><a href="/clubs" onClick={(e) => { e.preventDefault(); navigate("/clubs"); }}>Back to my clubs</a></p>
    </div>
  );
}
