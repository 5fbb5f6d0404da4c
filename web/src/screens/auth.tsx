/** Sign up, verify the e-mailed code, log in (with the MFA step), reset the password. */
import { useEffect, useState } from "preact/hooks";
import { ApiError } from "../api.ts";
import { navigate, route } from "../router.ts";
import { post, session } from "../session.ts";
import { useStore } from "../store.ts";
import { Button, ErrorNote, Field, Notice, useAction } from "../ui.tsx";

function AuthCard({ title, subtitle, children, testId }: { title: string; subtitle?: string; children: preact.ComponentChildren; testId: string }) {
  return (
    <main class="auth-page">
      <section class="auth-card panel" data-testid={testId}>
        <h1>{title}</h1>
        {subtitle && <p class="muted">{subtitle}</p>}
        {children}
      </section>
    </main>
  );
}

/** The page to go on to after signing up, verifying and signing in (`?next=`), when it is a
 * path of this site; an invite link opened signed out comes back to its join step. */
function nextOf(query: URLSearchParams): string | null {
  const next = query.get("next");
  return next !== null && next.startsWith("/") && !next.startsWith("//") ? next : null;
}

/** `?next=…` to carry on, or nothing. */
function carry(next: string | null, joiner = "&"): string {
  return next === null ? "" : `${joiner}next=${encodeURIComponent(next)}`;
}

/** "Ravi invites you to Banyan Savers" when `next` is an invite's join step (a public read). */
function useInvitedTo(next: string | null): string | null {
  const [text, setText] = useState<string | null>(null);
  const token = next?.match(/^\/join\/([^/?#]+)$/)?.[1] ?? null;
  useEffect(() => {
    setText(null);
    if (token === null) return;
    fetch(`/api/v1/invites/${token}`, { headers: { Accept: "application/json" } }).then(
      async (r) => {
        if (!r.ok) return;
        const p = (await r.json()) as { club_name: string; invited_by: string };
        setText(`${p.invited_by} invites you to ${p.club_name}.`);
      },
      () => undefined,
    );
  }, [token]);
  return text;
}

function value(event: Event): string {
  return (event.currentTarget as HTMLInputElement).value;
}

/** Shows a link to the local mailbox when the server has one (dev and test only). */
function DevMailbox({ email }: { email: string }) {
  const [shown, setShown] = useState(false);
  useEffect(() => {
    fetch(`/api/v1/dev/outbox?to=${encodeURIComponent(email || "nobody@example.com")}`).then(
      (r) => setShown(r.ok),
      () => setShown(false),
    );
  }, [email]);
  if (!shown) return null;
  return (
    <p class="dev-hint">
      Development server: the mail is in the <a href="/dev/mail" target="_blank" rel="noopener" data-external>local mailbox</a>.
    </p>
  );
}

export function SignUp() {
  const next = nextOf(useStore(route).query);
  const invited = useInvitedTo(next);
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const action = useAction(async () => {
    await post("/api/v1/auth/signup", { email, full_name: name, password });
    navigate(`/verify?email=${encodeURIComponent(email.trim())}${carry(next)}`);
  });
  return (
    <AuthCard
      title="Create your account" testId="signup"
      subtitle={invited ? `${invited} Create your account, verify your e-mail and sign in: you come back to the invite to join.` : "Pool money with people you trust — every rupee accounted for."}
    >
      <form class="form" onSubmit={(e) => { e.preventDefault(); void action.run(); }}>
        <Field label="Full name" testId="signup-name" autoComplete="name" required value={name} onInput={(e) => setName(value(e))} />
        <Field label="E-mail" testId="signup-email" type="email" autoComplete="email" required value={email} onInput={(e) => setEmail(value(e))} />
        <Field
          label="Password" testId="signup-password" type="password" autoComplete="new-password" required minLength={10}
          hint="At least 10 characters; common passwords are refused." value={password} onInput={(e) => setPassword(value(e))}
        />
        <ErrorNote error={action.error} />
        <Button type="submit" busy={action.busy} testId="signup-submit">Create account</Button>
      </form>
      <p class="auth-alt">Already a member? <a href={`/login${carry(next, "?")}`} data-testid="signup-login-link">Sign in</a></p>
    </AuthCard>
  );
}

export function VerifyEmail() {
  const query = useStore(route).query;
  const next = nextOf(query);
  const [email, setEmail] = useState(query.get("email") ?? "");
  const [code, setCode] = useState("");
  const [resent, setResent] = useState(false);
  const [memberId, setMemberId] = useState<string | null>(null);
  const verify = useAction(async () => {
    const me = await post<{ member_id: string | null }>("/api/v1/auth/verify-email", { email, code: code.trim() });
    setMemberId(me.member_id ?? "");
  });
  const resend = useAction(async () => {
    setResent(false);
    await post("/api/v1/auth/verify-email/resend", { email });
    setResent(true);
    // A new code: "too many attempts" and the tries left belonged to the old one.
    verify.setError(null);
    setCode("");
  });
  if (memberId !== null) {
    return (
      <AuthCard title="E-mail verified" testId="verified">
        <Notice tone="ok" testId="verified-notice">
          Your account is active. Member id <strong data-testid="member-id">{memberId}</strong>.
        </Notice>
        <Button testId="verified-login" onClick={() => navigate(`/login?email=${encodeURIComponent(email)}${carry(next)}`)}>{next?.startsWith("/join/") ? "Sign in to join the club" : "Sign in"}</Button>
      </AuthCard>
    );
  }
  const attemptsLeft = verify.error instanceof ApiError ? verify.error.details.attempts_left : undefined;
  return (
    <AuthCard title="Check your e-mail" subtitle="We sent a 6-digit code. It is valid for 10 minutes." testId="verify">
      <form class="form" onSubmit={(e) => { e.preventDefault(); void verify.run(); }}>
        <Field label="E-mail" testId="verify-email" type="email" required value={email} onInput={(e) => setEmail(value(e))} />
        <Field
          label="Code" testId="verify-code" inputMode="numeric" autoComplete="one-time-code" pattern="[0-9]{6}" maxLength={6} required
          class="code-input" value={code} onInput={(e) => setCode(value(e))}
        />
        <ErrorNote error={verify.error} />
        {typeof attemptsLeft === "number" && attemptsLeft > 0 && <p class="muted" data-testid="verify-attempts-left">{attemptsLeft} {attemptsLeft === 1 ? "try" : "tries"} left with this code.</p>}
        <Button type="submit" busy={verify.busy} testId="verify-submit">Verify</Button>
      </form>
      <div class="auth-alt">
        <Button kind="ghost" busy={resend.busy} testId="verify-resend" onClick={() => void resend.run()}>Send a new code</Button>
        {resent && <span class="ok-text" data-testid="verify-resent">Sent.</span>}
      </div>
      <ErrorNote error={resend.error} testId="resend-error" />
      <DevMailbox email={email} />
    </AuthCard>
  );
}

export function Login() {
  const query = useStore(route).query;
  const ended = useStore(session.endedBecause);
  const [email, setEmail] = useState(query.get("email") ?? "");
  const [password, setPassword] = useState("");
  const [mfaToken, setMfaToken] = useState<string | null>(null);
  const [otp, setOtp] = useState("");
  const next = nextOf(query);
  const invited = useInvitedTo(next);
  const done = () => navigate(next ?? "/clubs", true);
  const login = useAction(async () => {
    try {
      await session.login(email, password);
      done();
    } catch (error) {
      if (error instanceof ApiError && error.code === "mfa_required" && typeof error.details.mfa_token === "string") {
        setMfaToken(error.details.mfa_token);
        return;
      }
      throw error;
    }
  });
  const mfa = useAction(async () => {
    await session.completeMfa(mfaToken as string, otp.trim());
    done();
  });
  if (mfaToken !== null) {
    return (
      <AuthCard title="Two-step verification" subtitle="Enter the 6-digit code from your authenticator app, or a recovery code." testId="mfa">
        <form class="form" onSubmit={(e) => { e.preventDefault(); void mfa.run(); }}>
          <Field label="Code" testId="mfa-code" autoComplete="one-time-code" required class="code-input" value={otp} onInput={(e) => setOtp(value(e))} />
          <ErrorNote error={mfa.error} />
          <Button type="submit" busy={mfa.busy} testId="mfa-submit">Continue</Button>
        </form>
        <p class="auth-alt"><a href="/login" onClick={() => setMfaToken(null)}>Start again</a></p>
      </AuthCard>
    );
  }
  const unverified = login.error instanceof ApiError && login.error.code === "email_not_verified";
  return (
    <AuthCard title="Sign in" subtitle={invited ? `${invited} Sign in to join the club.` : "Welcome back to your clubs."} testId="login">
      {ended && <Notice tone="warn" testId="session-ended">{ended}</Notice>}
      {query.get("reset") && <Notice tone="ok" testId="reset-done">Your password was changed: sign in with the new one.</Notice>}
      <form class="form" onSubmit={(e) => { e.preventDefault(); void login.run(); }}>
        <Field label="E-mail" testId="login-email" type="email" autoComplete="username" required value={email} onInput={(e) => setEmail(value(e))} />
        <Field label="Password" testId="login-password" type="password" autoComplete="current-password" required value={password} onInput={(e) => setPassword(value(e))} />
        <ErrorNote error={login.error} />
        {unverified && <p><a href={`/verify?email=${encodeURIComponent(email)}${carry(next)}`}>Verify your e-mail</a></p>}
        <Button type="submit" busy={login.busy} testId="login-submit">Sign in</Button>
      </form>
      <p class="auth-alt">
        <a href="/forgot" data-testid="forgot-link">Forgot your password?</a> · <a href={`/signup${carry(next, "?")}`} data-testid="signup-link">Create an account</a>
      </p>
    </AuthCard>
  );
}

export function ForgotPassword() {
  const [email, setEmail] = useState(useStore(route).query.get("email") ?? "");
  const [sent, setSent] = useState(false);
  const [code, setCode] = useState("");
  const [password, setPassword] = useState("");
  const ask = useAction(async () => {
    await post("/api/v1/auth/password/forgot", { email });
    setSent(true);
  });
  const reset = useAction(async () => {
    await post("/api/v1/auth/password/reset", { email, code: code.trim(), new_password: password });
    navigate(`/login?email=${encodeURIComponent(email)}&reset=1`, true);
  });
  return (
    <AuthCard title="Reset your password" subtitle={sent ? "If the address has an account, a 6-digit code is on its way." : "We will e-mail you a code."} testId="forgot">
      {!sent ? (
        <form class="form" onSubmit={(e) => { e.preventDefault(); void ask.run(); }}>
          <Field label="E-mail" testId="forgot-email" type="email" required value={email} onInput={(e) => setEmail(value(e))} />
          <ErrorNote error={ask.error} />
          <Button type="submit" busy={ask.busy} testId="forgot-submit">Send the code</Button>
        </form>
      ) : (
        <form class="form" onSubmit={(e) => { e.preventDefault(); void reset.run(); }}>
          <Field label="Code" testId="reset-code" inputMode="numeric" maxLength={6} required class="code-input" value={code} onInput={(e) => setCode(value(e))} />
          <Field label="New password" testId="reset-password" type="password" autoComplete="new-password" required value={password} onInput={(e) => setPassword(value(e))} />
          <ErrorNote error={reset.error} />
          <Button type="submit" busy={reset.busy} testId="reset-submit">Set the new password</Button>
          <p class="muted small">Every other session of the account is signed out.</p>
        </form>
      )}
      <DevMailbox email={email} />
      <p class="auth-alt"><a href="/login">Back to sign in</a></p>
    </AuthCard>
  );
}
