/** The club room: chat, members with presence, live quotes, proposals and votes, portfolio,
 * my capital account and money arriving — all live over the account's socket. */
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { ApiError } from "../api.ts";
import { Sparkline } from "../charts.tsx";
import { money } from "../money.ts";
import { live } from "../live.ts";
import { LiveQuotes, type LiveQuote } from "../livequotes.ts";
import { ClubRoom, type RoomView } from "../room.ts";
import { navSection } from "../router.ts";
import { api, session } from "../session.ts";
import { useStore } from "../store.ts";
import type { ChatMessage, Club, Holding, Invite, Member } from "../types.ts";
import { Badge, Button, Empty, ErrorNote, Panel, clock, label, useAction, useLoad } from "../ui.tsx";
import { AlertToasts, AlertsPanel } from "./alerts.tsx";
import { DeskPanel } from "./desk.tsx";
import { ArrivalsFeed, CapitalPanel, PortfolioPanel } from "./money.tsx";
import { OrdersPanel } from "./orders.tsx";
import { AccountOrders } from "./advice.tsx";
import { PersonalAccountRoom } from "./personalroom.tsx";
import { ProposalsPanel } from "./proposals.tsx";
import { ReportsPanel } from "./reports.tsx";

/** The longest chat message the server takes (app/chat/schemas.py MAX_BODY). */
const CHAT_MAX = 4000;

/** How many of its market's symbols the room shows when the club follows, holds and proposes
 * nothing yet. */
const FALLBACK_COUNT = 4;
/** The best-known names of each market come first (the rest in catalogue order). */
const BEST_KNOWN = ["AAPL", "MSFT", "GOOG", "IBM", "INFY", "TCS", "RELIANCE", "HDFCBANK"];
/** The market of clubs whose currency no catalogue instrument is quoted in (EUR, GBP). */
const DEFAULT_MARKET = "USD";

type CatalogueEntry = { symbol: string; currency: string; is_index: boolean };

/** The symbols a club that follows nothing yet watches: its own market's stocks — the
 * catalogue's instruments quoted in the club's currency (an INR club: the NSE ones; a USD club:
 * the US ones), else the US market's; indices left out, best-known first. */
function fallbackSymbols(catalogue: CatalogueEntry[], currency: string): string[] {
  const stocks = catalogue.filter((item) => !item.is_index);
  const own = stocks.filter((item) => item.currency === currency);
  const market = own.length > 0 ? own : stocks.filter((item) => item.currency === DEFAULT_MARKET);
  const rank = (symbol: string) => { const at = BEST_KNOWN.indexOf(symbol); return at < 0 ? BEST_KNOWN.length : at; };
  return market.map((item) => item.symbol).sort((a, b) => rank(a) - rank(b)).slice(0, FALLBACK_COUNT);
}

export default function ClubRoomScreen({ clubId }: { clubId: string }) {
  const me = useStore(session.me);
  const club = useLoad(() => api<Club>("GET", `/api/v1/clubs/${clubId}`), [clubId]);
  const members = useLoad(() => api<{ members: Member[] }>("GET", `/api/v1/clubs/${clubId}/members`), [clubId]);
  const holdings = useLoad(() => api<{ holdings: Holding[] }>("GET", `/api/v1/clubs/${clubId}/holdings`), [clubId]);
  const watchlist = useLoad(() => api<{ symbols: string[] }>("GET", `/api/v1/clubs/${clubId}/watchlist`).catch(() => ({ symbols: [] })), [clubId]);
  const catalogue = useLoad(() => api<{ symbols: CatalogueEntry[] }>("GET", "/api/v1/market/symbols").catch(() => ({ symbols: [] })), []);
  const room = useMemo(() => new ClubRoom(clubId, me?.id ?? ""), [clubId, me?.id]);
  const quotes = useMemo(() => new LiveQuotes(), [clubId]);
  const view = useStore(room.view);
  const quoteMap = useStore(quotes.quotes);
  const [moneyVersion, setMoneyVersion] = useState(0);
  const [alertSymbols, setAlertSymbols] = useState<string[]>([]);
  // A personal account's room is part of Advice, not of the clubs.
  const personal = club.data?.personal === true;
  useEffect(() => {
    if (!personal) return;
    navSection.set("/advice");
    return () => navSection.set(null);
  }, [personal]);

  useEffect(() => {
    room.onMoney = () => setMoneyVersion((v) => v + 1);
    room.onValued = () => setMoneyVersion((v) => v + 1);
    // The rules changed (an owner, or the members' vote): every open screen shows the new ones.
    room.onRulesChanged = () => club.reload();
    // Dues paid, waived or late: the desk's grid and every member's "My dues" load again.
    room.onDues = () => setMoneyVersion((v) => v + 1);
    room.onContribution = () => setMoneyVersion((v) => v + 1);
    // Another member changed the watch-list: follow the new symbols at once.
    room.onWatchlist = () => watchlist.reload();
    room.start();
    quotes.start();
    return () => {
      room.stop();
      quotes.stop();
    };
  }, [room, quotes]);

  // Someone joined or left: the member list changes.
  const onlineKey = view.online.join();
  useEffect(() => {
    if (members.data && view.online.some((id) => !members.data?.members.some((m) => m.user_id === id))) members.reload();
  }, [onlineKey]);

  const clubSymbols = useMemo(() => {
    const followed = watchlist.data?.symbols ?? [];
    const fromHoldings = (holdings.data?.holdings ?? []).map((h) => h.symbol);
    const fromProposals = view.proposals.filter((p) => p.symbol && p.status === "open").map((p) => p.symbol as string);
    return [...new Set([...followed, ...fromHoldings, ...fromProposals, ...alertSymbols])];
  }, [watchlist.data, holdings.data, view.proposals, alertSymbols.join()]);
  const marketSymbols = useMemo(
    () => (club.data && catalogue.data ? fallbackSymbols(catalogue.data.symbols, club.data.currency) : []),
    [club.data?.currency, catalogue.data],
  );
  const symbols = clubSymbols.length > 0 ? clubSymbols : marketSymbols;
  useEffect(() => quotes.setSymbols(symbols), [symbols.join()]);

  // A fill changes holdings and cash: the money panels load again.
  const filledKey = Object.values(view.orders).map((o) => `${o.id}:${o.filled_quantity}`).join();
  useEffect(() => {
    if (filledKey) setMoneyVersion((v) => v + 1);
  }, [filledKey]);

  const memberList = members.data?.members ?? [];
  const nameOf = (id: string) => memberName(id, me?.id, memberList);

  if (club.error) {
    return (
      <main class="page">
        <ErrorNote error={club.error} />
        <a href="/clubs">Back to my clubs</a>
      </main>
    );
  }
  if (!club.data) return <main class="page"><p class="muted">Opening the room…</p></main>;
  const c = club.data;
  const treasury = ["owner", "admin", "treasurer"].includes(c.my_role);
  if (c.personal) {
    // A personal advisory account is a club of one: no chat, votes, members, invites, desk or
    // dues — its portfolio valued live, its return, its advice page and its orders.
    return (
      <main class="page room personal-room" data-testid="club-room" data-personal="true" data-club-id={c.id} data-phase={view.phase} data-seq={view.seq ?? ""}>
        <header class="room-head">
          <div>
            <p class="crumbs"><a href={`/advice/${c.id}`} data-testid="crumb-advice">Advice</a> /</p>
            <h1 data-testid="club-name">{c.name}</h1>
            <p class="muted small">Personal account · {c.currency}</p>
          </div>
          <div class="room-head-actions"><RoomStatus view={view} /></div>
        </header>
        {view.error && view.phase !== "live" && <ErrorNote error={view.error} testId="room-error" />}
        <PersonalAccountRoom club={c} quotes={quoteMap} version={moneyVersion} />
        <AccountOrders accountId={c.id} currency={c.currency} version={moneyVersion} />
      </main>
    );
  }

  return (
    <main class="page room" data-testid="club-room" data-club-id={c.id} data-phase={view.phase} data-seq={view.seq ?? ""} data-catch-ups={view.catchUps}>
      <header class="room-head">
        <div>
          <p class="crumbs"><a href="/clubs">My clubs</a> /</p>
          <h1 data-testid="club-name">{c.name}</h1>
          <p class="muted small">
            <Badge tone="brand">{label(c.my_role)}</Badge> <span data-testid="club-rules">{c.voting_mode === "weighted" ? "Weighted voting" : "One member, one vote"} · passes at {c.approval_threshold_bps / 100}% yes{c.quorum_bps !== null ? ` · quorum ${c.quorum_bps / 100}%` : ""}{c.rules_changed_by === "vote" ? " · rules changed by vote" : ""}</span>
          </p>
        </div>
        <div class="room-head-actions">
          <RoomStatus view={view} />
          {(c.my_role === "owner" || c.my_role === "admin") && <InviteButton clubId={c.id} />}
        </div>
      </header>
      {view.error && view.phase !== "live" && <ErrorNote error={view.error} testId="room-error" />}
      <ArrivalsFeed arrivals={view.arrivals} nameOf={nameOf} />
      {(c.my_role === "owner" || c.my_role === "admin") && <NextSteps club={c} members={memberList.length} proposals={view.proposals.length} version={moneyVersion} />}
      <nav class="room-tabs" aria-label="Sections">
        {treasury && <a href="#desk">Desk</a>}
        <a href="#chat">Chat</a>
        <a href="#proposals">Votes</a>
        <a href="#quotes">Quotes</a>
        <a href="#portfolio">Portfolio</a>
        <a href="#capital">My account</a>
        <a href="#alerts">Alerts</a>
      </nav>
      <div class="room-grid">
        <div class="room-main">
          {treasury && <div id="desk"><DeskPanel club={c} orders={view.orders} version={moneyVersion} nameOf={nameOf} onChanged={() => { setMoneyVersion((v) => v + 1); club.reload(); }} /></div>}
          <div id="proposals"><ProposalsPanel club={c} room={room} proposals={view.proposals} nameOf={nameOf} /></div>
          <div id="portfolio"><PortfolioPanel club={c} quotes={quoteMap} version={moneyVersion} /></div>
          <div id="orders"><OrdersPanel club={c} live={view.orders} nav={view.nav} /></div>
          <div id="capital"><CapitalPanel club={c} version={moneyVersion} nameOf={nameOf} /></div>
        </div>
        <aside class="room-side">
          <div id="chat"><ChatPanel room={room} view={view} me={me?.id ?? ""} nameOf={nameOf} /></div>
          <MembersPanel members={memberList} online={view.online} me={me?.id ?? ""} nameOf={nameOf} />
          <div id="quotes">
            <QuotesPanel
              symbols={symbols} quotes={quoteMap} own={clubSymbols.length > 0} clubId={c.id} example={marketSymbols.slice(0, 2).join(", ")}
              followed={watchlist.data?.symbols ?? []} canEdit={["owner", "admin", "treasurer"].includes(c.my_role)} onSaved={watchlist.reload}
            />
          </div>
          <div id="alerts"><AlertsPanel club={c} symbols={symbols} firings={view.alertFirings} nameOf={nameOf} onSymbols={setAlertSymbols} /></div>
          <ReportsPanel clubId={c.id} />
        </aside>
      </div>
      <AlertToasts firings={view.alertFirings} />
    </main>
  );
}

/** A new club's first steps, ticked off as they happen; gone once all are done. */
function NextSteps({ club, members, proposals, version }: { club: Club; members: number; proposals: number; version: number }) {
  const paid = useLoad(() => api<{ contributions: { status: string }[] }>("GET", `/api/v1/clubs/${club.id}/contributions`), [club.id, version]);
  const anyMoney = (paid.data?.contributions ?? []).some((x) => x.status === "received" || x.status === "settled");
  const steps: [string, boolean, string][] = [
    ["Invite the members (the Invite button above)", members > 1, "invite"],
    ["Everyone pays in their first contribution (My account)", anyMoney, "pay"],
    ["The treasurer values the club to issue units (Treasurer's desk)", club.last_valuation_date !== null, "value"],
    ["Propose a first investment and vote on it (Votes)", proposals > 0, "propose"],
  ];
  if (!paid.data || steps.every(([, done]) => done)) return null;
  return (
    <section class="panel panel-pad next-steps" data-testid="next-steps">
      <h2 class="subhead">Next steps for {club.name}</h2>
      <ol class="steps-list">
        {steps.map(([text, done, key]) => (
          <li key={key} class={done ? "done" : ""} data-testid={`next-step-${key}`} data-done={done ? "true" : "false"}>
            <span aria-hidden="true">{done ? "✓" : "○"}</span> {text}
          </li>
        ))}
      </ol>
    </section>
  );
}

/** Members have no display names in the clubs API yet: "You", else the role and an id tail. */
function memberName(id: string, me: string | undefined, members: Member[]): string {
  if (id === me) return "You";
  const member = members.find((m) => m.user_id === id);
  const name = member?.full_name ?? member?.name;
  if (name) return name;
  return `${member ? label(member.role) : "Member"} ·${id.slice(-4)}`;
}

function RoomStatus({ view }: { view: RoomView }) {
  const state = useStore(live.state);
  const shown = state !== "connected" ? state : view.phase === "live" ? "live" : view.phase;
  const text: Record<string, string> = {
    live: "Live", joining: "Joining…", "catching-up": "Catching up…", connecting: "Connecting…", reconnecting: "Reconnecting…",
    offline: "Offline", idle: "Offline", removed: "Removed", error: "Problem",
  };
  return (
    <span class="status" data-testid="room-status" data-state={shown} role="status" aria-live="polite">
      <span class="status-dot" aria-hidden="true" />
      {text[shown] ?? shown}
    </span>
  );
}

function InviteButton({ clubId }: { clubId: string }) {
  const [invite, setInvite] = useState<Invite | null>(null);
  const [copied, setCopied] = useState(false);
  const [emails, setEmails] = useState("");
  const [mailed, setMailed] = useState(0);
  const create = useAction(async () => {
    setInvite(await api<Invite>("POST", `/api/v1/clubs/${clubId}/invites`, { body: { expires_in_hours: 72, max_uses: 10 } }));
  });
  const mail = useAction(async () => {
    const to = emails.split(/[\s,;]+/).map((x) => x.trim()).filter(Boolean);
    if (to.length === 0) return;
    // A refused address is named (the server's answer says only which position was wrong).
    const notAddress = (x: string) => new ApiError(`“${x}” is not an e-mail address: write it like name@example.com. Nothing was sent.`, 422, "validation_error");
    const bad = to.find((x) => !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(x));
    if (bad !== undefined) throw notAddress(bad);
    try {
      await api<Invite>("POST", `/api/v1/clubs/${clubId}/invites`, { body: { expires_in_hours: 72, max_uses: to.length, emails: to } });
    } catch (error) {
      const errors = error instanceof ApiError && error.code === "validation_error" ? (error.details.errors as { loc?: unknown[] }[] | undefined) ?? [] : [];
      const loc = errors[0]?.loc ?? [];
      const at = loc.indexOf("emails");
      const index = at >= 0 ? loc[at + 1] : undefined;
      if (typeof index === "number" && to[index] !== undefined) throw notAddress(to[index]);
      throw error;
    }
    setMailed(to.length);
    setEmails("");
  });
  return (
    <div class="invite">
      <Button kind="secondary" busy={create.busy} testId="invite-create" onClick={() => void create.run()}>Invite</Button>
      {invite?.url && (
        <div class="invite-pop panel" data-testid="invite-box">
          <p class="small">Anyone with this link can join (10 people, 3 days):</p>
          <input readOnly value={invite.url} data-testid="invite-url" onFocus={(e) => (e.currentTarget as HTMLInputElement).select()} />
          <form class="inline-form" onSubmit={(e) => { e.preventDefault(); void mail.run(); }}>
            <input aria-label="E-mail addresses to invite" placeholder="Or e-mail it: a@example.com, b@example.com" data-testid="invite-emails" value={emails} onInput={(e) => setEmails((e.currentTarget as HTMLInputElement).value)} />
            <Button kind="secondary" type="submit" busy={mail.busy} testId="invite-mail">Send</Button>
          </form>
          {mailed > 0 && <p class="small ok-text" data-testid="invite-mailed">Invitation mailed to {mailed} {mailed === 1 ? "person" : "people"}.</p>}
          <ErrorNote error={mail.error} testId="invite-mail-error" />
          <div class="form-actions">
            <Button kind="ghost" onClick={() => { setInvite(null); setMailed(0); }}>Close</Button>
            <Button kind="secondary" testId="invite-copy" onClick={() => void navigator.clipboard?.writeText(invite.url ?? "").then(() => setCopied(true))}>{copied ? "Copied" : "Copy"}</Button>
          </div>
        </div>
      )}
      <ErrorNote error={create.error} />
    </div>
  );
}

function ChatPanel({ room, view, me, nameOf }: { room: ClubRoom; view: RoomView; me: string; nameOf: (id: string) => string }) {
  const [text, setText] = useState("");
  const list = useRef<HTMLOListElement>(null);
  const stick = useRef(true);
  const lastTyping = useRef(0);
  const input = useRef<HTMLInputElement>(null);
  const send = useAction(async () => {
    const body = text.trim();
    if (!body) return;
    // Cleared at once so the next message can be typed while this one is on its way; put
    // back if it could not be sent (and nothing new was typed meanwhile).
    setText("");
    try {
      await room.send(body);
    } catch (error) {
      if (!input.current?.value) setText(body);
      throw error;
    }
  });
  const older = useAction(() => room.loadOlder());
  useEffect(() => {
    const el = list.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [view.messages.length, view.messages[view.messages.length - 1]?.id]);
  const typing = Object.keys(view.typing).map(nameOf);
  return (
    <Panel title="Chat" testId="chat-panel" class="chat">
      <ol
        class="messages" ref={list} data-testid="chat-messages" aria-live="polite"
        onScroll={(e) => {
          const el = e.currentTarget as HTMLOListElement;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
        }}
      >
        {view.olderBefore !== null && (
          <li class="older"><Button kind="ghost" busy={older.busy} testId="chat-older" onClick={() => void older.run()}>Earlier messages</Button></li>
        )}
        {view.messages.length === 0 && view.phase === "live" && <li class="muted small empty-chat">No messages yet. Say hello to the club.</li>}
        {view.messages.map((m: ChatMessage) => (
          <li key={m.id} class={`message ${m.author_id === me ? "mine" : ""} ${m.deleted ? "deleted" : ""}`} data-testid="chat-message" data-seq={m.seq} data-author={m.author_id}>
            <span class="message-meta">
              <span class="message-author">{nameOf(m.author_id)}</span> <time dateTime={m.created_at}>{clock(m.created_at)}</time>
              {m.edited_at && !m.deleted && <span class="muted"> · edited</span>}
            </span>
            <span class="message-body">{m.deleted ? "Message deleted" : m.body}</span>
          </li>
        ))}
      </ol>
      <p class="typing small muted" data-testid="typing-indicator">{typing.length > 0 ? `${typing.join(", ")} ${typing.length === 1 ? "is" : "are"} typing…` : " "}</p>
      <form class="chat-form" onSubmit={(e) => { e.preventDefault(); void send.run(); }}>
        <input
          ref={input}
          data-testid="chat-input" aria-label="Message" placeholder="Write to the club…" value={text}
          onInput={(e) => {
            setText((e.currentTarget as HTMLInputElement).value);
            if (Date.now() - lastTyping.current > 2_500) {
              lastTyping.current = Date.now();
              room.typing();
            }
          }}
        />
        <Button type="submit" disabled={!text.trim() || text.length > CHAT_MAX} testId="chat-send">Send</Button>
      </form>
      {text.length > CHAT_MAX - 500 && (
        <p class={`small chat-counter ${text.length > CHAT_MAX ? "over" : "muted"}`} data-testid="chat-counter" aria-live="polite">
          {text.length > CHAT_MAX
            ? `${(text.length - CHAT_MAX).toLocaleString("en-IN")} characters too long: a message holds up to ${CHAT_MAX.toLocaleString("en-IN")}.`
            : `${text.length.toLocaleString("en-IN")} / ${CHAT_MAX.toLocaleString("en-IN")} characters`}
        </p>
      )}
      <ErrorNote error={send.error ?? older.error} testId="chat-error" />
    </Panel>
  );
}

function MembersPanel({ members, online, me, nameOf }: { members: Member[]; online: string[]; me: string; nameOf: (id: string) => string }) {
  const here = new Set(online);
  const sorted = [...members].sort((a, b) => Number(here.has(b.user_id)) - Number(here.has(a.user_id)) || a.joined_at.localeCompare(b.joined_at));
  return (
    <Panel title={<>Members <span class="muted small" data-testid="online-count">{members.filter((m) => here.has(m.user_id)).length} online</span></>} testId="members-panel">
      <ul class="members">
        {sorted.map((m) => (
          <li key={m.user_id} data-testid={`member-${m.user_id}`} data-online={here.has(m.user_id) ? "true" : "false"}>
            <span class={`presence ${here.has(m.user_id) ? "on" : ""}`} aria-label={here.has(m.user_id) ? "online" : "offline"} />
            <span class="member-name">{nameOf(m.user_id)}{m.user_id === me ? "" : ""}</span>
            <span class="muted small">{label(m.role)}</span>
          </li>
        ))}
      </ul>
    </Panel>
  );
}

function direction(change: string | undefined): "up" | "down" | "flat" {
  if (!change || !/[1-9]/.test(change)) return "flat";
  return change.trim().startsWith("-") ? "down" : "up";
}

function QuotesPanel({ symbols, quotes, own, clubId, followed, canEdit, onSaved, example }: {
  symbols: string[]; quotes: Record<string, LiveQuote>; own: boolean; clubId: string; followed: string[]; canEdit: boolean; onSaved: () => void;
  /** Symbols of the club's market, shown as the watch-list input's example. */
  example: string;
}) {
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState("");
  const save = useAction(async () => {
    const wanted = text.split(/[\s,]+/).map((x) => x.trim().toUpperCase()).filter(Boolean);
    await api("PUT", `/api/v1/clubs/${clubId}/watchlist`, { body: { symbols: wanted } });
    setEditing(false);
    onSaved();
  });
  const actions = (
    <>
      {!own && <span class="muted small" data-testid="market-watch">market watch</span>}
      {canEdit && !editing && (
        <Button kind="ghost" class="btn-small" testId="watchlist-edit" onClick={() => { setText(followed.join(", ")); setEditing(true); }}>Watch-list</Button>
      )}
    </>
  );
  return (
    <Panel title="Live quotes" testId="quotes-panel" actions={actions}>
      {editing && (
        <form class="inline-form watch-edit" onSubmit={(e) => { e.preventDefault(); void save.run(); }}>
          <input aria-label="Symbols the club follows" data-testid="watchlist-input" placeholder={example || "AAPL, MSFT"} value={text} onInput={(e) => setText((e.currentTarget as HTMLInputElement).value)} />
          <Button kind="secondary" type="submit" busy={save.busy} testId="watchlist-save">Save</Button>
          <Button kind="ghost" type="button" onClick={() => setEditing(false)}>Cancel</Button>
        </form>
      )}
      <ErrorNote error={save.error} />
      {symbols.length === 0 ? (
        <Empty>No symbols yet.</Empty>
      ) : (
        <ul class="room-quotes">
          {symbols.map((symbol) => {
            const q = quotes[symbol];
            const tick = q?.last ?? null;
            const dir = direction(tick?.change_pct);
            return (
              <li key={symbol} class={`room-quote ${dir}`} data-testid={`room-quote-${symbol}`} data-direction={dir}>
                <span class="ticker">{symbol}</span>
                <Sparkline values={q?.history ?? []} direction={dir} testId={`room-spark-${symbol}`} />
                <span class="room-quote-price">
                  <strong data-testid={`room-price-${symbol}`}>{tick ? money(tick.price, tick.currency) : "—"}</strong>
                  <span class="change small">{tick ? `${dir === "up" && !tick.change_pct.startsWith("+") ? "+" : ""}${tick.change_pct}%` : "waiting"}</span>
                </span>
              </li>
            );
          })}
        </ul>
      )}
    </Panel>
  );
}
