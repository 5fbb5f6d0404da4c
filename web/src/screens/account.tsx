/** The signed-in person's own pages: Security (two-step verification with an authenticator app,
 * recovery codes) and My KYC (status, what is missing, documents, submitting a scan). */
import { useEffect, useState } from "preact/hooks";
import { ApiError } from "../api.ts";
import { onFeed, onFeedReset } from "../feed.ts";
import { money } from "../money.ts";
import { api, session, uploadFile } from "../session.ts";
import { useStore } from "../store.ts";
import type { KycDocument, KycDocumentKind, KycOverview } from "../types.ts";
import { Badge, Button, Empty, ErrorNote, Field, Notice, Panel, label, useAction, useLoad, when } from "../ui.tsx";

export default function AccountScreen({ section }: { section: string }) {
  const me = useStore(session.me);
  const tabs: [string, string][] = [["security", "Security"], ["kyc", "My KYC"]];
  return (
    <main class="page narrow account-page" data-testid={`account-${section}`}>
      <div class="page-head">
        <div>
          <h1>{section === "kyc" ? "My KYC" : "Security"}</h1>
          <p class="muted small">{me?.full_name} · {me?.email}{me?.member_id ? ` · ${me.member_id}` : ""}</p>
        </div>
      </div>
      <nav class="tabs" aria-label="Account">
        {tabs.map(([key, text]) => (
          <a key={key} class={section === key ? "tab active" : "tab"} aria-current={section === key ? "page" : undefined} href={`/account/${key}`} data-testid={`account-tab-${key}`}>{text}</a>
        ))}
      </nav>
      {section === "kyc" ? <Kyc /> : section === "security" ? <Security /> : <Empty>No such page.</Empty>}
    </main>
  );
}

// ---- Security ------------------------------------------------------------------------------

interface Enrolment {
  secret: string;
  otpauth_uri: string;
  qr_png_url: string;
}

function Security() {
  const me = useStore(session.me);
  const [enrolment, setEnrolment] = useState<Enrolment | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  const start = useAction(async () => {
    setEnrolment(await api<Enrolment>("POST", "/api/v1/me/mfa/totp/enrol"));
  });
  if (!me) return null;
  return (
    <div class="stack">
      {codes && <RecoveryCodes codes={codes} onDone={() => setCodes(null)} />}
      <Panel
        title={<>Two-step verification <Badge tone={me.mfa_enabled ? "ok" : "warn"} testId="mfa-state">{me.mfa_enabled ? "On" : "Off"}</Badge></>}
        testId="mfa-panel"
      >
        {me.mfa_enabled ? (
          <MfaOn onCodes={setCodes} />
        ) : enrolment ? (
          <Enrol enrolment={enrolment} onEnabled={(c) => { setEnrolment(null); setCodes(c); void session.loadMe(); }} onCancel={() => setEnrolment(null)} />
        ) : (
          <>
            <p>
              Signing in then asks for a 6-digit code from an authenticator app on your phone (Google Authenticator, Authy, 1Password…) after your
              password, and so do withdrawals and other high-value actions.
            </p>
            <ErrorNote error={start.error} />
            <Button busy={start.busy} testId="mfa-start" onClick={() => void start.run()}>Set up an authenticator app</Button>
          </>
        )}
      </Panel>
    </div>
  );
}

/** The QR code, fetched with the bearer token (it is no public image) and shown as a blob URL. */
function QrCode({ path }: { path: string }) {
  const [url, setUrl] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let made: string | null = null;
    let alive = true;
    session.fetch("GET", path, { headers: { Accept: "image/png" } }).then(
      async (response) => {
        const blob = await response.blob();
        if (!alive) return;
        made = URL.createObjectURL(blob);
        setUrl(made);
      },
      (caught) => alive && setError(caught),
    );
    return () => {
      alive = false;
      if (made) URL.revokeObjectURL(made);
    };
  }, [path]);
  if (error) return <ErrorNote error={error} testId="mfa-qr-error" />;
  return url ? <img class="qr" src={url} alt="QR code to scan with your authenticator app" width={200} height={200} data-testid="mfa-qr" /> : <div class="qr qr-loading" aria-hidden="true" />;
}

function Enrol({ enrolment, onEnabled, onCancel }: { enrolment: Enrolment; onEnabled: (codes: string[]) => void; onCancel: () => void }) {
  const [code, setCode] = useState("");
  const confirm = useAction(async () => {
    const reply = await api<{ recovery_codes: string[] }>("POST", "/api/v1/me/mfa/totp/confirm", { body: { code: code.trim() } });
    onEnabled(reply.recovery_codes);
  });
  const path = enrolment.qr_png_url.replace(/^https?:\/\/[^/]+/, "") || "/api/v1/me/mfa/totp/qr.png";
  return (
    <div class="enrol" data-testid="mfa-enrol">
      <ol class="steps">
        <li>
          <strong>Scan this code</strong> with your authenticator app.
          <div class="enrol-qr">
            <QrCode path={path} />
            <div class="small">
              <p class="muted">Cannot scan? Enter this key by hand (time-based, 6 digits):</p>
              <code class="secret" data-testid="mfa-secret">{enrolment.secret.replace(/(.{4})/g, "$1 ").trim()}</code>
            </div>
          </div>
        </li>
        <li>
          <strong>Enter the 6-digit code</strong> the app shows now.
          <form class="inline-form" onSubmit={(e) => { e.preventDefault(); void confirm.run(); }}>
            <Field
              label="Code" testId="mfa-confirm-code" inputMode="numeric" autoComplete="one-time-code" pattern="[0-9]{6}" maxLength={6} required
              class="code-input" value={code} onInput={(e) => setCode((e.currentTarget as HTMLInputElement).value)}
            />
            <Button type="submit" busy={confirm.busy} testId="mfa-confirm">Turn on</Button>
            <Button kind="ghost" type="button" onClick={onCancel}>Cancel</Button>
          </form>
        </li>
      </ol>
      <ErrorNote error={confirm.error} testId="mfa-confirm-error" />
    </div>
  );
}

/** Recovery codes, shown once: copy or download them before leaving. */
function RecoveryCodes({ codes, onDone }: { codes: string[]; onDone: () => void }) {
  const [copied, setCopied] = useState(false);
  const text = `Samooh recovery codes for ${session.me.get()?.email ?? "your account"}\nEach works once, instead of an authenticator code.\n\n${codes.join("\n")}\n`;
  const download = () => {
    const url = URL.createObjectURL(new Blob([text], { type: "text/plain" }));
    const a = document.createElement("a");
    a.href = url;
    a.download = "samooh-recovery-codes.txt";
    a.click();
    window.setTimeout(() => URL.revokeObjectURL(url), 1_000);
  };
  return (
    <Panel title="Your recovery codes" testId="recovery-codes" class="recovery">
      <Notice tone="warn">
        <strong>Shown only this once.</strong> Keep them somewhere safe (a password manager, or printed). Each code works once if you lose your phone.
      </Notice>
      <ol class="codes" data-testid="recovery-code-list">
        {codes.map((c) => <li key={c} data-testid="recovery-code"><code>{c}</code></li>)}
      </ol>
      <div class="form-actions">
        <Button kind="secondary" testId="recovery-copy" onClick={() => void navigator.clipboard?.writeText(text).then(() => setCopied(true), () => setCopied(false))}>{copied ? "Copied" : "Copy"}</Button>
        <Button kind="secondary" testId="recovery-download" onClick={download}>Download</Button>
        <Button testId="recovery-done" onClick={onDone}>I have saved them</Button>
      </div>
    </Panel>
  );
}

function MfaOn({ onCodes }: { onCodes: (codes: string[]) => void }) {
  const [what, setWhat] = useState<"regenerate" | "disable" | null>(null);
  const [code, setCode] = useState("");
  const act = useAction(async () => {
    const headers = { "X-Step-Up-Code": code.trim() };
    if (what === "regenerate") {
      const reply = await api<{ recovery_codes: string[] }>("POST", "/api/v1/me/mfa/recovery-codes", { headers });
      onCodes(reply.recovery_codes);
    } else {
      await api("POST", "/api/v1/me/mfa/totp/disable", { headers });
      await session.loadMe();
    }
    setWhat(null);
    setCode("");
  });
  return (
    <>
      <p>Signing in asks for a code from your authenticator app. A recovery code works instead when you do not have your phone.</p>
      {what === null ? (
        <div class="form-actions start">
          <Button kind="secondary" testId="mfa-regenerate" onClick={() => setWhat("regenerate")}>New recovery codes</Button>
          <Button kind="danger" testId="mfa-disable" onClick={() => setWhat("disable")}>Turn off</Button>
        </div>
      ) : (
        <form class="form step-up" data-testid="mfa-step-up" onSubmit={(e) => { e.preventDefault(); void act.run(); }}>
          <p class="small muted">
            {what === "regenerate" ? "Your old recovery codes stop working." : "Signing in will need only your password."} Confirm with a code from your authenticator app.
          </p>
          <div class="inline-form">
            <Field label="Authenticator code" testId="mfa-step-up-code" inputMode="numeric" autoComplete="one-time-code" maxLength={6} required class="code-input" value={code} onInput={(e) => setCode((e.currentTarget as HTMLInputElement).value)} />
            <Button kind={what === "disable" ? "danger" : "primary"} type="submit" busy={act.busy} testId="mfa-step-up-submit">{what === "disable" ? "Turn off" : "Replace codes"}</Button>
            <Button kind="ghost" type="button" onClick={() => { setWhat(null); act.setError(null); }}>Cancel</Button>
          </div>
        </form>
      )}
      <ErrorNote error={act.error} testId="mfa-step-up-error" />
    </>
  );
}

// ---- KYC -----------------------------------------------------------------------------------

const KIND_LABEL: Record<KycDocumentKind, string> = { pan: "PAN card", aadhaar: "Aadhaar", driving_licence: "Driving licence", address_proof: "Address proof" };
const MISSING_LABEL: Record<string, string> = { pan: "Your PAN", proof_of_address: "A proof of address (Aadhaar, driving licence, or a bill, bank statement, passport, voter id or rent agreement)" };
const PROOF_TYPES: [string, string][] = [["utility_bill", "Utility bill"], ["bank_statement", "Bank statement"], ["passport", "Passport"], ["voter_id", "Voter id"], ["rent_agreement", "Rent agreement"]];
const STATUS_TONE: Record<string, "ok" | "warn" | "bad" | "neutral"> = {
  verified: "ok", pending: "warn", rejected: "bad", expired: "bad", superseded: "neutral", incomplete: "warn", not_started: "neutral",
};

function Kyc() {
  const overview = useLoad(() => api<KycOverview>("GET", "/api/v1/kyc"), []);
  const [form, setForm] = useState<KycDocumentKind | null>(null);
  // A decision, an expiry or an expiry alert arrives through the person's own log (feed.ts:
  // `kyc:status`, `kyc:expiry`, in seq order, once each), replayed after a reconnection.
  useEffect(() => {
    const offStatus = onFeed("kyc:status", () => {
      overview.reload();
      void session.loadMe();
    });
    const offExpiry = onFeed("kyc:expiry", () => overview.reload());
    const offReset = onFeedReset(() => overview.reload());
    return () => {
      offStatus();
      offExpiry();
      offReset();
    };
  }, []);
  const k = overview.data;
  if (overview.error) return <ErrorNote error={overview.error} />;
  if (!k) return <p class="muted">Loading…</p>;
  return (
    <div class="stack">
      <Panel title={<>Status <Badge tone={STATUS_TONE[k.status] ?? "neutral"} testId="kyc-status">{label(k.status)}</Badge></>} testId="kyc-overview" actions={
        <Button kind="ghost" class="btn-small" testId="kyc-refresh" onClick={overview.reload}>Refresh</Button>
      }>
        <div data-testid="kyc-status-text" data-status={k.status}>
          {k.status === "verified" ? (
            <p class="ok-text">Your identity is verified: you can contribute without the yearly limit.</p>
          ) : (
            <p>
              Without a verified KYC you can contribute up to <strong data-testid="kyc-limit">{money(k.contribution_limit)}</strong> a year in all your clubs.
              {k.status === "pending" && " A document is being reviewed — usually within a working day."}
            </p>
          )}
        </div>
        {k.missing.length > 0 && (
          <>
            <h3 class="subhead">Still needed</h3>
            <ul class="missing" data-testid="kyc-missing">
              {k.missing.map((m) => <li key={m} data-testid={`kyc-missing-${m}`}>{MISSING_LABEL[m] ?? label(m)}</li>)}
            </ul>
          </>
        )}
      </Panel>
      <Panel title="Documents" testId="kyc-documents" actions={!form && <Button kind="secondary" class="btn-small" testId="kyc-add" onClick={() => setForm(k.missing.includes("pan") ? "pan" : "aadhaar")}>Submit a document</Button>}>
        {form && <SubmitDocument kind={form} onDone={(sent) => { setForm(null); if (sent) overview.reload(); }} />}
        {k.documents.length === 0 && !form && <Empty testId="kyc-none">Nothing submitted yet. Start with your PAN card.</Empty>}
        {k.documents.length > 0 && (
          <ul class="rows kyc-docs">
            {k.documents.map((d) => <DocumentRow key={d.id} doc={d} onResubmit={() => setForm(d.kind)} canResubmit={!form && !k.documents.some((o) => o.kind === d.kind && o.status === "pending")} />)}
          </ul>
        )}
      </Panel>
    </div>
  );
}

function DocumentRow({ doc: d, onResubmit, canResubmit }: { doc: KycDocument; onResubmit: () => void; canResubmit: boolean }) {
  // Aadhaar is only ever shown by its last four digits.
  const number = d.kind === "aadhaar" ? (d.number_last4 ? `XXXX XXXX ${d.number_last4}` : "") : (d.number ?? "");
  return (
    <li data-testid={`kyc-doc-${d.id}`} data-kind={d.kind} data-status={d.status}>
      <span>
        <strong>{KIND_LABEL[d.kind]}</strong> <span class="mono" data-testid={`kyc-doc-number-${d.id}`}>{number}</span>
        {d.proof_type && <span class="muted"> · {label(d.proof_type)}</span>}
        <span class="muted small block">
          submitted {when(d.submitted_at)}
          {d.decided_at && ` · decided ${when(d.decided_at)}`}
          {d.expires_on && ` · expires ${d.expires_on}`}
        </span>
        {d.status === "rejected" && d.reason && <span class="reject-reason small block" data-testid={`kyc-doc-reason-${d.id}`}>Not accepted: {d.reason}</span>}
      </span>
      <span class="row-end">
        {(d.status === "rejected" || d.status === "expired") && canResubmit && (
          <Button kind="ghost" class="btn-small" testId={`kyc-resubmit-${d.id}`} onClick={onResubmit}>Submit again</Button>
        )}
        <Badge tone={STATUS_TONE[d.status] ?? "neutral"} testId={`kyc-doc-status-${d.id}`}>{label(d.status)}</Badge>
      </span>
    </li>
  );
}

function SubmitDocument({ kind: initial, onDone }: { kind: KycDocumentKind; onDone: (sent: boolean) => void }) {
  const [kind, setKind] = useState<KycDocumentKind>(initial);
  const [number, setNumber] = useState("");
  const [proofType, setProofType] = useState("utility_bill");
  const [issuedOn, setIssuedOn] = useState("");
  const [expiresOn, setExpiresOn] = useState("");
  const [scan, setScan] = useState<File | null>(null);
  const needsNumber = kind !== "address_proof";
  const needsExpiry = kind === "driving_licence" || (kind === "address_proof" && (proofType === "passport" || proofType === "rent_agreement"));
  const submit = useAction(async () => {
    if (!scan) throw new ApiError("Attach a scan or photo of the document (PDF, PNG or JPEG).", 422, "validation_error");
    const file = await uploadFile(scan, "kyc_document");
    const body: Record<string, unknown> = { kind, file_id: file.id };
    if (needsNumber) body.number = number.trim();
    if (kind === "address_proof") Object.assign(body, { proof_type: proofType, issued_on: issuedOn || null });
    if (needsExpiry) body.expires_on = expiresOn || null;
    await api<KycDocument>("POST", "/api/v1/kyc/documents", { body });
    onDone(true);
  });
  const value = (e: Event) => (e.currentTarget as HTMLInputElement).value;
  const field = submit.error instanceof ApiError ? submit.error.details.field : undefined;
  return (
    <form class="form kyc-form" data-testid="kyc-form" onSubmit={(e) => { e.preventDefault(); void submit.run(); }}>
      <div class="form-row">
        <label class="field">
          <span class="field-label">Document</span>
          <select data-testid="kyc-kind" value={kind} onChange={(e) => setKind((e.currentTarget as HTMLSelectElement).value as KycDocumentKind)}>
            {(Object.keys(KIND_LABEL) as KycDocumentKind[]).map((k) => <option key={k} value={k}>{KIND_LABEL[k]}</option>)}
          </select>
        </label>
        {kind === "address_proof" && (
          <label class="field">
            <span class="field-label">Which</span>
            <select data-testid="kyc-proof-type" value={proofType} onChange={(e) => setProofType((e.currentTarget as HTMLSelectElement).value)}>
              {PROOF_TYPES.map(([v, t]) => <option key={v} value={v}>{t}</option>)}
            </select>
          </label>
        )}
        {needsNumber && (
          <Field
            label={kind === "pan" ? "PAN" : kind === "aadhaar" ? "Aadhaar number" : "Licence number"} testId="kyc-number" required autoComplete="off"
            placeholder={kind === "pan" ? "ABCPE1234F" : kind === "aadhaar" ? "1234 5678 9012" : "MH0220190001234"}
            hint={kind === "aadhaar" ? "Only its last 4 digits are kept on show." : undefined}
            inputMode={kind === "aadhaar" ? "numeric" : "text"} autoCapitalize="characters" maxLength={40} value={number} onInput={(e) => setNumber(value(e))}
            aria-invalid={field === "number" ? "true" : undefined}
          />
        )}
        {kind === "address_proof" && <Field label="Issued on" testId="kyc-issued-on" type="date" required value={issuedOn} onInput={(e) => setIssuedOn(value(e))} />}
        {needsExpiry && <Field label="Expires on" testId="kyc-expires-on" type="date" required value={expiresOn} onInput={(e) => setExpiresOn(value(e))} />}
      </div>
      <label class="field">
        <span class="field-label">Scan or photo</span>
        <input type="file" accept="application/pdf,image/png,image/jpeg" required data-testid="kyc-file" onChange={(e) => setScan((e.currentTarget as HTMLInputElement).files?.[0] ?? null)} />
        <span class="field-hint">PDF, PNG or JPEG, readable, all four corners in view.</span>
      </label>
      <ErrorNote error={submit.error} testId="kyc-error" />
      <div class="form-actions">
        <Button kind="ghost" type="button" onClick={() => onDone(false)}>Cancel</Button>
        <Button type="submit" busy={submit.busy} testId="kyc-submit">Submit for review</Button>
      </div>
    </form>
  );
}
