/** The notifications bell (unread count, list, mark read) and live broadcasts, for the signed-in
 * account: loaded once, then `notification:new` / `notification:read` live; after a reconnect,
 * or a `room:head` of the person's room above the last seq seen, the missed notifications are
 * fetched by `after_seq`. Broadcasts (`broadcast:message`) come through the person's logs
 * (feed.ts): a broadcast sent while the socket was away is replayed when it comes back. */
import { useEffect, useRef, useState } from "preact/hooks";
import { onFeed, startFeeds, stopFeeds } from "./feed.ts";
import { live } from "./live.ts";
import { enablePush, pushSupported } from "./push.ts";
import { navigate } from "./router.ts";
import { api, session } from "./session.ts";
import { Store, useStore } from "./store.ts";
import type { Broadcast, Notification } from "./types.ts";
import { when } from "./ui.tsx";

interface Inbox {
  items: Notification[];
  unread: number;
  broadcasts: Broadcast[];
}

export const inbox = new Store<Inbox>({ items: [], unread: 0, broadcasts: [] });
let lastSeq = 0;
let stopLive: (() => void) | null = null;

function merge(items: Notification[]): void {
  const byId = new Map(inbox.get().items.map((n) => [n.id, n]));
  for (const n of items) {
    byId.set(n.id, n);
    lastSeq = Math.max(lastSeq, n.seq);
  }
  const all = [...byId.values()].sort((a, b) => b.seq - a.seq).slice(0, 50);
  inbox.set({ ...inbox.get(), items: all });
}

function fetchPage(query: string): void {
  void api<{ notifications: Notification[]; unread_count: number }>("GET", `/api/v1/notifications?${query}`).then(
    (page) => {
      merge(page.notifications);
      inbox.set({ ...inbox.get(), unread: page.unread_count });
    },
    () => undefined,
  );
}

export function startInbox(): void {
  if (stopLive) return;
  lastSeq = 0;
  inbox.set({ items: [], unread: 0, broadcasts: [] });
  let first = true;
  const cleanups = [
    live.on("notification:new", (e: { notification: Notification; unread_count: number }) => {
      merge([e.notification]);
      inbox.set({ ...inbox.get(), unread: e.unread_count });
    }),
    live.on("notification:read", (e: { ids: string[]; up_to_seq: number | null; unread_count: number }) => {
      const ids = new Set(e.ids);
      const items = inbox.get().items.map((n) => (ids.has(n.id) || (e.up_to_seq !== null && n.seq <= e.up_to_seq) ? { ...n, read: true } : n));
      inbox.set({ ...inbox.get(), items, unread: e.unread_count });
    }),
    onFeed<{ broadcast: Broadcast }>("broadcast:message", (e) => {
      if (inbox.get().broadcasts.some((b) => b.id === e.broadcast.id)) return;
      inbox.set({ ...inbox.get(), broadcasts: [e.broadcast, ...inbox.get().broadcasts].slice(0, 5) });
    }),
    live.onConnect(() => {
      // First connection: the newest page; later ones: only what was missed.
      const query = first ? "limit=20" : `after_seq=${lastSeq}&limit=100`;
      first = false;
      fetchPage(query);
    }),
    // The web process's link to Redis came back (app/realtime/resume.py): a person's
    // notifications take their seq from their own room `user:<id>`, so a head above the last
    // one seen means some were sent while nothing arrived.
    live.on("room:head", (e: { room?: string; head?: number }) => {
      if (!first && typeof e.room === "string" && e.room.startsWith("user:") && typeof e.head === "number" && e.head > lastSeq) {
        fetchPage(`after_seq=${lastSeq}&limit=100`);
      }
    }),
  ];
  startFeeds(session.me.get()?.id ?? null);
  stopLive = () => {
    cleanups.forEach((c) => c());
    stopFeeds();
  };
}

export function stopInbox(): void {
  stopLive?.();
  stopLive = null;
}

async function markRead(body: { ids?: string[]; all?: boolean }): Promise<void> {
  const result = await api<{ unread_count: number }>("POST", "/api/v1/notifications/read", { body });
  const ids = new Set(body.ids ?? []);
  const items = inbox.get().items.map((n) => (body.all || ids.has(n.id) ? { ...n, read: true } : n));
  inbox.set({ ...inbox.get(), items, unread: result.unread_count });
}

export function Bell() {
  const state = useStore(inbox);
  const [open, setOpen] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const close = (e: MouseEvent) => {
      if (box.current && !box.current.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener("click", close);
    return () => document.removeEventListener("click", close);
  }, [open]);
  return (
    <div class="bell" ref={box}>
      <button class="icon-btn" aria-label={`Notifications, ${state.unread} unread`} aria-expanded={open} data-testid="bell" onClick={() => setOpen(!open)}>
        <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
          <path fill="currentColor" d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1Z" />
        </svg>
        {state.unread > 0 && <span class="bell-count" data-testid="unread-count">{state.unread > 99 ? "99+" : state.unread}</span>}
      </button>
      {open && (
        <div class="bell-menu panel" data-testid="notifications">
          <div class="bell-head">
            <strong>Notifications</strong>
            {state.unread > 0 && <button class="link" data-testid="mark-all-read" onClick={() => void markRead({ all: true })}>Mark all read</button>}
          </div>
          {pushSupported() && <PushToggle />}
          {state.items.length === 0 ? (
            <p class="muted small pad">Nothing yet. Votes, contributions and reminders show up here.</p>
          ) : (
            <ul>
              {state.items.map((n) => (
                <li key={n.id} class={n.read ? "read" : "unread"} data-testid={`notification-${n.id}`}>
                  <button
                    class="bell-item"
                    onClick={() => {
                      if (!n.read) void markRead({ ids: [n.id] });
                      if (n.club_id) navigate(`/clubs/${n.club_id}`);
                      setOpen(false);
                    }}
                  >
                    <strong>{n.title}</strong>
                    <span class="small">{n.body}</span>
                    <span class="muted small">{when(n.created_at)}</span>
                  </button>
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </div>
  );
}

/** "Notify me on this device": subscribes this browser to pushes of the kinds chosen for
 * e-mail (web/src/push.ts); says what happened in words. */
function PushToggle() {
  const [state, setState] = useState<"idle" | "busy" | "on" | string>("idle");
  return (
    <p class="small pad" data-testid="push-toggle">
      {state === "on" ? (
        "Notifications on this device are on."
      ) : (
        <button
          class="link"
          disabled={state === "busy"}
          onClick={() => {
            setState("busy");
            enablePush().then(
              () => setState("on"),
              (error: unknown) => setState(error instanceof Error ? error.message : "Could not turn notifications on."),
            );
          }}
        >
          Notify me on this device
        </button>
      )}
      {state !== "idle" && state !== "busy" && state !== "on" && <span class="muted"> {state}</span>}
    </p>
  );
}

/** The newest live broadcast, until dismissed. */
export function BroadcastBanner() {
  const state = useStore(inbox);
  const [dismissed, setDismissed] = useState<Set<string>>(new Set());
  const shown = state.broadcasts.find((b) => !dismissed.has(b.id));
  if (!shown) return null;
  return (
    <div class={`broadcast broadcast-${shown.severity}`} role="alert" data-testid="broadcast-banner" data-broadcast-id={shown.id}>
      <div>
        <strong>{shown.title}</strong> <span>{shown.body}</span>
      </div>
      <button class="link" onClick={() => setDismissed(new Set([...dismissed, shown.id]))} aria-label="Dismiss">Dismiss</button>
    </div>
  );
}
