/**
 * A signed-in person's own logs kept in step, for every screen that shows what they hold:
 * - `person:<id>`: their KYC decisions and expiries (`kyc:status`, `kyc:expiry`), their
 *   consultations (`advisory:booking`) and their clubs' broadcasts (`broadcast:message`);
 * - `broadcasts:all`: broadcasts to everyone (`broadcast:message`).
 *
 * The server stores each of these events with its log's gap-free `seq` (app/rooms/sockets.py
 * `feed:join`). Each log is a RoomLog (roomlog.ts): entered with `feed:join` on every
 * (re)connection with the last applied seq, so what happened while the socket was away is
 * replayed; events are applied in seq order, once each; a hole or a `room:head` ahead syncs.
 * Screens subscribe with `onFeed(event, handler)` instead of a bare `live.on`, and with
 * `onFeedReset` for the rare case where more was missed than one answer replays (they then
 * load their state afresh).
 */
import { live } from "./live.ts";
import { type CatchUp, type LogEvent, RoomLog } from "./roomlog.ts";

type Feed = "person" | "broadcasts";
type Handler = (data: Record<string, unknown>) => void;

interface FeedJoined {
  ok: true;
  room: string;
  seq: number;
  missed: LogEvent[];
  truncated: boolean;
}

const handlers = new Map<string, Set<Handler>>();
const resets = new Set<() => void>();
let logs: RoomLog[] = [];

function deliver({ event, data }: LogEvent): void {
  for (const handler of [...(handlers.get(event) ?? [])]) handler(data);
}

function feedLog(feed: Feed, room: string | null): RoomLog {
  return new RoomLog({
    room,
    join: async (after): Promise<CatchUp> => {
      const ack = await live.call<FeedJoined>("feed:join", after === null ? { feed } : { feed, after_seq: after });
      if (after !== null && ack.truncated) for (const reset of [...resets]) reset();
      // First join: the screens load their own state; later ones replay what was missed.
      return after === null || ack.truncated ? { state: ack.seq, room: ack.room } : { missed: ack.missed, room: ack.room };
    },
    apply: deliver,
  });
}

/** Follow the person's logs (call once signed in; `userId` names their room when known). */
export function startFeeds(userId: string | null): void {
  if (logs.length > 0) return;
  logs = [feedLog("person", userId ? `person:${userId}` : null), feedLog("broadcasts", "broadcasts:all")];
  for (const log of logs) log.start();
}

/** Stop following them (signed out). */
export function stopFeeds(): void {
  for (const log of logs.splice(0)) log.stop();
}

/** Call `handler` with each `event` of the person's logs, in seq order, once each (also the
 * ones replayed after a reconnection). Returns the unsubscribe. */
export function onFeed<T = Record<string, unknown>>(event: string, handler: (data: T) => void): () => void {
  const set = handlers.get(event) ?? new Set<Handler>();
  handlers.set(event, set);
  const wrapped: Handler = (data) => handler(data as T);
  set.add(wrapped);
  return () => set.delete(wrapped);
}

/** Call `reset` when more was missed than the server replays: load the state afresh. */
export function onFeedReset(reset: () => void): () => void {
  resets.add(reset);
  return () => resets.delete(reset);
}
