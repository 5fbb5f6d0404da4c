/**
 * A club room kept in step with the server: the state snapshot, then the room's sequenced
 * events applied in `seq` order exactly once.
 *
 * Protocol (app/rooms): `room:join` first (so nothing is lost in between), then on a first join
 * `GET /clubs/{id}/room` for the snapshot at its `seq`; live events with a greater `seq` apply
 * on top. After a reconnect, `room:join` with `after_seq` = the last applied seq replays what
 * was missed (`truncated`: too much — fetch the snapshot again). A gap in live seqs asks
 * `room:sync`, and so does a `room:head` above the last applied seq (sent when the server's
 * link to Redis came back after events were lost). Events already applied (seq ≤ last) are
 * dropped, so redeliveries are harmless.
 */
import { ApiError } from "./api.ts";
import { live } from "./live.ts";
import { api } from "./session.ts";
import { type CatchUp, type LogEvent, RoomLog } from "./roomlog.ts";
import { Store } from "./store.ts";
import type { AlertTriggered, ChatMessage, ContributionReceived, Order, PortfolioNav, Proposal, ProposalComment, RoomJoined, RoomState, Tally } from "./types.ts";

export type RoomPhase = "joining" | "live" | "catching-up" | "removed" | "error";

export interface RoomView {
  phase: RoomPhase;
  error: string | null;
  seq: number | null;
  messages: ChatMessage[];
  /** Older history exists before the first message shown. */
  olderBefore: number | null;
  proposals: Proposal[];
  online: string[];
  typing: Record<string, number>;
  arrivals: ContributionReceived[];
  /** Price alerts that fired while the room was open or caught up after a reconnect, newest
   * first (`alert:triggered` is in the room's log, so none is missed or shown twice). */
  alertFirings: AlertTriggered[];
  /** The latest state of orders changed since the room opened (`order:updated`), by id. */
  orders: Record<string, Order>;
  /** The latest `portfolio:nav` (state, not history). */
  nav: PortfolioNav | null;
  /** How many times the room caught up after a reconnect (shown, and read by tests). */
  catchUps: number;
  /** Each proposal's discussion as far as this screen knows it (by proposal id, in seq order):
   * loaded when a thread is opened, then kept by `proposal:comment` events — which are in the
   * room's log, so a reconnect catches up on them like on everything else. */
  comments: Record<string, ProposalComment[]>;
}

const TYPING_MS = 4_000;

export class ClubRoom {
  readonly view: Store<RoomView>;
  private readonly clubId: string;
  readonly me: string;
  private readonly seenArrivals = new Set<string>();
  private readonly cleanups: (() => void)[] = [];
  /** The room's log: ordering, deduplication and catch-up (shared with every live screen). */
  private readonly log: RoomLog;
  /** Called when money landed (portfolio and capital figures change). */
  onMoney: (event: ContributionReceived) => void = () => undefined;
  /** Called when a contribution was decided without money moving (approved, rejected, a
   * checkout given up): contribution lists load again. Also for events caught up after a cut. */
  onContribution: () => void = () => undefined;
  /** Called when the club was valued (units issued and redeemed: every figure changes). */
  onValued: () => void = () => undefined;
  /** Proposals whose discussion this screen has open (kept when a card moves to "Decided"). */
  readonly openThreads = new Set<string>();
  /** Called when the club's rules changed (an owner, or the members' vote): reload the club. */
  onRulesChanged: () => void = () => undefined;
  /** Called when a member's dues changed (money for them arrived, waived, turned late): the
   * desk's grid and "My dues" load again. Also for events caught up after a cut. */
  onDues: (change: { user_id: string; month: string; change: string }) => void = () => undefined;
  /** Called when a member changed the watch-list (live, or caught up after a cut). */
  onWatchlist: () => void = () => undefined;

  constructor(clubId: string, me: string) {
    this.clubId = clubId;
    this.me = me;
    this.view = new Store<RoomView>({
      phase: "joining", error: null, seq: null, messages: [], olderBefore: null, proposals: [], online: [],
      typing: {}, arrivals: [], alertFirings: [], orders: {}, nav: null, catchUps: 0, comments: {},
    });
    this.log = new RoomLog({
      room: `club:${clubId}`,
      join: (after) => this.join(after),
      sync: (after) => this.sync(after),
      apply: (event) => this.apply(event),
      moved: (seq) => this.patch({ seq }),
      joined: (again) => this.patch({
        phase: "live", error: null, catchUps: again ? this.view.get().catchUps + 1 : this.view.get().catchUps,
      }),
      failed: (error) => {
        const removed = error instanceof ApiError && error.code === "club_not_found";
        this.patch({ phase: removed ? "removed" : "error", error: error instanceof Error ? error.message : String(error) });
      },
    });
  }

  start(): void {
    // Every event of this room's log (id `club:<id>:<seq>`), known to this screen or not, so the
    // seq never shows a false gap when the server adds a new kind of event; `room:head` and
    // reconnections catch up (roomlog.ts).
    this.log.start();
    this.cleanups.push(
      live.on("presence:update", (data: { club_id: string; online_user_ids: string[] }) => {
        if (data.club_id === this.clubId) this.patch({ online: data.online_user_ids });
      }),
      live.on("chat:typing", (data: { club_id: string; user_id: string }) => {
        if (data.club_id !== this.clubId || data.user_id === this.me) return;
        this.patch({ typing: { ...this.view.get().typing, [data.user_id]: Date.now() + TYPING_MS } });
        window.setTimeout(() => this.expireTyping(), TYPING_MS + 50);
      }),
      live.on("portfolio:nav", (data: PortfolioNav) => {
        if (data.club_id === this.clubId) this.patch({ nav: data });
      }),
      live.on("room:removed", (data: { club_id: string }) => {
        if (data.club_id === this.clubId) this.patch({ phase: "removed", error: "You are no longer a member of this club." });
      }),
    );
  }

  stop(): void {
    this.log.stop();
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    if (live.connected) void live.call("room:leave", { club_id: this.clubId }).catch(() => undefined);
  }

  /** Older messages, before the first one shown. */
  async loadOlder(): Promise<void> {
    const before = this.view.get().olderBefore;
    if (before === null) return;
    const page = await api<{ messages: ChatMessage[]; next_before: number | null }>(
      "GET", `/api/v1/clubs/${this.clubId}/messages?before=${before}&limit=50`,
    );
    const known = new Set(this.view.get().messages.map((m) => m.id));
    const older = page.messages.filter((m) => !known.has(m.id)).reverse();
    this.patch({ messages: [...older, ...this.view.get().messages], olderBefore: page.next_before });
  }

  /** Send a chat message over the socket (HTTP when the socket is down). */
  async send(body: string): Promise<void> {
    const clientId = `c-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    let message: ChatMessage;
    if (live.connected) {
      message = (await live.call<{ message: ChatMessage }>("chat:send", { club_id: this.clubId, body, client_id: clientId })).message;
    } else {
      message = await api<ChatMessage>("POST", `/api/v1/clubs/${this.clubId}/messages`, { body: { body, client_id: clientId } });
    }
    // Shown at once; the room event with the same id and seq changes nothing.
    this.upsertMessage(message);
  }

  typing(): void {
    if (live.connected) void live.call("chat:typing", { club_id: this.clubId }).catch(() => undefined);
  }

  async vote(proposalId: string, choice: "yes" | "no" | "abstain"): Promise<void> {
    if (live.connected) await live.call("vote:cast", { proposal_id: proposalId, choice });
    else await api("POST", `/api/v1/proposals/${proposalId}/votes`, { body: { choice } });
    this.patchProposal(proposalId, (p) => ({ ...p, my_vote: choice }));
  }

  /** Load a proposal's discussion (all pages) and merge it with what arrived live. */
  async loadComments(proposalId: string): Promise<void> {
    let after = 0;
    for (let page = 0; page < 10; page++) {
      const list = await api<{ comments: ProposalComment[]; next_after: number | null }>(
        "GET", `/api/v1/proposals/${proposalId}/comments?after=${after}&limit=200`,
      );
      for (const comment of list.comments) this.upsertComment(comment);
      if (list.next_after === null) break;
      after = list.next_after;
    }
  }

  /** Add to a proposal's discussion; shown at once (its room event changes nothing more). */
  async comment(proposalId: string, body: string): Promise<void> {
    const made = await api<ProposalComment>("POST", `/api/v1/proposals/${proposalId}/comments`, { body: { body } });
    this.upsertComment(made);
  }

  /** A proposal created here shows at once (the room event brings the same one). */
  addProposal(proposal: Proposal): void {
    this.upsertProposal(proposal);
  }

  /** `room:join` (with `after_seq` after a reconnection); a first join or a truncated replay
   * loads the snapshot. */
  private async join(after: number | null): Promise<CatchUp> {
    if (after !== null) this.patch({ phase: "catching-up" });
    const ack = await live.call<RoomJoined>("room:join", {
      club_id: this.clubId,
      ...(after === null ? {} : { after_seq: after }),
    });
    this.patch({ online: ack.online });
    if (after === null || ack.truncated) return { state: await this.loadSnapshot() };
    return { missed: ack.missed };
  }

  /** `GET /clubs/{id}/room`: the snapshot, at its seq (returned). */
  private async loadSnapshot(): Promise<number> {
    const state = await api<RoomState>("GET", `/api/v1/clubs/${this.clubId}/room`);
    const mine = new Map(this.view.get().proposals.map((p) => [p.id, p.my_vote]));
    const lowest = state.messages[0]?.seq ?? null;
    this.patch({
      seq: state.seq,
      messages: state.messages,
      olderBefore: lowest !== null && lowest > 1 ? lowest : null,
      proposals: sortProposals(state.proposals.map((p) => ({ ...p, my_vote: mine.get(p.id) ?? p.my_vote }))),
      online: state.online,
    });
    void this.loadMyVotes(state.proposals.filter((p) => p.status === "open").map((p) => p.id));
    return state.seq;
  }

  private async loadMyVotes(ids: string[]): Promise<void> {
    for (const id of ids) {
      try {
        const view = await api<Proposal>("GET", `/api/v1/proposals/${id}`);
        this.patchProposal(id, (p) => ({ ...p, my_vote: view.my_vote ?? null }));
      } catch {
        // The vote buttons still work; the highlight is missing.
      }
    }
  }

  /** `room:sync`: the events after `after` (the snapshot again when too many were missed). */
  private async sync(after: number): Promise<CatchUp> {
    const ack = await live.call<RoomJoined>("room:sync", { club_id: this.clubId, after_seq: after });
    if (ack.truncated) return { state: await this.loadSnapshot() };
    return { missed: ack.missed };
  }

  /** A valuation sets the club's NAV and unit value (after settlement): the live NAV shown in
   * the Orders header follows it at once — unless a newer `portfolio:nav` already came. */
  private navFromValuation(data: Record<string, unknown>): void {
    const before = this.view.get().nav;
    const ts = String(data.ts ?? new Date().toISOString());
    if (before !== null && before.ts > ts) return;
    this.patch({
      nav: {
        id: String(data.id ?? ""), ts, club_id: this.clubId, currency: before?.currency ?? "",
        cash: before?.cash ?? "", market_value: before?.market_value ?? "", liabilities: before?.liabilities ?? "",
        nav: String(data.nav_after), units: String(data.units_after), unit_value: String(data.unit_value_after), reason: "valuation",
      },
    });
  }

  private apply({ event, data }: LogEvent): void {
    switch (event) {
      case "chat:message":
      case "chat:edited":
      case "chat:deleted":
        this.upsertMessage(data.message as ChatMessage);
        break;
      case "proposal:created":
      case "proposal:closed":
      case "proposal:cancelled":
        this.upsertProposal(data.proposal as Proposal);
        break;
      case "vote:tally":
        this.patchProposal(String(data.proposal_id), (p) => ({ ...p, tally: data.tally as Tally }));
        break;
      case "alert:triggered": {
        const firing = data as unknown as AlertTriggered;
        const firings = this.view.get().alertFirings.filter((f) => f.id !== firing.id);
        this.patch({ alertFirings: [firing, ...firings].slice(0, 30) });
        break;
      }
      case "portfolio:valued":
        this.navFromValuation(data);
        this.onValued();
        break;
      case "proposal:comment":
        this.upsertComment({ ...(data.comment as Omit<ProposalComment, "seq">), seq: data.seq as number });
        break;
      case "dues:changed":
        this.onDues(data as { user_id: string; month: string; change: string });
        break;
      case "club:rules_changed":
        this.onRulesChanged();
        break;
      case "watchlist:changed":
        this.onWatchlist();
        break;
      case "contribution:changed":
        this.onContribution();
        break;
      case "contribution:received": {
        // In the room's log: money that landed while the screen was cut off shows too.
        const arrival = data as unknown as ContributionReceived;
        if (this.seenArrivals.has(arrival.id)) break;
        this.seenArrivals.add(arrival.id);
        this.patch({ arrivals: [arrival, ...this.view.get().arrivals].slice(0, 20) });
        this.onMoney(arrival);
        break;
      }
      case "order:updated": {
        const order = data.order as Order;
        const known = this.view.get().orders[order.id];
        // Updates only move forward; a late copy of an older state changes nothing.
        if (!known || known.updated_at <= order.updated_at) this.patch({ orders: { ...this.view.get().orders, [order.id]: order } });
        break;
      }
    }
  }

  private upsertMessage(message: ChatMessage): void {
    const messages = this.view.get().messages.filter((m) => m.id !== message.id);
    messages.push(message);
    messages.sort((a, b) => a.seq - b.seq);
    const typing = { ...this.view.get().typing };
    delete typing[message.author_id];
    this.patch({ messages, typing });
  }

  private upsertProposal(proposal: Proposal): void {
    const old = this.view.get().proposals.find((p) => p.id === proposal.id);
    const merged = { ...proposal, my_vote: proposal.my_vote ?? old?.my_vote ?? null };
    this.patch({ proposals: sortProposals([...this.view.get().proposals.filter((p) => p.id !== proposal.id), merged]) });
  }

  private upsertComment(comment: ProposalComment): void {
    const thread = (this.view.get().comments[comment.proposal_id] ?? []).filter((c) => c.id !== comment.id);
    thread.push(comment);
    thread.sort((a, b) => a.seq - b.seq);
    this.patch({ comments: { ...this.view.get().comments, [comment.proposal_id]: thread } });
  }

  private patchProposal(id: string, change: (p: Proposal) => Proposal): void {
    this.patch({ proposals: this.view.get().proposals.map((p) => (p.id === id ? change(p) : p)) });
  }

  private expireTyping(): void {
    const now = Date.now();
    const typing = Object.fromEntries(Object.entries(this.view.get().typing).filter(([, until]) => until > now));
    this.patch({ typing });
  }

  private patch(change: Partial<RoomView>): void {
    this.view.set({ ...this.view.get(), ...change });
  }
}

/** Open proposals first (soonest deadline first), then the rest, newest first. */
function sortProposals(proposals: Proposal[]): Proposal[] {
  return [...proposals].sort((a, b) => {
    const ao = a.status === "open" ? 0 : 1;
    const bo = b.status === "open" ? 0 : 1;
    if (ao !== bo) return ao - bo;
    if (ao === 0) return Date.parse(a.deadline) - Date.parse(b.deadline);
    return Date.parse(b.closed_at ?? b.created_at) - Date.parse(a.closed_at ?? a.created_at);
  });
}
