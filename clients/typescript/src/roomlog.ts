/**
 * One room's log kept in step: the reconnect-and-catch-up protocol every live screen and client
 * shares (the web client's club room, campaign page, chit auction, CRM board, advice page and
 * personal feeds use this class through web/src/roomlog.ts; `SamoohClient.follow` uses it too).
 *
 * The server stores each room event with a gap-free `seq` and an id `<room>:<seq>`
 * (app/realtime/eventlog.py) and sends it at most once. So a client:
 * - enters the room on every (re)connection, with the last `seq` it applied (`null` on the first
 *   join), and gets either the events it missed or a fresh state at some `seq`;
 * - applies live events in `seq` order exactly once: an event at or below the last applied `seq`
 *   is a duplicate and is dropped, a later one waits in a buffer until the ones before it came;
 * - asks for what is missing (`sync`) when the buffer has a hole, and when the server says the
 *   room's log has gone further than what it applied: `room:head {room, head}`, sent to every
 *   socket after the web process's link to Redis came back (app/realtime/resume.py), because
 *   events emitted during the outage never arrived.
 *
 * The caller says how to join and sync (its own socket events and answers) and how to apply one
 * event; this class does the ordering, deduplication and catch-up. It depends on nothing but a
 * `LiveLink` (the connection's events), so it runs anywhere: browser, React Native, Node.
 */

/** One event of a room's log, as sent live or replayed (`{event, data}`; `data.seq`, `data.id`). */
export interface LogEvent {
  event: string;
  data: Record<string, unknown> & { seq?: number };
}

/**
 * What a join or a sync gave:
 * - `{missed}`: the events after the `seq` asked for, oldest first (applied in order, once);
 * - `{state}`: the caller loaded a fresh state itself (a first join, or more was missed than the
 *   server replays) and that state is at `seq` = `state`: buffered events above it apply on top.
 * `room`: the room's name when only the server knows it (the CRM board's `crm:board:…`).
 */
export type CatchUp = { missed: LogEvent[]; room?: string } | { state: number; room?: string };

/** The connection a log listens to (the web client's `live`, or `SamoohClient`). */
export interface LiveLink {
  /** Whether the socket is connected now. */
  readonly connected: boolean;
  /** Listen to one server event; returns the function that stops listening. */
  on(event: string, handler: (data: unknown) => void): () => unknown;
  /** Listen to every server event; returns the function that stops listening. */
  onAny(handler: (event: string, data: unknown) => void): () => unknown;
  /** Run `hook` on every (re)connection, and at once when connected; returns the stop. */
  onConnect(hook: () => void): () => unknown;
}

export interface RoomLogOptions {
  /** The connection whose events and reconnections drive this log. */
  link: LiveLink;
  /** The room as the server spells it (`club:<id>`, `campaign:<id>`, `scheme:<id>`), or null
   * until a join answer names it. Live events are recognised by their id `<room>:<seq>`. */
  room: string | null;
  /** Enter the room (called on every connection): `after` is the last applied seq, or null when
   * nothing was applied yet (the caller then loads its state and answers `{state}`). */
  join: (after: number | null) => Promise<CatchUp>;
  /** While in the room, the events after `after` (a hole, a `room:head` ahead). Defaults to
   * `join(after)`. */
  sync?: (after: number) => Promise<CatchUp>;
  /** Apply one event; called in `seq` order, once per `seq`. */
  apply: (event: LogEvent) => void;
  /** After a join's catch-up was applied; `again` is false for the first successful join. */
  joined?: (again: boolean) => void;
  /** A join failed (no such room any more, not allowed, not connected). */
  failed?: (error: unknown) => void;
  /** The last applied seq moved (to mirror it in a view). */
  moved?: (seq: number) => void;
}

/** A join or sync acknowledgement in any of the server's spellings: `room:join` / `room:sync`
 * and `feed:join` (`missed`, `truncated`), `campaign:join` (`events`, `truncated`), `chit:join`
 * (`missed`), `crm:join` (`missed`, `complete`). */
export interface JoinAnswer {
  seq: number;
  room?: string;
  missed?: LogEvent[];
  events?: LogEvent[];
  truncated?: boolean;
  complete?: boolean;
}

/**
 * Read a join or sync answer for a log whose last applied seq is `after`:
 * - `reload` is true when the server could not replay everything missed (`truncated`, or
 *   `complete: false`): the caller must load its state afresh (it is then at least at `seq`);
 * - `catchUp` is `{state: seq}` on a first join (`after` null) or a reload, else `{missed}`.
 */
export function readJoinAnswer(answer: JoinAnswer, after: number | null): { catchUp: CatchUp; reload: boolean } {
  const reload = after !== null && (answer.truncated === true || answer.complete === false);
  const room = typeof answer.room === "string" ? { room: answer.room } : {};
  if (after === null || reload) return { catchUp: { state: answer.seq, ...room }, reload };
  return { catchUp: { missed: answer.missed ?? answer.events ?? [], ...room }, reload };
}

/** The runtime's timer, typed without the DOM or Node libraries. */
const timers = globalThis as unknown as { setTimeout(callback: () => void, ms: number): unknown };

export class RoomLog {
  private readonly options: RoomLogOptions;
  private room: string | null;
  private seq: number | null = null;
  private readonly pending = new Map<number, LogEvent>();
  private readonly cleanups: (() => unknown)[] = [];
  private joining = false;
  private joinAgain = false;
  private syncing = false;
  /** The highest `room:head` heard, and whether one came while an answer was on its way (that
   * answer may predate the events it announced). */
  private knownHead = 0;
  private headWaiting = false;
  private joinedOnce = false;
  private running = false;
  /** How many times this log caught up after a reconnection or a `room:head` (read by tests). */
  catchUps = 0;

  constructor(options: RoomLogOptions) {
    this.options = options;
    this.room = options.room;
  }

  /** The last applied seq (null before the first join). */
  get lastSeq(): number | null {
    return this.seq;
  }

  /** The room's name as its events' ids spell it (null until known). */
  get roomName(): string | null {
    return this.room;
  }

  /** Listen to the room's events and `room:head`, and join now (if connected) and on every
   * reconnection. */
  start(): void {
    if (this.running) return;
    this.running = true;
    const link = this.options.link;
    this.cleanups.push(
      link.onAny((event, data) => {
        if (typeof data === "object" && data !== null) this.receive(event, data as LogEvent["data"]);
      }),
      link.on("room:head", (payload) => {
        const data = (typeof payload === "object" && payload !== null ? payload : {}) as { room?: unknown; head?: unknown };
        if (this.room === null || data.room !== this.room || typeof data.head !== "number") return;
        this.knownHead = Math.max(this.knownHead, data.head);
        if (this.seq === null || data.head <= this.seq) return;
        this.behind();
      }),
      link.onConnect(() => void this.join()),
    );
  }

  /** Stop listening (leaving the room on the server is the caller's call). */
  stop(): void {
    this.running = false;
    for (const cleanup of this.cleanups.splice(0)) cleanup();
  }

  /** The answer to the caller's own action says its change was logged at `seq` (a bid's
   * `room_seq`). Socket.IO delivers that event at most once, and nothing may follow it to
   * reveal a lost copy: if it has not been applied within `wait` ms, ask for what is missing,
   * as for a `room:head` ahead. */
  reached(seq: number, wait = 1_500): void {
    this.knownHead = Math.max(this.knownHead, seq);
    timers.setTimeout(() => {
      if (this.running && this.seq !== null && this.seq < seq) this.behind();
    }, wait);
  }

  /** The room's log is known to be ahead of what was applied: ask for the rest now, or once
   * the answer on its way has come (it may predate what is missing). */
  private behind(): void {
    this.catchUps += 1;
    if (this.joining || this.syncing) this.headWaiting = true;
    else void this.sync();
  }

  /** Join again now with the last applied seq (a caller that needs a fresh state). */
  refresh(): Promise<void> {
    return this.join();
  }

  private async join(): Promise<void> {
    if (!this.running) return;
    if (this.joining) {
      this.joinAgain = true; // asked for while an answer is on its way, which may predate it
      return;
    }
    this.joining = true;
    this.joinAgain = false;
    const again = this.joinedOnce;
    try {
      const answer = await this.options.join(this.seq);
      if (!this.running) return;
      if (again && this.seq !== null) this.catchUps += 1;
      this.take(answer);
      this.joinedOnce = true;
      this.options.joined?.(again);
    } catch (error) {
      if (this.running) this.options.failed?.(error);
    } finally {
      this.joining = false;
    }
    this.drain();
    if (this.joinAgain) void this.join();
    else this.afterAnswer();
  }

  private async sync(): Promise<void> {
    const after = this.seq;
    if (this.syncing || this.joining || after === null || !this.options.link.connected || !this.running) return;
    this.syncing = true;
    try {
      const answer = await (this.options.sync ?? this.options.join)(after);
      if (this.running) this.take(answer);
    } catch {
      // The next event, `room:head` or reconnection tries again.
    } finally {
      this.syncing = false;
    }
    this.drain();
    this.afterAnswer();
  }

  /** A `room:head` came while the last answer was on its way: still behind it, ask again. */
  private afterAnswer(): void {
    if (!this.headWaiting || this.joining || this.syncing) return;
    this.headWaiting = false;
    if (this.seq !== null && this.knownHead > this.seq) void this.sync();
  }

  private take(answer: CatchUp): void {
    if (answer.room) this.room = answer.room;
    if ("state" in answer) {
      // The caller's state is at `answer.state`: what it already contains is dropped.
      if (this.seq === null || answer.state >= this.seq) this.seq = answer.state;
      for (const key of [...this.pending.keys()]) if (key <= this.seq) this.pending.delete(key);
      this.options.moved?.(this.seq);
    } else {
      for (const event of answer.missed) this.buffer(event);
    }
  }

  private receive(event: string, data: LogEvent["data"]): void {
    const seq = data.seq;
    if (this.room === null || typeof seq !== "number" || data.id !== `${this.room}:${seq}`) return;
    this.buffer({ event, data });
    this.drain();
  }

  private buffer(event: LogEvent): void {
    const seq = event.data.seq;
    if (typeof seq !== "number") return;
    if (this.seq !== null && seq <= this.seq) return; // applied already
    this.pending.set(seq, event);
  }

  /** Apply buffered events in order; a hole asks the server for what is missing. */
  private drain(): void {
    if (this.seq === null || !this.running) return; // no state yet: keep everything buffered
    for (;;) {
      const next = this.pending.get(this.seq + 1);
      if (!next) break;
      this.pending.delete(this.seq + 1);
      this.seq += 1;
      this.options.apply(next);
      this.options.moved?.(this.seq);
    }
    if (this.pending.size > 0) void this.sync();
  }
}
