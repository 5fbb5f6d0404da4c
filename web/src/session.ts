/**
 * The signed-in session: tokens, the account, and every authenticated HTTP call.
 *
 * Tokens. The access token (15 minutes) lives only in memory. The refresh token (single use,
 * rotated on every refresh) also lives in memory while the page runs; it is written to this
 * tab's sessionStorage only while the page is hidden or unloading (so a reload, or coming back
 * to a discarded mobile tab, keeps you signed in) and taken out again as soon as the page is
 * visible. So it never reaches other tabs or survives closing the tab, and a tab duplicated
 * while visible starts signed out instead of racing this one with the same single-use token —
 * which the server would treat as theft and end the session. Not localStorage: that outlives
 * the tab and is shared by every tab. Not a cookie: the API takes refresh tokens in the body.
 * Any script on the page could still read memory, which is why the server rotates the token
 * and revokes the whole session on reuse.
 *
 * Another tab. A link opened in a second tab of the same browser stays signed in: the new tab,
 * having nothing parked, asks over a BroadcastChannel (same origin only) whether a tab is
 * signed in; one such tab (a Web Lock per request picks exactly one) calls
 * `POST /auth/refresh/tab`, which rotates its own refresh token and opens a *separate* session
 * for the new tab, and hands that pair over. Each tab keeps its own single-use token family, so
 * tabs never race over one token. With no signed-in tab answering within a second, the new tab
 * starts signed out.
 *
 * Calls. `api()` adds the bearer token; on 401 `token_expired` it refreshes once (a single
 * refresh shared by every caller waiting) and retries. A refresh that fails ends the session.
 *
 * A reload mid-refresh. Each refresh sends a random `client_nonce`; if the page goes away
 * before the answer, it parks the token it was spending with that nonce, and the next page
 * sends both again: the server answers the same new token (within 30 s) instead of treating
 * the second use as theft and ending the session.
 */
import { ApiError, errorOf } from "./api.ts";
import { Store } from "./store.ts";

export interface NotificationPreferences {
  email: boolean;
  sms: boolean;
  push: boolean;
}

export interface Me {
  id: string;
  email: string;
  full_name: string;
  phone: string | null;
  status: string;
  roles: string[];
  member_id: string | null;
  email_verified: boolean;
  has_password: boolean;
  mfa_enabled: boolean;
  kyc_status: string;
  notification_preferences: NotificationPreferences;
  created_at: string;
}

interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: "Bearer";
  expires_in: number;
  refresh_expires_in: number;
}

export type SessionState = "restoring" | "signed-out" | "signed-in";

const STORAGE_KEY = "samooh.session.refresh";
const CHANNEL = "samooh.session";
/** How long a new tab waits for a signed-in tab to hand it a session. */
const ASK_MS = 1_500;
/** A shared Web Lock every signed-in tab holds: a new tab asks only when someone holds it. */
const SIGNED_IN_LOCK = `${CHANNEL}.signed-in`;

interface TabSession {
  session: TokenPair;
  tab: TokenPair;
}

type TabMessage = { kind: "want"; nonce: string } | { kind: "give"; nonce: string; pair: TokenPair };
/** Refresh this long before the access token expires, so calls rarely meet an expired one. */
const EARLY_MS = 60_000;

export interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** Money-moving POSTs carry one; the server replays its stored answer for a repeat. */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

class Session {
  readonly state = new Store<SessionState>("restoring");
  readonly me = new Store<Me | null>(null);
  /** Why the last session ended, when the user did not sign out themselves. */
  readonly endedBecause = new Store<string | null>(null);

  private access: string | null = null;
  private accessExpiresAt = 0;
  private refreshToken: string | null = null;
  private refreshing: Promise<string> | null = null;
  /** The refresh in flight: its token and client nonce, parked together if the page goes
   * away before the answer arrives (the next page asks again with both: the same answer). */
  private spending: { token: string; nonce: string } | null = null;
  /** A nonce taken from a parked refresh that never got its answer: the next refresh uses it. */
  private resumeNonce: string | null = null;
  private timer: number | null = null;

  private channel: BroadcastChannel | null = null;
  private releaseSignedIn: (() => void) | null = null;

  constructor() {
    window.addEventListener("pagehide", () => this.park());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "hidden") this.park();
      else tryRemove(STORAGE_KEY);
    });
    if (typeof BroadcastChannel === "function") {
      this.channel = new BroadcastChannel(CHANNEL);
      this.channel.onmessage = (event: MessageEvent<TabMessage>) => {
        if (event.data?.kind === "want") void this.giveTab(event.data.nonce);
      };
    }
  }

  /** On page load: resume the tab's session if it parked a refresh token, else take one from a
   * signed-in tab of the same browser (see the module comment). */
  async restore(): Promise<void> {
    const parked = unpark(tryGet(STORAGE_KEY));
    tryRemove(STORAGE_KEY);
    try {
      if (parked !== null) {
        this.refreshToken = parked.token;
        this.resumeNonce = parked.nonce;
        await this.refresh();
      } else {
        const pair = await this.askTabs();
        if (pair === null) {
          this.state.set("signed-out");
          return;
        }
        this.setTokens(pair);
      }
      await this.loadMe();
      this.state.set("signed-in");
      this.holdSignedIn();
    } catch (error) {
      // Refused (4xx): the session is over. Anything else — the page being reloaded again
      // cut the call short, or the network — leaves the token to park for the next page:
      // clearing here used to erase what this page had just parked on its way out.
      if (isRefusal(error)) this.clear();
      else this.standBy();
    }
  }

  /** Ask the other tabs for a session of our own; null when none answers in time (at once
   * when no tab of this browser is signed in). */
  private async askTabs(): Promise<TokenPair | null> {
    const channel = this.channel;
    if (channel === null) return null;
    if (navigator.locks) {
      const state = await navigator.locks.query().catch(() => null);
      if (state !== null && !(state.held ?? []).some((lock) => lock.name === SIGNED_IN_LOCK)) return null;
    }
    const nonce = newKey();
    return new Promise((resolve) => {
      const listen = (event: MessageEvent<TabMessage>) => {
        if (event.data?.kind !== "give" || event.data.nonce !== nonce) return;
        channel.removeEventListener("message", listen);
        clearTimeout(timer);
        resolve(event.data.pair);
      };
      const timer = window.setTimeout(() => {
        channel.removeEventListener("message", listen);
        resolve(null);
      }, ASK_MS);
      channel.addEventListener("message", listen);
      channel.postMessage({ kind: "want", nonce } satisfies TabMessage);
    });
  }

  /** While signed in, hold the shared lock other tabs look for. */
  private holdSignedIn(): void {
    if (this.releaseSignedIn !== null || !navigator.locks) return;
    this.releaseSignedIn = () => undefined; // requested; replaced by the real release once held
    void navigator.locks
      .request(SIGNED_IN_LOCK, { mode: "shared" }, () =>
        this.state.get() !== "signed-in" ? undefined : new Promise<void>((resolve) => { this.releaseSignedIn = resolve; }))
      .catch(() => undefined);
  }

  /** Another tab asked for a session: open one for it (a Web Lock named after its request makes
   * one signed-in tab answer); our own refresh token is rotated by the same call. */
  private async giveTab(nonce: string): Promise<void> {
    if (this.state.get() !== "signed-in" || this.refreshToken === null) return;
    const give = async (): Promise<void> => {
      const tab = await this.rotateWith<TokenPair>("/api/v1/auth/refresh/tab", (answer: TabSession) => [answer.session, answer.tab]);
      this.channel?.postMessage({ kind: "give", nonce, pair: tab } satisfies TabMessage);
    };
    try {
      if (navigator.locks) {
        await navigator.locks.request(`${CHANNEL}.give.${nonce}`, { ifAvailable: true }, async (lock) => {
          if (lock !== null) await give();
        });
      } else {
        await give();
      }
    } catch {
      // The asking tab starts signed out; a refusal already ended this session if it had to.
    }
  }

  /** Password login. Throws ApiError; `mfa_required` carries `details.mfa_token`. */
  async login(email: string, password: string, otp?: string): Promise<void> {
    const pair = await post<TokenPair>("/api/v1/auth/login", { email, password, ...(otp ? { otp } : {}) });
    await this.accept(pair);
  }

  /** Second step after `mfa_required`. */
  async completeMfa(mfaToken: string, otp: string): Promise<void> {
    const pair = await post<TokenPair>("/api/v1/auth/mfa", { mfa_token: mfaToken, otp });
    await this.accept(pair);
  }

  async logout(): Promise<void> {
    try {
      if (this.access !== null) await this.api("POST", "/api/v1/auth/logout", { body: { all_sessions: false } });
    } catch {
      // Signing out locally is what matters; the session also ends on its own.
    }
    this.clear();
  }

  /** The session ended elsewhere (suspension, reset, reuse): forget it and say why. */
  end(reason: string): void {
    if (this.state.get() !== "signed-in") return;
    this.endedBecause.set(reason);
    this.clear();
  }

  /** A valid access token, refreshed first when it is about to expire. */
  async accessToken(): Promise<string> {
    if (this.access !== null && Date.now() < this.accessExpiresAt - 5_000) return this.access;
    return this.refresh();
  }

  isAdmin(): boolean {
    return this.me.get()?.roles.includes("admin") ?? false;
  }

  /** An authenticated JSON call; see the module comment for the refresh-and-retry rule. */
  async api<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.fetch(method, path, options);
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  /** An authenticated call answering with its successful Response (an image, say); the same
   * refresh-and-retry rule as `api()`. A FormData body is sent as multipart. */
  async fetch(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    let token = await this.accessToken();
    for (let attempt = 0; ; attempt++) {
      const response = await send(method, path, token, options);
      if (response.ok) return response;
      const error = await errorOf(response);
      if (response.status === 401 && attempt === 0 && error.code === "token_expired") {
        token = await this.refresh(true);
        continue;
      }
      if (response.status === 401 && (error.code === "session_revoked" || error.code === "account_suspended")) {
        this.end(error.message);
      }
      throw error;
    }
  }

  async loadMe(): Promise<Me> {
    const me = await this.api<Me>("GET", "/api/v1/me");
    this.me.set(me);
    return me;
  }

  /** Spend the refresh token for a new pair; one refresh at a time, shared by all callers. */
  refresh(force = false): Promise<string> {
    if (!force && this.access !== null && Date.now() < this.accessExpiresAt - 5_000) return Promise.resolve(this.access);
    if (this.refreshing !== null) return this.refreshing;
    return this.rotateWith<string>("/api/v1/auth/refresh", (pair: TokenPair) => [pair, pair.access_token]);
  }

  /** Spend the refresh token at `path` (after any refresh in flight, never two at once): the
   * answer's own pair replaces ours; `split` picks it and the result out of the answer. */
  private async rotateWith<R>(path: string, split: (answer: never) => [TokenPair, R]): Promise<R> {
    while (this.refreshing !== null) await this.refreshing.catch(() => undefined);
    const spent = this.refreshToken;
    if (spent === null) throw new ApiError("You are not signed in.", 401, "authentication_required");
    // A plain refresh carries a nonce of its own (or the one of a refresh whose answer a
    // reloaded page lost): asked again with the same token and nonce, the server answers the
    // same new token instead of taking it for a stolen one.
    const body: Record<string, string> = { refresh_token: spent };
    if (path === "/api/v1/auth/refresh") {
      const nonce = this.resumeNonce ?? newKey();
      this.spending = { token: spent, nonce };
      body.client_nonce = nonce;
    }
    this.resumeNonce = null;
    let result: R | undefined;
    this.refreshing = (async () => {
      try {
        const [pair, out] = split((await post<unknown>(path, body)) as never);
        this.spending = null; // answered: the new token is the one to park from now on
        this.setTokens(pair);
        result = out;
        return pair.access_token;
      } catch (error) {
        // A network failure keeps the session (retry later, with the same nonce: the server
        // may have rotated already and answers the retry alike); a refusal ends it.
        if (body.client_nonce !== undefined && !isRefusal(error)) this.resumeNonce = body.client_nonce;
        if (isRefusal(error)) {
          this.end((error as ApiError).code === "refresh_token_reused" ? "This session was ended for safety: sign in again." : "Your session has ended: sign in again.");
        }
        throw error;
      } finally {
        this.spending = null;
        this.refreshing = null;
      }
    })();
    await this.refreshing;
    return result as R;
  }

  /** Keep the refresh token in this tab's sessionStorage while the page is hidden (with the
   * nonce of a refresh that never got its answer, so the next page asks exactly again). */
  private park(): void {
    if (this.spending !== null) trySet(STORAGE_KEY, JSON.stringify({ t: this.spending.token, n: this.spending.nonce }));
    else if (this.refreshToken !== null) trySet(STORAGE_KEY, JSON.stringify(this.resumeNonce !== null ? { t: this.refreshToken, n: this.resumeNonce } : { t: this.refreshToken }));
  }

  /** A restore cut short without a refusal: show the page signed out for now, but keep the
   * refresh token (and any parked copy) for the next page, which resumes the session. */
  private standBy(): void {
    this.access = null;
    this.accessExpiresAt = 0;
    this.me.set(null);
    this.state.set("signed-out");
    if (document.visibilityState === "hidden") this.park();
  }

  private async accept(pair: TokenPair): Promise<void> {
    this.setTokens(pair);
    this.endedBecause.set(null);
    await this.loadMe();
    this.state.set("signed-in");
    this.holdSignedIn();
  }

  private setTokens(pair: TokenPair): void {
    this.access = pair.access_token;
    this.refreshToken = pair.refresh_token;
    this.accessExpiresAt = Date.now() + pair.expires_in * 1000;
    // Rotated while hidden (timer, another tab's request): the parked token is spent now.
    if (document.visibilityState === "hidden") this.park();
    if (this.timer !== null) clearTimeout(this.timer);
    const early = Math.max(pair.expires_in * 1000 - EARLY_MS, pair.expires_in * 500);
    this.timer = window.setTimeout(() => void this.refresh(true).catch(() => undefined), early);
  }

  private clear(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.access = null;
    this.refreshToken = null;
    this.accessExpiresAt = 0;
    tryRemove(STORAGE_KEY);
    this.me.set(null);
    this.state.set("signed-out");
    this.releaseSignedIn?.();
    this.releaseSignedIn = null;
  }
}

async function send(method: string, path: string, token: string | null, options: RequestOptions): Promise<Response> {
  const headers: Record<string, string> = { Accept: "application/json", ...(options.headers ?? {}) };
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  if (options.idempotencyKey) headers["Idempotency-Key"] = options.idempotencyKey;
  let body: string | FormData | undefined;
  if (options.body instanceof FormData) {
    body = options.body; // the browser sets the multipart boundary
  } else if (options.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.body);
  }
  try {
    return await fetch(path, { method, headers, body, signal: options.signal, cache: "no-store" });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError(navigator.onLine ? "Could not reach the server; check your connection and try again." : "You are offline.", 0, "network_error");
  }
}

/** An unauthenticated JSON POST (sign-up, login, codes). Throws ApiError. */
export async function post<T>(path: string, body: unknown): Promise<T> {
  const response = await send("POST", path, null, { body });
  if (!response.ok) throw await errorOf(response);
  return (await response.json()) as T;
}

function tryGet(key: string): string | null {
  try {
    return sessionStorage.getItem(key);
  } catch {
    return null;
  }
}

function trySet(key: string, value: string): void {
  try {
    sessionStorage.setItem(key, value);
  } catch {
    // Storage disabled: a reload signs out.
  }
}

function tryRemove(key: string): void {
  try {
    sessionStorage.removeItem(key);
  } catch {
    // Nothing stored.
  }
}

export const session = new Session();

/** `api()` of the current session. */
export function api<T>(method: string, path: string, options?: RequestOptions): Promise<T> {
  return session.api<T>(method, path, options);
}

/** A file stored by `POST /api/v1/files` (the type is detected from the content). */
export interface StoredFile {
  id: string;
  purpose: "receipt" | "agreement" | "kyc_document" | "campaign";
  filename: string;
  content_type: string;
  size: number;
  created_at: string;
}

/** Upload a receipt or a KYC scan (multipart field `file`); the record to refer to it by id. */
export function uploadFile(file: File, purpose: StoredFile["purpose"], clubId?: string): Promise<StoredFile> {
  const form = new FormData();
  form.append("purpose", purpose);
  if (clubId) form.append("club_id", clubId);
  form.append("file", file, file.name);
  return session.api<StoredFile>("POST", "/api/v1/files", { body: form });
}

/** The server refused (a 4xx other than 429): the session cannot go on. */
function isRefusal(error: unknown): boolean {
  return error instanceof ApiError && error.status >= 400 && error.status < 500 && error.status !== 429;
}

/** A parked refresh token, with the nonce of its refresh when one was in flight (a bare
 * token is what older pages parked). */
function unpark(raw: string | null): { token: string; nonce: string | null } | null {
  if (raw === null || raw === "") return null;
  if (!raw.startsWith("{")) return { token: raw, nonce: null };
  try {
    const parsed = JSON.parse(raw) as { t?: unknown; n?: unknown };
    if (typeof parsed.t !== "string") return null;
    return { token: parsed.t, nonce: typeof parsed.n === "string" ? parsed.n : null };
  } catch {
    return null;
  }
}

/** A fresh Idempotency-Key. */
export function newKey(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
