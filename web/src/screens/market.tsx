/** The public live market page (web/src/view.ts + quotes.ts, plain DOM) as a screen of the app. */
import { useEffect, useRef } from "preact/hooks";
import { startMarket } from "../market.ts";

export default function MarketScreen() {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!host.current) return;
    return startMarket(host.current);
  }, []);
  return <div class="market-host" ref={host} />;
}
