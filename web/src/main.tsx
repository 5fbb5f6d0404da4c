/** Bootstrap: resume the tab's session (if any), start the router, render the app. */
import { render } from "preact";
import { App } from "./app.tsx";
import { startRouter } from "./router.ts";
import { session } from "./session.ts";
import "./styles.css";

const root = document.querySelector<HTMLElement>("#app");
if (root !== null) {
  startRouter();
  root.replaceChildren();
  render(<App />, root);
  void session.restore();
}
