/** The club's broker account on the treasurer's desk: link Kite Connect (API key and secret,
 * then the Kite login) or Alpaca (key id and secret; sandbox, paper or live), see it by the last
 * characters of its keys, test it, log in again when Kite's daily session ends, compare the
 * club's holdings with the broker's positions, and remove it. Without a link, orders go to the
 * paper broker. Secrets are sent once and never shown again. */
import { useState } from "preact/hooks";
import type { Club } from "../types.ts";
import { api } from "../session.ts";
import { Badge, Button, ErrorNote, Field, Notice, useAction, useLoad, when } from "../ui.tsx";

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
  status: "active" | "login_required" | null;
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

const NAMES: Record<string, string> = { kite: "Zerodha Kite", alpaca: "Alpaca" };

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
        <LinkForm club={club} onLinked={(answer) => {
          setEditing(false);
          setShown(answer);
          if (answer.login_url) window.location.assign(answer.login_url);
        }} onCancel={editing ? () => setEditing(false) : undefined} />
      </div>
    );
  }
  const check = data.position_check;
  return (
    <div class="broker" data-testid="broker-account">
      <h3 class="subhead">
        Broker account{" "}
        <Badge tone={data.status === "active" ? "ok" : "warn"} testId="broker-status">{data.status === "active" ? "Linked" : "Log in needed"}</Badge>
      </h3>
      {linkedNow && data.status === "active" && <Notice tone="ok" testId="broker-linked-notice">Logged in to {NAMES[data.provider ?? ""]}: the club's orders go through it.</Notice>}
      {loginError && <Notice tone="warn" testId="broker-login-error">The broker login did not complete ({loginError.replace(/_/g, " ")}). Try again.</Notice>}
      <p data-testid="broker-summary">
        <strong>{NAMES[data.provider ?? ""]}</strong> · {data.environment}
        {data.account_ref && <> · account <span data-testid="broker-account-ref">{data.account_ref}</span></>}
        <br />
        <span class="small muted">key ••••<span data-testid="broker-key-last4">{data.key_last4}</span> · secret ••••<span data-testid="broker-secret-last4">{data.secret_last4}</span>
          {data.session_at && <> · session since {when(data.session_at)}</>}</span>
      </p>
      {data.status === "login_required" && (
        <Notice tone="warn" testId="broker-login-needed">
          {data.provider === "kite" ? "Kite sessions end every morning: log in to Kite again. Orders sent meanwhile wait and go once you have logged in." : "The broker refused the club's keys: link them again."}
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
        {data.provider === "kite" && <Button kind={data.status === "active" ? "secondary" : "primary"} class="btn-small" busy={act.busy} testId="broker-login" onClick={() => void act.run("login")}>Log in to Kite</Button>}
        <Button kind="secondary" class="btn-small" busy={act.busy} testId="broker-test" onClick={() => void act.run("test")}>Test the link</Button>
        <Button kind="secondary" class="btn-small" busy={act.busy} testId="broker-positions-check" onClick={() => void act.run("positions-check")}>Compare positions</Button>
        <Button kind="ghost" class="btn-small" testId="broker-edit" onClick={() => setEditing(true)}>Change keys</Button>
        {!removing && <Button kind="ghost" class="btn-small" testId="broker-remove" onClick={() => setRemoving(true)}>Remove</Button>}
        {removing && <>
          <span class="small">Remove the link? Orders then go to the paper broker.</span>
          <Button kind="danger" class="btn-small" busy={act.busy} testId="broker-remove-confirm" onClick={() => void act.run("remove")}>Yes, remove it</Button>
          <Button kind="ghost" class="btn-small" onClick={() => setRemoving(false)}>Keep it</Button>
        </>}
      </p>
      <ErrorNote error={act.error} testId="broker-error" />
    </div>
  );
}

function LinkForm({ club, onLinked, onCancel }: { club: Club; onLinked: (answer: BrokerLink) => void; onCancel?: () => void }) {
  const [provider, setProvider] = useState<"kite" | "alpaca">(club.currency === "INR" ? "kite" : "alpaca");
  const [environment, setEnvironment] = useState<"sandbox" | "paper" | "live">("sandbox");
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
          <option value="kite">Zerodha Kite Connect</option>
          <option value="alpaca">Alpaca</option>
        </select>
      </label>
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
