/** The club's broker account on the treasurer's desk: link Kite Connect (API key and secret,
 * then the Kite login) or Alpaca (key id and secret; sandbox, paper or live), see it by the last
 * characters of its keys, test it, log in again when Kite's daily session ends, compare the
 * club's holdings with the broker's positions, and remove it. Without a link, orders go to the
 * paper broker. Secrets are sent once and never shown again. */
import { useState } from "preact/hooks";
import type { Club, Order } from "../types.ts";
import { api } from "../session.ts";
import { Badge, Button, ErrorNote, Field, Notice, label, useAction, useLoad, when } from "../ui.tsx";

interface PositionCheck {
  check_date: string;
  ok: boolean;
  differences: { symbol: string; books: number; broker: number }[];
  error: string;
  checked_at: string;
}

interface BrokerLink {
  linked: boolean;
  provider: "kite" | "alpaca" | null;
  environment: "sandbox" | "paper" | "live" | null;
  status: "active" | "login_required" | "unverified" | "credentials_refused" | null;
  status_reason: string;
  key_last4: string;
  secret_last4: string;
  account_ref: string | null;
  session_at: string | null;
  tested_at: string | null;
  test_ok: boolean | null;
  test_message: string;
  login_url: string | null;
  position_check: PositionCheck | null;
}

const NAMES: Record<string, string> = { kite: "Zerodha Kite", alpaca: "Alpaca", paper: "Paper broker" };

/** Where an order went and the broker's own id of it (desk and members' order list). */
export function BrokerRef({ order: o }: { order: Order }) {
  if (!o.broker) return null;
  return (
    <span class="muted small block" data-testid={`order-broker-${o.id}`}>
      via {NAMES[o.broker] ?? o.broker}
      {o.broker_order_id && <> · broker order <code data-testid={`order-broker-id-${o.id}`}>{o.broker_order_id}</code></>}
      {o.waiting_for_broker && <> · queued: re-sent when the broker answers</>}
    </span>
  );
}

/** An order's status as people read it: "Waiting for broker" while a linked broker has not
 * taken it yet (it is kept and re-sent), else the status itself. */
export function orderStatusText(o: Order): string {
  return o.waiting_for_broker ? "Waiting for broker" : label(o.status);
}

/** Why an order ended, as a sentence: the codes our broker paths set, else the broker's own
 * message (a code-like one made readable). */
const ORDER_REASONS: Record<string, string> = {
  cancelled_by_user: "Cancelled by the club.",
  insufficient_cash: "Stopped: the club's cash did not cover more shares.",
  unknown_symbol: "The broker does not know this symbol.",
  currency_mismatch: "The broker quotes this stock in another currency than the order.",
  rejected_by_broker: "The broker refused the order.",
  expired: "The order expired at the broker.",
  done_for_day: "The broker stopped the order for the day.",
};

export function orderReasonText(reason: string): string {
  const known = ORDER_REASONS[reason];
  if (known) return known;
  if (/^[a-z]+(_[a-z]+)*$/.test(reason)) {
    const words = reason.replace(/_/g, " ");
    return `${words.charAt(0).toUpperCase()}${words.slice(1)}.`;
  }
  return reason;
}

/** The sentence for the Kite login's way back (`?broker_error=<code>`). */
const LOGIN_ERRORS: Record<string, string> = {
  broker_link_invalid: "Kite refused the login: no session could be made. See the link's status below.",
  broker_login_state: "This Kite login had expired or was used already: log in to Kite again.",
  broker_login_cancelled: "The Kite login was cancelled: nothing changed.",
  broker_account_taken: "That Kite account is already linked to another club: one account serves one club. Log in with this club's own Kite account.",
  service_unavailable: "Kite did not answer when the login came back: log in again in a few minutes.",
};

const STATUS_TEXT: Record<string, [string, "ok" | "warn" | "bad"]> = {
  active: ["Linked", "ok"],
  login_required: ["Log in needed", "warn"],
  unverified: ["Not verified — test the link", "warn"],
  credentials_refused: ["Secret refused — change keys", "bad"],
};

export function BrokerAccount({ club }: { club: Club }) {
  const path = `/api/v1/clubs/${club.id}/broker`;
  const link = useLoad(() => api<BrokerLink>("GET", path), [club.id]);
  const [shown, setShown] = useState<BrokerLink | null>(null);
  const [editing, setEditing] = useState(false);
  const [removing, setRemoving] = useState(false);
  const data = shown ?? link.data;
  const back = new URLSearchParams(window.location.search);
  const linkedNow = back.get("broker") === "linked";
  const loginError = back.get("broker_error");

  const act = useAction(async (what: "test" | "login" | "positions-check" | "remove") => {
    if (what === "remove") {
      await api("DELETE", path);
      setShown({ ...(data as BrokerLink), linked: false });
      setRemoving(false);
      link.reload();
      return;
    }
    const answer = await api<BrokerLink>("POST", `${path}/${what}`);
    if (what === "login" && answer.login_url) {
      window.location.assign(answer.login_url);
      return;
    }
    setShown(answer);
  });

  if (data === null || data === undefined) return <ErrorNote error={link.error} testId="broker-error" />;
  if (!data.linked || editing) {
    return (
      <div class="broker" data-testid="broker-account">
        <h3 class="subhead">Broker account</h3>
        {!editing && <p class="muted small" data-testid="broker-paper">Orders go to the paper broker. Link the club's own broker account to trade for real.</p>}
        <LinkForm club={club} current={data.linked ? data : null} onLinked={(answer) => {
          setEditing(false);
          setShown(answer);
          if (answer.login_url) window.location.assign(answer.login_url);
        }} onCancel={editing ? () => setEditing(false) : undefined} />
      </div>
    );
  }
  const check = data.position_check;
  const [statusText, tone] = STATUS_TEXT[data.status ?? "login_required"] ?? ["Log in needed", "warn"];
  const everLoggedIn = data.session_at !== null;
  return (
    <div class="broker" data-testid="broker-account" data-status={data.status ?? ""}>
      <h3 class="subhead">
        Broker account{" "}
        <Badge tone={tone} testId="broker-status">{statusText}</Badge>
      </h3>
      {linkedNow && data.status === "active" && <Notice tone="ok" testId="broker-linked-notice">Logged in to {NAMES[data.provider ?? ""]}: the club's orders go through it.</Notice>}
      {loginError && data.status !== "active" && <Notice tone="warn" testId="broker-login-error">{LOGIN_ERRORS[loginError] ?? "The broker login did not complete: try again."}</Notice>}
      <p data-testid="broker-summary">
        <strong>{NAMES[data.provider ?? ""]}</strong> · {data.environment}
        {data.account_ref && <> · account <span data-testid="broker-account-ref">{data.account_ref}</span></>}
        <br />
        <span class="small muted">key ••••<span data-testid="broker-key-last4">{data.key_last4}</span> · secret ••••<span data-testid="broker-secret-last4">{data.secret_last4}</span>
          {data.status === "active" && data.session_at && <> · logged in {when(data.session_at)} (Kite ends sessions every morning)</>}</span>
      </p>
      {data.status === "login_required" && (
        <Notice tone="warn" testId="broker-login-needed">
          {!everLoggedIn
            ? "Log in to Kite to start the club's session. Until then the club's orders wait here."
            : data.status_reason || "Kite ended the club's session (Kite sessions end every morning): log in to Kite again. Orders sent meanwhile wait and go once you have logged in."}
        </Notice>
      )}
      {data.status === "credentials_refused" && (
        <Notice tone="warn" testId="broker-refused">
          {data.status_reason || "The broker refused the club's keys: change the keys."} Orders are not sent until the keys are changed.
        </Notice>
      )}
      {data.status === "unverified" && (
        <Notice tone="warn" testId="broker-unverified">
          The broker did not answer when these keys were saved, so they have not been checked. They are not used for orders until "Test the link" succeeds.
        </Notice>
      )}
      {data.tested_at && (
        <p class="small" data-testid="broker-test-result" data-ok={data.test_ok ? "true" : "false"}>
          {data.test_ok ? "✓" : "✗"} {data.test_message} <span class="muted">({when(data.tested_at)})</span>
        </p>
      )}
      {check && (
        <div data-testid="broker-positions" data-ok={check.ok ? "true" : "false"}>
          {check.ok && <p class="small">✓ Holdings match the broker's positions ({check.check_date}).</p>}
          {check.error && <p class="small">Positions not compared: {check.error}</p>}
          {check.differences.length > 0 && (
            <Notice tone="warn" testId="broker-differences">
              The club's holdings differ from the broker's positions ({check.check_date}). Nothing was changed: record the missing trades or ask the broker.
              <ul>{check.differences.map((d) => <li key={d.symbol} data-testid={`broker-difference-${d.symbol}`}>{d.symbol}: books {d.books}, broker {d.broker}</li>)}</ul>
            </Notice>
          )}
        </div>
      )}
      <p class="actions-row">
        {data.provider === "kite" && data.status !== "credentials_refused" && <Button kind={data.status === "active" ? "secondary" : "primary"} class="btn-small" busy={act.busy} testId="broker-login" onClick={() => void act.run("login")}>Log in to Kite</Button>}
        <Button kind="secondary" class="btn-small" busy={act.busy} testId="broker-test" onClick={() => void act.run("test")}>Test the link</Button>
        <Button kind="secondary" class="btn-small" busy={act.busy} testId="broker-positions-check" onClick={() => void act.run("positions-check")}>Compare positions</Button>
        <Button kind={data.status === "credentials_refused" ? "primary" : "ghost"} class="btn-small" testId="broker-edit" onClick={() => setEditing(true)}>Change keys</Button>
        {!removing && <Button kind="ghost" class="btn-small" testId="broker-remove" onClick={() => setRemoving(true)}>Remove</Button>}
        {removing && <>
          <span class="small">Remove the link? Orders then go to the paper broker.</span>
          <Button kind="danger" class="btn-small" busy={act.busy} testId="broker-remove-confirm" onClick={() => void act.run("remove")}>Yes, remove it</Button>
          <Button kind="ghost" class="btn-small" onClick={() => setRemoving(false)}>Keep it</Button>
        </>}
      </p>
      <ErrorNote error={act.error} testId="broker-error" />
      <BrokerEvents club={club} />
    </div>
  );
}

interface BrokerEvents {
  events: { at: string; action: string; actor_id: string | null; details: Record<string, unknown> }[];
  refused_postbacks: { at: string; reason: string; order_ref: string; remote: string }[];
}

const EVENT_TEXT: Record<string, string> = {
  "broker.linked": "Keys saved",
  "broker.unlinked": "Link removed",
  "broker.session_started": "Logged in to Kite",
  "broker.session_ended": "Kite ended the session",
  "broker.login_refused": "Kite refused a login",
  "order.modified": "Order changed at the broker",
};

const REFUSED_TEXT: Record<string, string> = {
  bad_checksum: "checksum did not match the club's secret",
  unknown_account: "named no linked account",
  unreadable: "not readable",
};

/** What happened to the link (audited) and the postbacks refused for it, on demand. */
function BrokerEvents({ club }: { club: Club }) {
  const [open, setOpen] = useState(false);
  const [data, setData] = useState<BrokerEvents | null>(null);
  const load = useAction(async () => {
    setData(await api<BrokerEvents>("GET", `/api/v1/clubs/${club.id}/broker/events`));
    setOpen(true);
  });
  if (!open) return <p><Button kind="ghost" class="btn-small" busy={load.busy} testId="broker-events-open" onClick={() => void load.run()}>History and refused postbacks</Button><ErrorNote error={load.error} /></p>;
  return (
    <div data-testid="broker-events">
      <h4 class="subhead">Link history</h4>
      {data && data.events.length === 0 && <p class="muted small">Nothing yet.</p>}
      <ul class="rows small">
        {data?.events.map((e, i) => (
          <li key={i} data-testid="broker-event" data-action={e.action}>
            {EVENT_TEXT[e.action] ?? e.action} <span class="muted">{when(e.at)}</span>
            {e.action === "order.modified" && typeof e.details.after === "object" && e.details.after !== null && (
              <span class="muted"> · now {String((e.details.after as Record<string, unknown>).quantity ?? "")} shares</span>
            )}
          </li>
        ))}
      </ul>
      <h4 class="subhead">Refused postbacks</h4>
      {data && data.refused_postbacks.length === 0 && <p class="muted small" data-testid="broker-refused-none">None: every postback for this account was genuine.</p>}
      <ul class="rows small">
        {data?.refused_postbacks.map((r, i) => (
          <li key={i} data-testid="broker-refused-postback" data-reason={r.reason}>
            Refused: {REFUSED_TEXT[r.reason] ?? r.reason}{r.order_ref && <> · order <code>{r.order_ref}</code></>}{r.remote && <> · from {r.remote}</>} <span class="muted">{when(r.at)}</span>
          </li>
        ))}
      </ul>
      <p><Button kind="ghost" class="btn-small" busy={load.busy} onClick={() => void load.run()}>Reload</Button> <Button kind="ghost" class="btn-small" onClick={() => setOpen(false)}>Hide</Button></p>
    </div>
  );
}

function LinkForm({ club, current, onLinked, onCancel }: { club: Club; current: BrokerLink | null; onLinked: (answer: BrokerLink) => void; onCancel?: () => void }) {
  // Changing keys starts from the link's own broker and place, never another broker's form.
  const [provider, setProvider] = useState<"kite" | "alpaca">(current?.provider ?? (club.currency === "INR" ? "kite" : "alpaca"));
  const [environment, setEnvironment] = useState<"sandbox" | "paper" | "live">(current?.environment ?? "sandbox");
  const [key, setKey] = useState("");
  const [secret, setSecret] = useState("");
  const save = useAction(async () => {
    const answer = await api<BrokerLink>("PUT", `/api/v1/clubs/${club.id}/broker`, { body: { provider, environment, key: key.trim(), secret: secret.trim() } });
    setSecret("");
    onLinked(answer);
  });
  const environments: ["sandbox" | "paper" | "live", string][] = provider === "kite"
    ? [["sandbox", "Sandbox"], ["live", "Live"]]
    : [["sandbox", "Sandbox"], ["paper", "Paper trading"], ["live", "Live"]];
  return (
    <form class="form" data-testid="broker-form" onSubmit={(e) => { e.preventDefault(); void save.run(); }}>
      <label class="field">
        <span class="field-label">Broker</span>
        <select data-testid="broker-provider" value={provider} onChange={(e) => {
          const next = (e.target as HTMLSelectElement).value as "kite" | "alpaca";
          setProvider(next);
          if (next === "kite" && environment === "paper") setEnvironment("sandbox");
        }}>
          {club.currency === "INR" && <option value="kite">Zerodha Kite Connect</option>}
          {club.currency === "USD" && <option value="alpaca">Alpaca</option>}
        </select>
      </label>
      {club.currency !== "INR" && club.currency !== "USD" && <Notice tone="warn">No broker is available for {club.currency} clubs yet: Kite Connect trades INR (NSE), Alpaca USD.</Notice>}
      <label class="field">
        <span class="field-label">Where</span>
        <select data-testid="broker-environment" value={environment} onChange={(e) => setEnvironment((e.target as HTMLSelectElement).value as "sandbox" | "paper" | "live")}>
          {environments.map(([value, text]) => <option key={value} value={value}>{text}</option>)}
        </select>
      </label>
      <Field label={provider === "kite" ? "API key" : "API key id"} testId="broker-key" value={key} autoComplete="off" onInput={(e) => setKey((e.target as HTMLInputElement).value)} required />
      <Field label={provider === "kite" ? "API secret" : "Secret key"} type="password" testId="broker-secret" value={secret} autoComplete="new-password" onInput={(e) => setSecret((e.target as HTMLInputElement).value)} required
        hint={provider === "kite" ? "After saving you log in to Kite; the session lasts until the next morning." : "Checked with Alpaca before it is saved."} />
      <p class="actions-row">
        <Button type="submit" busy={save.busy} testId="broker-save">{provider === "kite" ? "Save and log in to Kite" : "Link Alpaca"}</Button>
        {onCancel && <Button kind="ghost" onClick={onCancel}>Cancel</Button>}
      </p>
      <ErrorNote error={save.error} testId="broker-form-error" />
    </form>
  );
}
