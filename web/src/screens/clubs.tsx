/** My clubs, creating a club, and joining one by an invite link. */
import { useEffect, useState } from "preact/hooks";
import { ApiError, errorOf } from "../api.ts";
import { bpsPercent, money, parseAmountInput } from "../money.ts";
import { navigate } from "../router.ts";
import { api, session } from "../session.ts";
import { useStore } from "../store.ts";
import type { Club } from "../types.ts";
import { Badge, Button, Empty, ErrorNote, Field, Panel, label, useAction, useLoad } from "../ui.tsx";

export function MyClubs() {
  const [clubs, setClubs] = useState<Club[] | null>(null);
  const [invite, setInvite] = useState("");
  const load = useAction(async () => {
    setClubs((await api<{ clubs: Club[] }>("GET", "/api/v1/clubs")).clubs);
  });
  useEffect(() => void load.run(), []);
  const openInvite = () => {
    const token = invite.trim().replace(/^.*\/join\//, "").replace(/[?#].*$/, "");
    if (token) navigate(`/join/${encodeURIComponent(token)}`);
  };
  return (
    <main class="page" data-testid="my-clubs">
      <div class="page-head">
        <div>
          <h1>My clubs</h1>
          <p class="muted">Your investment clubs: pay in, propose, vote and watch the portfolio live.</p>
        </div>
        <a class="btn btn-primary" href="/clubs/new" data-testid="create-club-link">Create a club</a>
      </div>
      <ErrorNote error={load.error} />
      {clubs === null && !load.error && <p class="muted">Loading…</p>}
      {clubs !== null && clubs.length === 0 && (
        <Empty testId="no-clubs">You are not in a club yet. Create one, or open an invite link a club sent you.</Empty>
      )}
      <ul class="club-grid" data-testid="club-list">
        {(clubs ?? []).map((club) => (
          <li key={club.id}>
            <a class="club-card panel" href={`/clubs/${club.id}`} data-testid={`club-${club.id}`} data-club-name={club.name}>
              <span class="club-card-name">{club.name}</span>
              {club.description && <span class="muted club-card-desc">{club.description}</span>}
              <span class="club-card-meta">
                <Badge tone="brand">{label(club.my_role)}</Badge>
                <Badge>{club.voting_mode === "weighted" ? "Weighted voting" : "One member, one vote"}</Badge>
                <Badge>{club.currency}</Badge>
              </span>
            </a>
          </li>
        ))}
      </ul>
      <Panel title="Join with an invite" testId="join-panel">
        <form class="inline-form" onSubmit={(e) => { e.preventDefault(); openInvite(); }}>
          <Field label="Invite link or code" testId="invite-input" placeholder="https://…/join/…" value={invite} onInput={(e) => setInvite((e.currentTarget as HTMLInputElement).value)} />
          <Button type="submit" kind="secondary" testId="invite-open">Open</Button>
        </form>
      </Panel>
    </main>
  );
}

export function CreateClub() {
  const [form, setForm] = useState({
    name: "", description: "", currency: "INR", voting_mode: "simple", threshold: "60", quorum: "", start: "10.00",
    tie_rule: "reject", hide_running_results: false, fee: "0",
  });
  const set = (key: keyof typeof form) => (e: Event) => {
    const target = e.currentTarget as HTMLInputElement;
    setForm({ ...form, [key]: target.type === "checkbox" ? target.checked : target.value });
  };
  // The server's rule (docs/domain.md, voting): yes ≥ threshold × (yes + no) passes, so exactly
  // at the threshold passes; the tie rule decides only yes = no, which reaches a threshold of
  // 50 % or less — above that the tie rule is never used, so it is not asked.
  const thresholdBps = Math.round(Number.parseFloat(form.threshold || "0") * 100) || 0;
  const tieMatters = thresholdBps <= 5000;
  const create = useAction(async () => {
    const start = parseAmountInput(form.start);
    if (start === null) throw new ApiError("The starting unit value is an amount like 10.00.", 422, "validation_error");
    const pct = (text: string) => Math.round(Number.parseFloat(text) * 100);
    const club = await api<Club>("POST", "/api/v1/clubs", {
      body: {
        name: form.name, description: form.description, currency: form.currency, voting_mode: form.voting_mode,
        approval_threshold_bps: pct(form.threshold), quorum_bps: form.quorum.trim() ? pct(form.quorum) : null,
        starting_unit_value: start, tie_rule: tieMatters ? form.tie_rule : "reject", hide_running_results: form.hide_running_results,
        withdrawal_fee_bps: pct(form.fee || "0"),
      },
    });
    navigate(`/clubs/${club.id}`, true);
  });
  return (
    <main class="page narrow" data-testid="create-club">
      <h1>Create a club</h1>
      <form class="form panel panel-pad" onSubmit={(e) => { e.preventDefault(); void create.run(); }}>
        <Field label="Name" testId="club-name" required minLength={2} maxLength={80} value={form.name} onInput={set("name")} />
        <label class="field">
          <span class="field-label">Description</span>
          <textarea data-testid="club-description" maxLength={2000} rows={3} value={form.description} onInput={set("description")} />
        </label>
        <div class="form-row">
          <label class="field">
            <span class="field-label">Currency</span>
            <select data-testid="club-currency" value={form.currency} onChange={set("currency")}>
              {["INR", "USD", "EUR", "GBP"].map((c) => <option key={c}>{c}</option>)}
            </select>
          </label>
          <Field label="Starting unit value" testId="club-start" inputMode="decimal" value={form.start} onInput={set("start")} hint={`Each unit starts at ${money(parseAmountInput(form.start) ?? "", form.currency)}`} />
        </div>
        <div class="form-row">
          <label class="field">
            <span class="field-label">Voting</span>
            <select data-testid="club-voting" value={form.voting_mode} onChange={set("voting_mode")}>
              <option value="simple">One member, one vote</option>
              <option value="weighted">Weighted by units held</option>
            </select>
          </label>
          <Field label="Approval threshold (%)" testId="club-threshold" type="number" min="0.01" max="100" step="0.01" value={form.threshold} onInput={set("threshold")} />
          <Field label="Quorum (%)" testId="club-quorum" type="number" min="0.01" max="100" step="0.01" placeholder="none" value={form.quorum} onInput={set("quorum")} />
        </div>
        <div class="form-row">
          {tieMatters && (
            <label class="field">
              <span class="field-label">A tie (as much yes as no)</span>
              <select data-testid="club-tie" value={form.tie_rule} onChange={set("tie_rule")}>
                <option value="reject">is rejected</option>
                <option value="approve">is approved</option>
              </select>
            </label>
          )}
          <Field label="Withdrawal fee (%)" testId="club-fee" type="number" min="0" max="20" step="0.01" value={form.fee} onInput={set("fee")} />
        </div>
        <label class="check">
          <input type="checkbox" data-testid="club-hide-results" checked={form.hide_running_results} onChange={set("hide_running_results")} />
          Hide running results until a vote closes
        </label>
        <p class="muted small" data-testid="club-threshold-rule">
          A proposal passes when its yes {form.voting_mode === "weighted" ? "weight" : "votes"} reach at least {bpsPercent(thresholdBps)} of
          the yes + no {form.voting_mode === "weighted" ? "weight" : "votes"} — exactly {bpsPercent(thresholdBps)} is enough{thresholdBps === 7500 ? " (three yes against one no pass)" : ""}.
          Abstentions count only toward the quorum.{" "}
          {tieMatters
            ? "At this threshold a tie (as much yes as no) reaches it, so the club decides what a tie does."
            : "Above 50% a tie (as much yes as no) never reaches the threshold, so it is rejected."}
        </p>
        <ErrorNote error={create.error} />
        <div class="form-actions">
          <a class="btn btn-ghost" href="/clubs">Cancel</a>
          <Button type="submit" busy={create.busy} testId="club-create">Create the club</Button>
        </div>
      </form>
    </main>
  );
}

interface InvitePreview {
  club_id: string;
  club_name: string;
  description: string;
  currency: string;
  invited_by: string;
  members: number;
  voting_mode: "simple" | "weighted";
  approval_threshold_bps: number;
  quorum_bps: number | null;
  tie_rule: string;
  withdrawal_fee_bps: number;
  starting_unit_value: string;
  expires_at: string;
}

/** The invite a join link carries (a public read: the token is the secret). Throws ApiError. */
export async function invitePreview(token: string): Promise<InvitePreview> {
  let response: Response;
  try {
    response = await fetch(`/api/v1/invites/${encodeURIComponent(token)}`, { headers: { Accept: "application/json" }, cache: "no-store" });
  } catch {
    throw new ApiError("Could not reach the server; check your connection and try again.", 0, "network_error");
  }
  if (!response.ok) throw await errorOf(response);
  return (await response.json()) as InvitePreview;
}

export function JoinClub({ token }: { token: string }) {
  const state = useStore(session.state);
  const signedIn = state === "signed-in";
  const here = `/join/${token}`;
  const preview = useLoad(() => invitePreview(token), [token]);
  const join = useAction(async () => {
    const joined = await api<{ club: Club }>("POST", `/api/v1/invites/${encodeURIComponent(token)}/accept`);
    navigate(`/clubs/${joined.club.id}`, true);
  });
  const p = preview.data;
  const unusable = preview.error ?? join.error;
  return (
    <main class="page narrow" data-testid="join-club">
      <section class="panel panel-pad">
        {p ? (
          <>
            <h1 data-testid="join-club-name">{p.invited_by} invites you to {p.club_name}</h1>
            {p.description && <p>{p.description}</p>}
            <h2 class="subhead">The club's rules</h2>
            <ul class="rules" data-testid="join-rules">
              <li>{p.voting_mode === "weighted" ? "Votes count by units held (weighted voting)." : "One member, one vote."}</li>
              <li>A proposal passes with {bpsPercent(p.approval_threshold_bps)} of the yes and no votes{p.quorum_bps !== null ? `, when at least ${bpsPercent(p.quorum_bps)} of the club votes` : ""}{" "}(exactly {bpsPercent(p.approval_threshold_bps)} is enough){p.approval_threshold_bps <= 5000 ? `; a tie is ${p.tie_rule === "approve" ? "approved" : "rejected"}` : ""}.</li>
              <li>Money is held in {p.currency}; units started at {money(p.starting_unit_value, p.currency)}.</li>
              <li>{p.withdrawal_fee_bps > 0 ? `Withdrawals pay a fee of ${bpsPercent(p.withdrawal_fee_bps)}.` : "Withdrawals pay no fee."}</li>
              <li>{p.members} {p.members === 1 ? "member" : "members"} so far.</li>
            </ul>
          </>
        ) : (
          <h1>You have been invited to a club</h1>
        )}
        <p class="muted">Joining lets you chat, propose and vote, and pay into the club. You can leave while you hold no units.</p>
        <ErrorNote error={unusable} />
        {unusable instanceof ApiError && unusable.code === "already_member" && <p><a href="/clubs">Go to my clubs</a></p>}
        {signedIn ? (
          <div class="form-actions">
            <a class="btn btn-ghost" href="/clubs">Not now</a>
            <Button busy={join.busy} disabled={preview.error !== null && preview.error !== undefined} testId="join-accept" onClick={() => void join.run()}>Join the club</Button>
          </div>
        ) : state === "signed-out" && !preview.error && (
          <>
            <p data-testid="join-signed-out">To join, create your account (or sign in if you have one): you come back here to join.</p>
            <div class="form-actions">
              <a class="btn btn-ghost" href={`/login?next=${encodeURIComponent(here)}`} data-testid="join-login">Sign in</a>
              <a class="btn btn-primary" href={`/signup?next=${encodeURIComponent(here)}`} data-testid="join-signup">Create an account</a>
            </div>
          </>
        )}
      </section>
    </main>
  );
}
