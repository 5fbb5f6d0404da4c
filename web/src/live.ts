/**
 * The signed-in account's one Socket.IO connection, shared by every screen.
 *
 * It authenticates with the session's access token on every (re)connection (refreshing it first
 * when needed), reconnects by itself after a drop — also after the server refused an expired
 * token or closed the socket — and runs the `onConnect` hooks each time it is back, so rooms are
 * re-joined from their last seen `seq`, quote subscriptions renewed and notifications caught up.
 */
import { io, type Socket } from "socket.io-client";
import { sentence } from "./errors.ts";
import { ApiError } from "./api.ts";
import { session } from "./session.ts";
import { Store } from "./store.ts";

export type LiveState = "idle" | "connecting" | "connected" | "reconnecting" | "offline";

const ACK_TIMEOUT_MS = 8_000;
// eslint-disable-next-line -- payloads are typed where they are handled
type Handler = (data: any) => void;

interface Ack {
  ok: boolean;
  error?: { code?: string; message?: string; details?: Record<string, unknown> };
}

class LiveConnection {
  readonly state = new Store<LiveState>("idle");
  /** Bumped on every successful (re)connection. */
  readonly connections = new Store<number>(0);
  private socket: Socket | null = null;
  private readonly handlers = new Map<string, Set<Handler>>();
  private readonly connectHooks = new Set<() => void>();
  private readonly anyHandlers = new Set<(event: string, data: unknown) => void>();
  private retryTimer: number | null = null;

  constructor() {
    window.addEventListener("offline", () => {
      if (this.socket && !this.socket.connected) this.state.set("offline");
    });
    window.addEventListener("online", () => {
      if (!this.socket || this.socket.connected) return;
      this.state.set("reconnecting");
      if (!this.socket.active) this.socket.connect();
    });
  }

  start(): void {
    if (this.socket !== null) return;
    const socket = io({
      autoConnect: false,
      reconnectionDelay: 500,
      reconnectionDelayMax: 5_000,
      auth: (send) => {
        session.accessToken().then(
          (token) => send({ token }),
          () => send({}),
        );
      },
    });
    this.socket = socket;
    socket.on("connect", () => {
      this.state.set("connected");
      this.connections.update((n) => n + 1);
      for (const hook of [...this.connectHooks]) hook();
    });
    socket.on("disconnect", (reason) => {
      if (reason === "io client disconnect") return;
      this.state.set(navigator.onLine ? "reconnecting" : "offline");
      // After a server-side disconnect socket.io-client does not retry by itself.
      if (reason === "io server disconnect") this.retry(1_000);
    });
    socket.on("connect_error", (error: Error & { data?: { code?: string; message?: string } }) => {
      this.state.set(navigator.onLine ? "reconnecting" : "offline");
      if (socket.active) return; // the client retries transport failures itself
      // Refused by the server (a token problem): refresh and try again; a dead session stops.
      const code = error.data?.code;
      if (code === "account_suspended" || code === "session_revoked") {
        session.end(error.data?.message ?? "Your session has ended.");
        return;
      }
      if (code === "token_expired") void session.refresh(true).catch(() => undefined);
      this.retry(1_500);
    });
    socket.on("session:revoked", (event: { reason?: string }) => {
      session.end(event.reason === "account_suspended" ? "Your account has been suspended." : "Your session has ended: sign in again.");
    });
    socket.onAny((event: string, data: unknown) => {
      const set = this.handlers.get(event);
      if (set) for (const handler of [...set]) handler(data);
      for (const handler of [...this.anyHandlers]) handler(event, data);
    });
    this.state.set("connecting");
    socket.connect();
  }

  stop(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.socket?.disconnect();
    this.socket?.removeAllListeners();
    this.socket = null;
    this.state.set("idle");
  }

  get connected(): boolean {
    return this.socket?.connected ?? false;
  }

  /** Listen to a server event; returns the function that stops listening. */
  on(event: string, handler: Handler): () => void {
    let set = this.handlers.get(event);
    if (!set) this.handlers.set(event, (set = new Set()));
    set.add(handler);
    return () => set.delete(handler);
  }

  /** Listen to every server event (the room log takes whatever carries its club and a seq). */
  onAny(handler: (event: string, data: unknown) => void): () => void {
    this.anyHandlers.add(handler);
    return () => this.anyHandlers.delete(handler);
  }

  /** Run `hook` on every (re)connection, and now if connected. */
  onConnect(hook: () => void): () => void {
    this.connectHooks.add(hook);
    if (this.connected) hook();
    return () => this.connectHooks.delete(hook);
  }

  /** Emit and wait for the acknowledgement; a refusal `{ok: false, error}` becomes an ApiError. */
  async call<T>(event: string, payload: unknown): Promise<T> {
    const socket = this.socket;
    if (!socket || !socket.connected) throw new ApiError("Not connected; reconnecting…", 0, "not_connected");
    let ack: Ack;
    try {
      ack = (await socket.timeout(ACK_TIMEOUT_MS).emitWithAck(event, payload)) as Ack;
    } catch {
      throw new ApiError("The server did not answer in time; try again.", 0, "ack_timeout");
    }
    if (!ack || ack.ok !== true) {
      const error = ack?.error ?? {};
      throw new ApiError(sentence(error.code, error.message ?? "Refused by the server.", error.details ?? {}), 400, error.code, error.details);
    }
    return ack as T;
  }

  /** Drop the transport now (tests and the "reconnect" button); the client comes back itself. */
  dropTransport(): void {
    (this.socket?.io.engine as { close?: () => void } | undefined)?.close?.();
  }

  private retry(delay: number): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = window.setTimeout(() => {
      this.retryTimer = null;
      if (this.socket && !this.socket.connected && !this.socket.active) this.socket.connect();
    }, delay);
  }
}

export const live = new LiveConnection();
