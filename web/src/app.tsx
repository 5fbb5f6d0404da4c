/** The app shell: top bar (brand, navigation, bell, account, live status), the route table, and
 * the account's live connection started and stopped with the session. */
import type { ComponentType } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { live } from "./live.ts";
import { BroadcastBanner, Bell, startInbox, stopInbox } from "./notifications.tsx";
import { match, navSection, navigate, route } from "./router.ts";
import { ForgotPassword, Login, SignUp, VerifyEmail } from "./screens/auth.tsx";
import { CreateClub, JoinClub, MyClubs } from "./screens/clubs.tsx";
import MarketScreen from "./screens/market.tsx";
import { session } from "./session.ts";
import { useStore } from "./store.ts";

/** A screen loaded on first use (the room and admin screens carry the chart library). */
function lazy<P extends object>(load: () => Promise<{ default: ComponentType<P> }>): ComponentType<P> {
  let loaded: ComponentType<P> | null = null;
  return (props: P) => {
    const [screen, setScreen] = useState<ComponentType<P> | null>(() => loaded);
    const [failed, setFailed] = useState(false);
    useEffect(() => {
      if (loaded) return;
      load().then(
        (module) => {
          loaded = module.default;
          setScreen(() => module.default);
        },
        () => setFailed(true),
      );
    }, []);
    if (failed) return <main class="page"><p class="alert alert-error">Could not load this screen. Reload the page to try again.</p></main>;
    const Screen = screen;
    return Screen ? <Screen {...props} /> : <main class="page"><p class="muted">Loading…</p></main>;
  };
}

const ClubRoomScreen = lazy<{ clubId: string }>(() => import("./screens/room.tsx"));
const AdminConsole = lazy<object>(() => import("./screens/admin.tsx"));
const AccountScreen = lazy<{ section: string }>(() => import("./screens/account.tsx"));
const CrmScreen = lazy<{ section: string; id?: string }>(() => import("./screens/crm.tsx"));
const ContactForm = lazy<object>(() => import("./screens/crm.tsx").then((m) => ({ default: m.ContactForm })));
const AdviceScreen = lazy<{ accountId?: string }>(() => import("./screens/advice.tsx"));
const AdvisorDesk = lazy<object>(() => import("./screens/advisor.tsx"));
const StrategyPage = lazy<{ slug: string }>(() => import("./screens/advisor.tsx").then((m) => ({ default: m.StrategyPage })));
const AdvisorClient = lazy<{ clientId: string }>(() => import("./screens/advisor.tsx").then((m) => ({ default: m.ClientProfilePage })));
const ChitScreens = lazy<{ path: string }>(() => import("./screens/chits.tsx"));
const Campaigns = {
  Feed: lazy<object>(() => import("./screens/campaigns.tsx").then((m) => ({ default: m.CampaignFeed }))),
  Page: lazy<{ id: string }>(() => import("./screens/campaigns.tsx").then((m) => ({ default: m.CampaignPage }))),
  Editor: lazy<{ id?: string }>(() => import("./screens/campaigns.tsx").then((m) => ({ default: m.CampaignEditor }))),
  Dashboard: lazy<object>(() => import("./screens/campaigns.tsx").then((m) => ({ default: m.CampaignDashboard }))),
  Admin: lazy<object>(() => import("./screens/campaigns.tsx").then((m) => ({ default: m.CampaignAdmin }))),
};

type Guard = "public" | "guest-only" | "account";
interface RouteDef {
  pattern: string;
  guard: Guard;
  render: (params: Record<string, string>) => preact.JSX.Element;
}

const ROUTES: RouteDef[] = [
  { pattern: "/", guard: "public", render: () => <MarketScreen /> },
  { pattern: "/market", guard: "public", render: () => <MarketScreen /> },
  { pattern: "/signup", guard: "guest-only", render: () => <SignUp /> },
  { pattern: "/verify", guard: "public", render: () => <VerifyEmail /> },
  { pattern: "/login", guard: "guest-only", render: () => <Login /> },
  { pattern: "/forgot", guard: "public", render: () => <ForgotPassword /> },
  { pattern: "/clubs", guard: "account", render: () => <MyClubs /> },
  { pattern: "/clubs/new", guard: "account", render: () => <CreateClub /> },
  { pattern: "/clubs/:id", guard: "account", render: (p) => <ClubRoomScreen key={p.id} clubId={p.id as string} /> },
  { pattern: "/join/:token", guard: "public", render: (p) => <JoinClub token={p.token as string} /> },
  { pattern: "/admin", guard: "account", render: () => <AdminConsole /> },
  { pattern: "/advice", guard: "account", render: () => <AdviceScreen /> },
  { pattern: "/advice/:id", guard: "account", render: (p) => <AdviceScreen key={p.id} accountId={p.id as string} /> },
  { pattern: "/advisor", guard: "account", render: () => <AdvisorDesk /> },
  { pattern: "/advisor/clients/:id", guard: "account", render: (p) => <AdvisorClient key={p.id} clientId={p.id as string} /> },
  { pattern: "/strategies/:slug", guard: "public", render: (p) => <StrategyPage key={p.slug} slug={p.slug as string} /> },
  { pattern: "/chits", guard: "account", render: () => <ChitScreens path="/chits" /> },
  { pattern: "/chits/:id", guard: "account", render: (p) => <ChitScreens key={p.id} path={`/chits/${p.id as string}`} /> },
  { pattern: "/campaigns", guard: "account", render: () => <Campaigns.Feed /> },
  { pattern: "/campaigns/new", guard: "account", render: () => <Campaigns.Editor /> },
  { pattern: "/campaigns/dashboard", guard: "account", render: () => <Campaigns.Dashboard /> },
  { pattern: "/campaigns/admin", guard: "account", render: () => <Campaigns.Admin /> },
  { pattern: "/campaigns/:id", guard: "account", render: (p) => <Campaigns.Page key={p.id} id={p.id as string} /> },
  { pattern: "/campaigns/:id/edit", guard: "account", render: (p) => <Campaigns.Editor key={p.id} id={p.id as string} /> },
  { pattern: "/account/:section", guard: "account", render: (p) => <AccountScreen section={p.section as string} /> },
  { pattern: "/contact", guard: "public", render: () => <ContactForm /> },
  { pattern: "/crm", guard: "account", render: () => <CrmScreen section="board" /> },
  { pattern: "/crm/leads/:id", guard: "account", render: (p) => <CrmScreen section="lead" id={p.id as string} /> },
  { pattern: "/crm/clients/:id", guard: "account", render: (p) => <CrmScreen section="client" id={p.id as string} /> },
  { pattern: "/crm/people/:id", guard: "account", render: (p) => <CrmScreen section="person" id={p.id as string} /> },
  { pattern: "/crm/:section", guard: "account", render: (p) => <CrmScreen section={p.section as string} /> },
];

const LIVE_LABELS: Record<string, string> = { connected: "Live", connecting: "Connecting…", reconnecting: "Reconnecting…", offline: "Offline", idle: "" };

function LiveStatus() {
  const state = useStore(live.state);
  if (state === "idle") return null;
  return (
    <span class="status status-compact" data-testid="live-status" data-state={state} title={LIVE_LABELS[state]}>
      <span class="status-dot" aria-hidden="true" />
      <span class="status-label">{LIVE_LABELS[state]}</span>
    </span>
  );
}

function TopBar() {
  const state = useStore(session.state);
  const me = useStore(session.me);
  const path = useStore(route).path;
  const [menu, setMenu] = useState(false);
  const bar = useRef<HTMLElement>(null);
  const [more, setMore] = useState({ left: false, right: false });
  // On a phone the places scroll within the bar: the current one is brought into view, and
  // the edges fade where more places are hidden, so a person sees there is more to reach.
  const measure = () => {
    const el = bar.current;
    if (!el) return;
    const left = el.scrollLeft > 2;
    const right = el.scrollLeft + el.clientWidth < el.scrollWidth - 2;
    setMore((was) => (was.left === left && was.right === right ? was : { left, right }));
  };
  useEffect(() => {
    const el = bar.current;
    if (!el) return;
    const settle = () => {
      el.querySelector<HTMLElement>(".nav-link.active")?.scrollIntoView({ block: "nearest", inline: "nearest" });
      measure();
    };
    settle();
    // The bar narrows as the bell and the account appear beside it: settle again then.
    const watcher = new ResizeObserver(settle);
    watcher.observe(el);
    return () => watcher.disconnect();
  }, [path, state, me]);
  const section = useStore(navSection);
  const here = section ?? path;
  const nav = (href: string, text: string, testId: string) => (
    <a href={href} class={here === href || (href !== "/" && here.startsWith(`${href}/`)) ? "nav-link active" : "nav-link"} data-testid={testId}>{text}</a>
  );
  return (
    <header class="topbar">
      <a class="brand" href={state === "signed-in" ? "/clubs" : "/"} aria-label="Samooh home">
        <span class="logo" aria-hidden="true">S</span>
        <span class="brand-name">Samooh</span>
      </a>
      <nav class="nav" ref={bar} onScroll={measure} data-more-left={more.left} data-more-right={more.right} data-testid="topnav">
        {nav("/", "Market", "nav-market")}
        {state === "signed-out" && nav("/contact", "Talk to us", "nav-contact")}
        {state === "signed-in" && nav("/clubs", "Clubs", "nav-clubs")}
        {state === "signed-in" && nav("/advice", "Advice", "nav-advice")}
        {state === "signed-in" && nav("/chits", "Chits", "nav-chits")}
        {state === "signed-in" && nav("/campaigns", "Campaigns", "nav-campaigns")}
        {state === "signed-in" && me?.roles.includes("advisor") && nav("/advisor", "Advisor", "nav-advisor")}
        {state === "signed-in" && me?.roles.includes("admin") && nav("/admin", "Admin", "nav-admin")}
        {state === "signed-in" && me?.roles.some((r) => r === "crm_agent" || r === "crm_manager" || r === "admin") && nav("/crm", "CRM", "nav-crm")}
      </nav>
      <div class="topbar-end">
        {state === "signed-in" && <LiveStatus />}
        {state === "signed-in" && <Bell />}
        {state === "signed-in" && me && (
          <div class="account">
            <button class="account-btn" aria-expanded={menu} onClick={() => setMenu(!menu)} data-testid="account-menu">
              <span class="avatar" aria-hidden="true">{(me.full_name || me.email).slice(0, 1).toUpperCase()}</span>
              <span class="account-name">{me.full_name}</span>
            </button>
            {menu && (
              <div class="account-pop panel" onClick={() => setMenu(false)}>
                <p class="small"><strong>{me.full_name}</strong><span class="muted block">{me.email}</span><span class="muted block">{me.member_id}</span></p>
                <a class="menu-link" href="/account/security" data-testid="nav-security">Security{me.mfa_enabled ? "" : <span class="badge badge-warn">MFA off</span>}</a>
                <a class="menu-link" href="/account/kyc" data-testid="nav-kyc">My KYC <span class={`badge badge-${me.kyc_status === "verified" ? "ok" : "warn"}`}>{me.kyc_status.replace(/_/g, " ")}</span></a>
                <button class="btn btn-secondary" data-testid="logout" onClick={() => void session.logout().then(() => navigate("/login"))}>Sign out</button>
              </div>
            )}
          </div>
        )}
        {state === "signed-out" && path !== "/login" && <a class="btn btn-light" href="/login" data-testid="nav-login">Sign in</a>}
        {state === "signed-out" && path !== "/signup" && <a class="btn btn-primary" href="/signup" data-testid="nav-signup">Sign up</a>}
      </div>
    </header>
  );
}

export function App() {
  const current = useStore(route);
  const state = useStore(session.state);

  // The account's socket and inbox live as long as the session.
  useEffect(() => {
    if (state === "signed-in") {
      startInbox();
      live.start();
    } else if (state === "signed-out") {
      stopInbox();
      live.stop();
    }
  }, [state]);

  let found: { def: RouteDef; params: Record<string, string> } | null = null;
  for (const def of ROUTES) {
    const params = match(def.pattern, current.path);
    if (params) {
      found = { def, params };
      break;
    }
  }

  useEffect(() => {
    if (!found || state === "restoring") return;
    const here = current.path + current.query.toString().replace(/^(?=.)/, "?");
    if (found.def.guard === "account" && state === "signed-out") navigate(`/login?next=${encodeURIComponent(here)}`, true);
    if (found.def.guard === "guest-only" && state === "signed-in") navigate(current.query.get("next") ?? "/clubs", true);
  }, [found?.def.pattern, state]);

  let body: preact.JSX.Element;
  if (!found) {
    body = (
      <main class="page narrow" data-testid="not-found">
        <h1>Page not found</h1>
        <p><a href="/">Go to the live market</a></p>
      </main>
    );
  } else if (state === "restoring" || (found.def.guard === "account" && state !== "signed-in")) {
    body = <main class="page"><p class="muted">Loading…</p></main>;
  } else {
    body = found.def.render(found.params);
  }
  return (
    <>
      <TopBar />
      <BroadcastBanner />
      {body}
      {/* The market page has its own footer (data sources, API documentation). */}
      {found?.def.pattern !== "/market" && found?.def.pattern !== "/" && (
        <footer class="footer">
          <p>Samooh · money shown exactly as recorded, to the paisa</p>
          <p><a href="/api-docs" data-testid="api-docs-link">API documentation</a></p>
        </footer>
      )}
    </>
  );
}
