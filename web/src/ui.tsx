/** Small shared pieces of the screens: errors, fields, buttons, panels, countdowns, times. */
import type { ButtonHTMLAttributes, ComponentChildren, InputHTMLAttributes } from "preact";
import { useEffect, useState } from "preact/hooks";
import { ApiError } from "./api.ts";
import { fieldName, passwordReasons } from "./errors.ts";

/** An error as people read it: one sentence (errors.ts words every code), the password rules
 * it broke, and — for a form — the other fields to check. The code stays in `data-code`. */
export function ErrorNote({ error, testId = "error" }: { error: unknown; testId?: string }) {
  // "You are offline" is stale once the network is back: it clears itself.
  const [cleared, setCleared] = useState<unknown>(null);
  const offline = error instanceof ApiError && (error.code === "network_error" || error.code === "not_connected");
  useEffect(() => {
    if (!offline) return undefined;
    const back = () => setCleared(error);
    window.addEventListener("online", back);
    const timer = navigator.onLine ? window.setTimeout(back, 15_000) : undefined;
    return () => {
      window.removeEventListener("online", back);
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [error, offline]);
  if (error === null || error === undefined || (offline && cleared === error)) return null;
  const apiError = error instanceof ApiError ? error : null;
  const message = error instanceof Error ? error.message : String(error);
  const reasons = apiError?.code === "weak_password" ? passwordReasons(apiError.details) : [];
  const fieldErrors = apiError?.code === "validation_error" && Array.isArray(apiError.details.errors) ? apiError.details.errors.slice(1, 5) : [];
  return (
    <div class="alert alert-error" role="alert" data-testid={testId} data-code={apiError?.code ?? ""}>
      <strong>{message}</strong>
      {reasons.length > 0 && (
        <ul>
          {reasons.map((r) => (
            <li key={r}>{r}</li>
          ))}
        </ul>
      )}
      {fieldErrors.length > 0 && (
        <ul>
          {fieldErrors.map((e, i) => {
            const item = e as { loc?: unknown[]; msg?: string };
            const where = fieldName(item.loc ?? []);
            const text = (item.msg ?? "").replace(/^(Value error|Assertion failed), /, "");
            return <li key={i}>{where ? `${where}: ` : ""}{text}</li>;
          })}
        </ul>
      )}
    </div>
  );
}

export function Notice({ children, tone = "info", testId }: { children: ComponentChildren; tone?: "info" | "ok" | "warn"; testId?: string }) {
  return (
    <div class={`alert alert-${tone}`} role="status" data-testid={testId}>
      {children}
    </div>
  );
}

type InputProps = InputHTMLAttributes<HTMLInputElement> & { label: string; hint?: string; testId: string };

export function Field({ label, hint, testId, ...input }: InputProps) {
  return (
    <label class="field">
      <span class="field-label">{label}</span>
      <input {...input} data-testid={testId} />
      {hint && <span class="field-hint">{hint}</span>}
    </label>
  );
}

export function Button(
  props: ButtonHTMLAttributes<HTMLButtonElement> & { busy?: boolean; kind?: "primary" | "secondary" | "danger" | "ghost"; testId?: string },
) {
  const { busy, kind = "primary", testId, children, disabled, class: cls, ...rest } = props;
  return (
    <button {...rest} class={`btn btn-${kind} ${cls ?? ""}`} disabled={Boolean(disabled) || busy} aria-busy={busy ? "true" : undefined} data-testid={testId}>
      {busy && <span class="spinner" aria-hidden="true" />}
      {children}
    </button>
  );
}

export function Panel({ title, actions, children, testId, class: cls }: { title: ComponentChildren; actions?: ComponentChildren; children: ComponentChildren; testId?: string; class?: string }) {
  return (
    <section class={`panel ${cls ?? ""}`} data-testid={testId}>
      <div class="panel-head">
        <h2>{title}</h2>
        {actions && <div class="panel-actions">{actions}</div>}
      </div>
      <div class="panel-body">{children}</div>
    </section>
  );
}

/** Runs an async action, keeping its busy state and error for the form that started it. */
export function useAction<A extends unknown[]>(action: (...args: A) => Promise<void>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = async (...args: A) => {
    setBusy(true);
    setError(null);
    try {
      await action(...args);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run, setError };
}

/** Time left until `deadline`, ticking every second. */
export function Countdown({ deadline, testId }: { deadline: string; testId?: string }) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(timer);
  }, []);
  const left = Math.max(0, Date.parse(deadline) - now);
  const s = Math.floor(left / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const text = left === 0 ? "closing…" : d > 0 ? `${d}d ${h}h ${m}m` : h > 0 ? `${h}h ${m}m ${sec}s` : `${m}m ${String(sec).padStart(2, "0")}s`;
  return (
    <span class={`countdown ${s < 60 ? "soon" : ""}`} data-testid={testId} data-seconds={s} title={new Date(deadline).toLocaleString()}>
      {text}
    </span>
  );
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function clock(iso: string): string {
  const t = Date.parse(iso);
  return Number.isFinite(t) ? timeFormat.format(t) : "";
}

export function when(iso: string | null | undefined): string {
  if (!iso) return "—";
  const t = Date.parse(iso);
  return Number.isFinite(t) ? dateTimeFormat.format(t) : iso;
}

/** A readable label for a status word: "awaiting_payment" → "Awaiting payment". */
export function label(word: string): string {
  const text = word.replace(/_/g, " ").toLowerCase();
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function Badge({ children, tone = "neutral", testId }: { children: ComponentChildren; tone?: "neutral" | "ok" | "warn" | "bad" | "brand"; testId?: string }) {
  return (
    <span class={`badge badge-${tone}`} data-testid={testId}>
      {children}
    </span>
  );
}

export function Empty({ children, testId }: { children: ComponentChildren; testId?: string }) {
  return (
    <p class="empty" data-testid={testId}>
      {children}
    </p>
  );
}

/** Loads data for a panel; `reload()` fetches again (after a live event, say). */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[] = []) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [version, setVersion] = useState(0);
  useEffect(() => {
    let live = true;
    setLoading(true);
    load().then(
      (value) => {
        if (!live) return;
        setData(value);
        setError(null);
        setLoading(false);
      },
      (caught) => {
        if (!live) return;
        setError(caught);
        setLoading(false);
      },
    );
    return () => {
      live = false;
    };
  }, [...deps, version]);
  return { data, error, loading, reload: () => setVersion((v) => v + 1) };
}
