/**
 * `SamoohClient`: one account's session, typed REST calls and live connection, with nothing
 * from the DOM — it runs in React Native, Node (20+) and browsers alike.
 *
 * - Session: `logIn` (and `completeMfa`) keep a 15-minute access token and a single-use refresh
 *   token. The server rotates the refresh token on every refresh and ends the whole session if a
 *   spent one is used again, so refreshes are never concurrent (one in flight, shared by every
 *   caller), each carries a `client_nonce` kept with the token until its answer arrives (a retry
 *   after a lost answer gets the same new pair instead of ending the session), and the new pair
 *   is handed to `onTokens` at once so an app can keep it (Keychain / Keystore).
 * - REST: `request(method, path, …)` typed by the OpenAPI document (src/generated/rest.ts); an
 *   expired access token is refreshed and the call retried once; an error answer throws a
 *   `SamoohError` (`code`, `message`, `details`, `status`).
 * - Live: `connect()` opens the Socket.IO connection (authenticated with the access token on
 *   every (re)connection, reconnecting by itself), `on(event, handler)` is typed by the AsyncAPI
 *   document (src/generated/events.ts), `call(event, payload)` emits and waits for the
 *   acknowledgement, and `follow(room, …)` keeps a logged room in step with the
 *   reconnect-and-catch-up protocol (src/roomlog.ts, README.md).
 */
import { io, type Socket } from "socket.io-client";
import { SamoohError } from "./errors.js";
import type { ClientEventName, ClientEvents, SequencedEventName, ServerEventName, ServerEvents } from "./generated/events.js";
import type { components, paths } from "./generated/rest.js";
import { type LiveLink, type LogEvent, RoomLog, readJoinAnswer, type JoinAnswer } from "./roomlog.js";
import type { RoomSpec } from "./rooms.js";

// ---- the runtime's own fetch and timers, typed without the DOM library ----------------------

/** The part of a `fetch` answer the client reads (the runtime's `Response`). */
export interface ResponseLike {
  readonly status: number;
  readonly ok: boolean;
  text(): Promise<string>;
}

/** The part of `fetch` the client uses (the runtime's global `fetch` by default). */
export type FetchLike = (url: string, init: { method: string; headers: Record<string, string>; body?: string }) => Promise<ResponseLike>;

const runtime = globalThis as unknown as {
  fetch?: FetchLike;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  crypto?: { getRandomValues?(bytes: Uint8Array): Uint8Array };
};

// ---- REST types from the OpenAPI document ----------------------------------------------------

export type Method = "get" | "put" | "post" | "delete" | "patch";
/** The paths that have an operation for `M`. */
export type PathsWith<M extends Method> = { [P in keyof paths]: paths[P] extends { [K in M]: object } ? P : never }[keyof paths];
/** The operation `M path`. */
export type Operation<M extends Method, P extends PathsWith<M>> = paths[P] extends { [K in M]: infer O } ? O : never;
type JsonOf<R> = R extends { content: { "application/json": infer B } } ? B : undefined;
/** The JSON body of a successful answer of `M path` (undefined for 204). */
export type ResponseOf<M extends Method, P extends PathsWith<M>> =
  Operation<M, P> extends { responses: infer R } ? JsonOf<R[Extract<keyof R, 200 | 201 | 202 | 204>]> : unknown;
/** The JSON request body of `M path`. */
export type BodyOf<M extends Method, P extends PathsWith<M>> =
  NonNullable<Operation<M, P> extends { requestBody?: infer B } ? B : never> extends { content: { "application/json": infer J } } ? J : never;
/** The query parameters of `M path`. */
export type QueryOf<M extends Method, P extends PathsWith<M>> =
  Operation<M, P> extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;
/** The `{name}` placeholders of a path. */
export type PathParamNames<P extends string> = P extends `${string}{${infer K}}${infer Rest}` ? K | PathParamNames<Rest> : never;

/** What a REST call sends besides the method and path. */
export type RequestOptions<M extends Method, P extends PathsWith<M>> = {
  /** The JSON body. */
  body?: BodyOf<M, P>;
  /** Query parameters (undefined ones are left out). */
  query?: [QueryOf<M, P>] extends [never] ? Record<string, string | number | boolean | undefined> : QueryOf<M, P>;
  /** `Idempotency-Key` (money-moving POSTs: the server replays its stored answer for a repeat). */
  idempotencyKey?: string;
  /** Extra headers (`X-Step-Up-Code` for high-value actions…). */
  headers?: Record<string, string>;
} & ([PathParamNames<P & string>] extends [never] ? { path?: undefined } : { path: Record<PathParamNames<P & string>, string | number> });

/** The signed-in account as `GET /api/v1/me` answers it. */
export type Me = ResponseOf<"get", "/api/v1/me">;
/** The channels a person accepts notifications on (the server always sends all three). */
export type NotificationPreferences = Required<components["schemas"]["NotificationPreferences"]>;
/** Only the channels given change. */
export type NotificationPreferencesPatch = NonNullable<BodyOf<"patch", "/api/v1/me">["notification_preferences"]>;
export type EmailPreferences = ResponseOf<"get", "/api/v1/notifications/preferences">;
export type NotificationKind = components["schemas"]["NotificationKind"];
/** A Web Push subscription as a browser gives it (`PushSubscription.toJSON()`). */
export interface PushSubscriptionIn {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}
/** One of the person's Web Push subscriptions. */
export type PushSubscriptionOut = ResponseOf<"post", "/api/v1/push/subscriptions">;

/** A session as the server issues it: `expires_in` and `refresh_expires_in` in seconds. */
export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: "Bearer";
  expires_in: number;
  refresh_expires_in: number;
}

// ---- live ------------------------------------------------------------------------------------

/** One event of a followed room, typed by its name (an event newer than this package arrives
 * with the same shape: `{event, data}` with `data.id`, `data.ts`, `data.seq`). */
export type RoomEvent = { [E in SequencedEventName]: { event: E; data: ServerEvents[E] } }[SequencedEventName];

export type ConnectionState = "idle" | "connecting" | "connected" | "reconnecting";

export interface FollowOptions {
  /** Each event of the room's log, in `seq` order, once (the replayed ones included). */
  onEvent: (event: RoomEvent) => void;
  /**
   * Load the room's state yourself and answer the `seq` it is at (or nothing: the join answer's
   * `seq`). Called on the first join (`reason` "first") and when the server could not replay
   * everything missed (`reason` "reload": `truncated`, or `complete: false`) — then events
   * before the new state are never delivered: refetch what you show. `seq` is the room's seq
   * in the join answer. A chit or campaign join answer carries the state itself (`answer`).
   */
  load?: (reason: "first" | "reload", seq: number, answer: Record<string, unknown>) => Promise<number | void> | number | void;
  /** After each successful join (`again`: a reconnection's). */
  onJoined?: (again: boolean) => void;
  /** A join was refused (not a member any more, no such room): a `SamoohError`. */
  onFailed?: (error: unknown) => void;
}

/** A followed room (see `SamoohClient.follow`). */
export interface Following {
  /** The room's name as its events' ids spell it (null until the first join answers it). */
  readonly name: string | null;
  /** The last applied `seq` (null before the first join). */
  readonly lastSeq: number | null;
  /** How many times it caught up after a reconnection or a `room:head`. */
  readonly catchUps: number;
  /** Resolves after the first successful join (rejects if it is refused). */
  readonly ready: Promise<void>;
  /** Join again now with the last applied seq. */
  refresh(): Promise<void>;
  /** Stop following (and leave the room on the server when connected). */
  stop(): void;
}

export interface SamoohClientOptions {
  /** The server, e.g. `https://samooh.example` (REST under `/api/v1`, Socket.IO at `/socket.io`). */
  baseUrl: string;
  /** The runtime's `fetch` by default. */
  fetch?: FetchLike;
  /** Called with every new token pair (log-in, each rotation) and with null when the session
   * ended: keep the refresh token there to resume later with `resume`. */
  onTokens?: (tokens: TokenPair | null) => void;
  /** The session ended on the server's word (revoked, suspended, a refresh refused). */
  onSessionEnded?: (error: SamoohError) => void;
  /** Headers sent with every HTTP call (an app's own `User-Agent`, a proxy's header…). */
  headers?: Record<string, string>;
  /** Socket.IO transports; WebSocket only by default (no sticky sessions needed). */
  transports?: ("websocket" | "polling")[];
  /** First reconnection delay (ms, doubling up to `reconnectionDelayMax`). */
  reconnectionDelay?: number;
  reconnectionDelayMax?: number;
  /** How much reconnection delays vary at random (0 to 1; socket.io-client's 0.5 by default). */
  randomizationFactor?: number;
  /** How long `call` waits for an acknowledgement (ms). */
  ackTimeoutMs?: number;
}

/** Refresh this long before the access token expires, so calls rarely meet an expired one. */
const EARLY_MS = 30_000;

type AnyHandler = (event: string, data: unknown) => void;

/** See the module comment. Implements `LiveLink`, the connection a `RoomLog` listens to. */
export class SamoohClient implements LiveLink {
  readonly baseUrl: string;
  private readonly options: SamoohClientOptions;
  private readonly fetcher: FetchLike;
  private access: string | null = null;
  private accessExpiresAt = 0;
  private refreshToken: string | null = null;
  private refreshing: Promise<string> | null = null;
  /** The nonce of a refresh whose answer never came: the retry sends it again with the token. */
  private pendingNonce: string | null = null;
  private socket: Socket | null = null;
  private retryTimer: unknown = null;
  private readonly handlers = new Map<string, Set<(data: unknown) => void>>();
  private readonly anyHandlers = new Set<AnyHandler>();
  private readonly connectHooks = new Set<() => void>();
  private stateNow: ConnectionState = "idle";
  private readonly stateListeners = new Set<(state: ConnectionState) => void>();

  constructor(options: SamoohClientOptions) {
    this.options = options;
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    const fetcher = options.fetch ?? runtime.fetch;
    if (!fetcher) throw new Error("no fetch in this runtime: pass options.fetch");
    this.fetcher = fetcher;
  }

  // ---- session ---------------------------------------------------------------------------

  /** Whether the client holds a session (it may still have to refresh its access token). */
  get signedIn(): boolean {
    return this.refreshToken !== null;
  }

  /** Log in with e-mail and password (and `otp` once MFA is on). Throws `SamoohError`:
   * `invalid_credentials`; `mfa_required` with `details.mfa_token` (then `completeMfa`);
   * `account_suspended`; `rate_limited`. */
  async logIn(email: string, password: string, otp?: string): Promise<TokenPair> {
    const pair = await this.send<TokenPair>("POST", "/api/v1/auth/login", { email, password, ...(otp ? { otp } : {}) }, null);
    this.setTokens(pair);
    return pair;
  }

  /** The second step after `mfa_required`: the `mfa_token` and a TOTP or recovery code. */
  async completeMfa(mfaToken: string, otp: string): Promise<TokenPair> {
    const pair = await this.send<TokenPair>("POST", "/api/v1/auth/mfa", { mfa_token: mfaToken, otp }, null);
    this.setTokens(pair);
    return pair;
  }

  /** Resume a session from a kept refresh token (spent now: a new pair goes to `onTokens`). */
  async resume(refreshToken: string): Promise<TokenPair> {
    this.refreshToken = refreshToken;
    this.access = null;
    await this.refresh();
    return this.tokens as TokenPair;
  }

  /** The current pair as last issued (`expires_in` counts from when it was issued), or null. */
  tokens: TokenPair | null = null;

  /** End this session on the server (every session of the account with `allSessions`) and
   * forget it; the socket is closed. */
  async logOut(allSessions = false): Promise<void> {
    try {
      if (this.refreshToken !== null) await this.request("post", "/api/v1/auth/logout", { body: { all_sessions: allSessions } });
    } finally {
      this.disconnect();
      this.clear();
    }
  }

  /** A valid access token, refreshed first when it is about to expire. Throws `SamoohError`
   * `not_signed_in`, or the refresh's refusal (the session is then over). */
  async accessToken(): Promise<string> {
    if (this.access !== null && Date.now() < this.accessExpiresAt - EARLY_MS) return this.access;
    return this.refresh();
  }

  /** Spend the refresh token for a new pair — one refresh at a time, shared by every caller.
   * A refusal (`refresh_token_invalid`, `refresh_token_reused`, `session_revoked`…) ends the
   * session; a network failure keeps it (the retry re-sends the same nonce). */
  refresh(): Promise<string> {
    if (this.refreshing !== null) return this.refreshing;
    const spent = this.refreshToken;
    if (spent === null) return Promise.reject(new SamoohError("not_signed_in", "Not signed in.", 401));
    const nonce = this.pendingNonce ?? newNonce();
    this.pendingNonce = nonce;
    this.refreshing = (async () => {
      try {
        const pair = await this.send<TokenPair>("POST", "/api/v1/auth/refresh", { refresh_token: spent, client_nonce: nonce }, null);
        this.pendingNonce = null;
        this.setTokens(pair);
        return pair.access_token;
      } catch (error) {
        if (error instanceof SamoohError && error.isRefusal) {
          this.pendingNonce = null;
          this.endSession(error);
        }
        throw error;
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  private setTokens(pair: TokenPair): void {
    this.tokens = pair;
    this.access = pair.access_token;
    this.refreshToken = pair.refresh_token;
    this.accessExpiresAt = Date.now() + pair.expires_in * 1000;
    this.options.onTokens?.(pair);
  }

  private clear(): void {
    const had = this.refreshToken !== null;
    this.tokens = null;
    this.access = null;
    this.refreshToken = null;
    this.accessExpiresAt = 0;
    if (had) this.options.onTokens?.(null);
  }

  private endSession(error: SamoohError): void {
    if (this.refreshToken === null) return;
    this.clear();
    this.disconnect();
    this.options.onSessionEnded?.(error);
  }

  // ---- REST ------------------------------------------------------------------------------

  /**
   * `method path` with the access token, typed by the OpenAPI document:
   * `request("get", "/api/v1/clubs/{club_id}", { path: { club_id } })`. On 401 `token_expired`
   * the token is refreshed and the call retried once. Returns the JSON answer (undefined for
   * 204). Throws `SamoohError` with the answer's `code`, `message`, `details` and `status`.
   */
  async request<M extends Method, P extends PathsWith<M>>(method: M, path: P, ...rest: RequestArgs<M, P>): Promise<ResponseOf<M, P>> {
    const options = (rest[0] ?? {}) as { body?: unknown; query?: Record<string, unknown>; path?: Record<string, string | number>; idempotencyKey?: string; headers?: Record<string, string> };
    const url = fillPath(path, options.path) + queryString(options.query);
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (options.idempotencyKey) headers["Idempotency-Key"] = options.idempotencyKey;
    return (await this.authorised(method.toUpperCase(), url, options.body, headers)) as ResponseOf<M, P>;
  }

  /** Any call by its plain path (`/api/v1/…`), untyped; the same rules as `request`. */
  api<T = unknown>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    return this.authorised(method.toUpperCase(), path, body, headers) as Promise<T>;
  }

  private async authorised(method: string, path: string, body: unknown, headers: Record<string, string>): Promise<unknown> {
    let token = await this.accessToken();
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.send(method, path, body, token, headers);
      } catch (error) {
        if (!(error instanceof SamoohError) || error.status !== 401) throw error;
        if (attempt === 0 && error.code === "token_expired") {
          this.access = null;
          token = await this.refresh();
          continue;
        }
        if (error.code === "session_revoked" || error.code === "account_suspended") this.endSession(error);
        throw error;
      }
    }
  }

  private async send<T>(method: string, path: string, body: unknown, token: string | null, extra: Record<string, string> = {}): Promise<T> {
    const headers: Record<string, string> = { Accept: "application/json", ...(this.options.headers ?? {}), ...extra };
    if (token !== null) headers.Authorization = `Bearer ${token}`;
    let payload: string | undefined;
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    }
    let response: ResponseLike;
    try {
      response = await this.fetcher(`${this.baseUrl}${path}`, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
    } catch (error) {
      throw new SamoohError("network_error", `Could not reach the server: ${error instanceof Error ? error.message : String(error)}`);
    }
    const text = await response.text();
    let json: unknown = undefined;
    if (text !== "") {
      try {
        json = JSON.parse(text);
      } catch {
        if (response.ok) throw new SamoohError("unexpected", `not JSON (${response.status}): ${text.slice(0, 200)}`, response.status);
      }
    }
    if (!response.ok) throw SamoohError.of(json ?? text, response.status);
    return json as T;
  }

  // ---- the account's notification preferences (issue #22) --------------------------------

  /** The signed-in account (`GET /api/v1/me`). */
  me(): Promise<Me> {
    return this.request("get", "/api/v1/me");
  }

  /** The channels the person accepts notifications on: `{email, sms, push}`. */
  async notificationPreferences(): Promise<NotificationPreferences> {
    return (await this.me()).notification_preferences as NotificationPreferences;
  }

  /** Change some channels (only those given change; `PATCH /api/v1/me`); the new preferences.
   * Throws `SamoohError` `validation_error` (422) for a non-boolean. */
  async setNotificationPreferences(change: NotificationPreferencesPatch): Promise<NotificationPreferences> {
    const me = await this.request("patch", "/api/v1/me", { body: { notification_preferences: change } });
    return me.notification_preferences as NotificationPreferences;
  }

  /** Which kinds of notification are e-mailed (`GET /api/v1/notifications/preferences`). */
  emailPreferences(): Promise<EmailPreferences> {
    return this.request("get", "/api/v1/notifications/preferences");
  }

  /** Choose the kinds e-mailed (an empty list: none; `PUT …/notifications/preferences`). */
  setEmailKinds(kinds: NotificationKind[]): Promise<EmailPreferences> {
    return this.request("put", "/api/v1/notifications/preferences", { body: { email_kinds: kinds } });
  }

  /** The server's VAPID public key (`applicationServerKey`, base64url) for Web Push. */
  async pushPublicKey(): Promise<string> {
    return (await this.request("get", "/api/v1/push/key")).public_key;
  }

  /** The person's Web Push subscriptions, with the kinds each gets. */
  async pushSubscriptions(): Promise<PushSubscriptionOut[]> {
    return (await this.request("get", "/api/v1/push/subscriptions")).subscriptions;
  }

  /** Subscribe a Web Push endpoint (a browser's `PushSubscription.toJSON()`: `endpoint`,
   * `keys.p256dh`, `keys.auth`) to pushes of `kinds` (omitted: the kinds e-mailed). Throws
   * `SamoohError` `invalid_push_subscription` / `validation_error` (422). */
  subscribePush(subscription: PushSubscriptionIn, kinds?: NotificationKind[]): Promise<PushSubscriptionOut> {
    const { endpoint, keys } = subscription;
    return this.request("post", "/api/v1/push/subscriptions", { body: { endpoint, keys, ...(kinds ? { kinds } : {}) } });
  }

  /** Stop pushes to `endpoint`; the remaining subscriptions. Throws `SamoohError`
   * `push_subscription_not_found` (404). */
  async unsubscribePush(endpoint: string): Promise<PushSubscriptionOut[]> {
    return (await this.request("delete", "/api/v1/push/subscriptions", { body: { endpoint } })).subscriptions;
  }

  // ---- live ------------------------------------------------------------------------------

  /** Whether the socket is connected now. */
  get connected(): boolean {
    return this.socket?.connected ?? false;
  }

  /** The connection's state now. */
  get state(): ConnectionState {
    return this.stateNow;
  }

  /** Call `listener` on every change of the connection's state; returns the stop. */
  onState(listener: (state: ConnectionState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** Open the socket. It authenticates with a fresh access token on every (re)connection,
   * reconnects by itself after a cut or a server-side close, and runs the `onConnect` hooks
   * each time it is back (followed rooms catch up then). Resolves once connected the first
   * time; rejects if the server refuses (`SamoohError` with its `code`). */
  connect(): Promise<void> {
    if (this.socket !== null) {
      return this.socket.connected ? Promise.resolve() : new Promise((resolve) => { this.socket?.once("connect", () => resolve()); });
    }
    const socket = io(this.baseUrl, {
      autoConnect: false,
      transports: this.options.transports ?? ["websocket"],
      reconnectionDelay: this.options.reconnectionDelay ?? 500,
      reconnectionDelayMax: this.options.reconnectionDelayMax ?? 5_000,
      randomizationFactor: this.options.randomizationFactor ?? 0.5,
      auth: (send) => {
        this.accessToken().then((token) => send({ token }), () => send({}));
      },
    });
    this.socket = socket;
    const first = new Promise<void>((resolve, reject) => {
      socket.once("connect", () => resolve());
      socket.once("connect_error", (error: Error & { data?: unknown }) => {
        if (!socket.active) reject(SamoohError.of({ error: error.data ?? { code: "connect_failed", message: error.message } }));
      });
    });
    socket.on("connect", () => {
      this.setState("connected");
      for (const hook of [...this.connectHooks]) hook();
    });
    socket.on("disconnect", (reason) => {
      if (reason === "io client disconnect") return;
      this.setState("reconnecting");
      // After a server-side disconnect socket.io-client does not retry by itself.
      if (reason === "io server disconnect") this.retry(1_000);
    });
    socket.on("connect_error", (error: Error & { data?: { code?: string; message?: string } }) => {
      this.setState("reconnecting");
      if (socket.active) return; // a transport failure: the client retries by itself
      // Refused by the server (a token problem): refresh and try again; a dead session stops.
      const code = error.data?.code;
      if (code === "account_suspended" || code === "session_revoked") {
        this.endSession(new SamoohError(code, error.data?.message ?? "The session has ended.", 401));
        return;
      }
      if (code === "token_expired") {
        this.access = null;
        void this.refresh().catch(() => undefined);
      }
      if (this.refreshToken !== null) this.retry(1_500);
    });
    socket.on("session:revoked", (event: { reason?: string }) => {
      const code = event?.reason === "account_suspended" ? "account_suspended" : "session_revoked";
      this.endSession(new SamoohError(code, "The session has ended: sign in again.", 401));
    });
    socket.onAny((event: string, data: unknown) => {
      const set = this.handlers.get(event);
      if (set) for (const handler of [...set]) handler(data);
      for (const handler of [...this.anyHandlers]) handler(event, data);
    });
    this.setState("connecting");
    socket.connect();
    return first;
  }

  /** Close the socket (followed rooms stay followed: `connect()` again resumes them). */
  disconnect(): void {
    if (this.retryTimer !== null) runtime.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const socket = this.socket;
    this.socket = null;
    socket?.disconnect();
    socket?.removeAllListeners();
    this.setState("idle");
  }

  /** Drop the transport as a network cut would (the client reconnects by itself; tests). */
  dropConnection(): void {
    (this.socket?.io.engine as { close?: () => void } | undefined)?.close?.();
  }

  /** Listen to a server event, typed by the AsyncAPI document; returns the stop. */
  on<E extends ServerEventName>(event: E, handler: (data: ServerEvents[E]) => void): () => void;
  on(event: string, handler: (data: unknown) => void): () => void;
  on(event: string, handler: (data: never) => void): () => void {
    let set = this.handlers.get(event);
    if (!set) this.handlers.set(event, (set = new Set()));
    const listener = handler as (data: unknown) => void;
    set.add(listener);
    return () => void set.delete(listener);
  }

  /** Listen to every server event; returns the stop. */
  onAny(handler: AnyHandler): () => void {
    this.anyHandlers.add(handler);
    return () => void this.anyHandlers.delete(handler);
  }

  /** Run `hook` on every (re)connection, and now if connected; returns the stop. */
  onConnect(hook: () => void): () => void {
    this.connectHooks.add(hook);
    if (this.connected) hook();
    return () => void this.connectHooks.delete(hook);
  }

  /** Emit a client event and wait for its acknowledgement, typed by the AsyncAPI document.
   * Throws `SamoohError`: the server's refusal (`{ok: false, error}`: its `code`…),
   * `not_connected`, `ack_timeout`. */
  async call<E extends ClientEventName>(event: E, payload: ClientEvents[E]["payload"]): Promise<ClientEvents[E]["ack"]>;
  async call(event: string, payload: Record<string, unknown>): Promise<Record<string, unknown>>;
  async call(event: string, payload: unknown): Promise<unknown> {
    const socket = this.socket;
    if (!socket || !socket.connected) throw new SamoohError("not_connected", "Not connected; reconnecting…");
    let ack: { ok?: unknown; error?: unknown };
    try {
      ack = (await socket.timeout(this.options.ackTimeoutMs ?? 10_000).emitWithAck(event, payload)) as typeof ack;
    } catch {
      throw new SamoohError("ack_timeout", "The server did not answer in time; try again.");
    }
    if (typeof ack !== "object" || ack === null || ack.ok !== true) throw SamoohError.of(ack);
    return ack;
  }

  /**
   * Follow a logged room (`Rooms.club(id)`, `Rooms.person()`…): it is entered now when
   * connected and again on every reconnection with the last applied `seq`; each event of its
   * log reaches `onEvent` in `seq` order, once — the ones missed while away included; a hole
   * or a `room:head` ahead asks for the rest; when the server cannot replay everything missed,
   * `load("reload", …)` tells you to load the state afresh. See README.md, "The protocol".
   */
  follow(room: RoomSpec, options: FollowOptions): Following {
    let name = room.name;
    let resolveReady: () => void = () => undefined;
    let rejectReady: (error: unknown) => void = () => undefined;
    const ready = new Promise<void>((resolve, reject) => {
      resolveReady = resolve;
      rejectReady = reject;
    });
    ready.catch(() => undefined); // an unobserved refusal is not an unhandled rejection
    const enter = async (event: string, after: number | null) => {
      const payload = { ...room.params, ...(after !== null ? { after_seq: after } : {}) };
      const answer = (await this.call(event, payload)) as unknown as JoinAnswer & Record<string, unknown>;
      const { catchUp } = readJoinAnswer(answer, after);
      if ("state" in catchUp && options.load) {
        const loaded = await options.load(after === null ? "first" : "reload", answer.seq, answer);
        if (typeof loaded === "number") return { ...catchUp, state: loaded };
      }
      return catchUp;
    };
    const log = new RoomLog({
      link: this,
      room: name,
      join: (after) => enter(room.join, after),
      sync: (after) => enter(room.sync ?? room.join, after),
      apply: (event: LogEvent) => options.onEvent(event as unknown as RoomEvent),
      joined: (again) => {
        name = log.roomName;
        resolveReady();
        options.onJoined?.(again);
      },
      failed: (error) => {
        rejectReady(error);
        options.onFailed?.(error);
      },
    });
    log.start();
    return {
      get name() {
        return log.roomName ?? name;
      },
      get lastSeq() {
        return log.lastSeq;
      },
      get catchUps() {
        return log.catchUps;
      },
      ready,
      refresh: () => log.refresh(),
      stop: () => {
        log.stop();
        if (room.leave && this.connected) void this.call(room.leave, { ...room.params }).catch(() => undefined);
      },
    };
  }

  private retry(delay: number): void {
    if (this.retryTimer !== null) runtime.clearTimeout(this.retryTimer);
    this.retryTimer = runtime.setTimeout(() => {
      this.retryTimer = null;
      const socket = this.socket;
      if (socket && !socket.connected && !socket.active) socket.connect();
    }, delay);
  }

  private setState(state: ConnectionState): void {
    if (state === this.stateNow) return;
    this.stateNow = state;
    for (const listener of [...this.stateListeners]) listener(state);
  }
}

/** `request`'s options argument: required when the path has `{placeholders}`. */
export type RequestArgs<M extends Method, P extends PathsWith<M>> = [PathParamNames<P & string>] extends [never]
  ? [options?: RequestOptions<M, P>]
  : [options: RequestOptions<M, P>];

function fillPath(path: string, params: Record<string, string | number> | undefined): string {
  return path.replace(/\{([^}]+)\}/g, (_, key: string) => {
    const value = params?.[key];
    if (value === undefined) throw new SamoohError("validation_error", `path parameter ${key} is missing`);
    return encodeURIComponent(String(value));
  });
}

function queryString(query: Record<string, unknown> | undefined): string {
  if (!query) return "";
  const parts = Object.entries(query)
    .filter(([, value]) => value !== undefined && value !== null)
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
  return parts.length > 0 ? `?${parts.join("&")}` : "";
}

/** A random client nonce for one refresh (URL-safe, 32 characters). */
function newNonce(): string {
  const bytes = new Uint8Array(24);
  if (runtime.crypto?.getRandomValues) runtime.crypto.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  return Array.from(bytes, (b) => alphabet[b % 64]).join("");
}
