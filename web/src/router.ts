/** A small history router: path patterns with `:params`, `navigate()`, and in-app links. */
import { Store } from "./store.ts";

export interface Route {
  path: string;
  query: URLSearchParams;
}

function current(): Route {
  return { path: location.pathname, query: new URLSearchParams(location.search) };
}

export const route = new Store<Route>(current());

/** The top bar's section when the path alone does not say it: a personal account's room lives
 * under `/clubs/…` but belongs to Advice. Set by the screen while it is shown. */
export const navSection = new Store<string | null>(null);

export function navigate(to: string, replace = false): void {
  const url = new URL(to, location.origin);
  if (url.pathname + url.search === location.pathname + location.search) {
    route.set(current());
    return;
  }
  if (replace) history.replaceState(null, "", url.pathname + url.search + url.hash);
  else history.pushState(null, "", url.pathname + url.search + url.hash);
  route.set(current());
  window.scrollTo(0, 0);
}

/** Matches `path` against a pattern like `/clubs/:id`; the params, or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split("/").filter(Boolean);
  const got = path.split("/").filter(Boolean);
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i] as string;
    const g = got[i] as string;
    if (w.startsWith(":")) params[w.slice(1)] = decodeURIComponent(g);
    else if (w !== g) return null;
  }
  return params;
}

/** Plain `<a href="/…">` links inside the app change the route without reloading the page. */
export function startRouter(): void {
  window.addEventListener("popstate", () => route.set(current()));
  document.addEventListener("click", (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    const anchor = (event.target as Element | null)?.closest?.("a");
    if (!anchor || anchor.target || anchor.hasAttribute("download") || anchor.dataset.external !== undefined) return;
    const href = anchor.getAttribute("href");
    if (!href || !href.startsWith("/") || href.startsWith("//")) return;
    // Server pages (API docs, the dev mailbox) load normally.
    if (/^\/(api|api-docs|dev|openapi\.json|asyncapi\.json|socket\.io|metrics)(\/|$|\?)/.test(href)) return;
    event.preventDefault();
    navigate(href);
  });
}
