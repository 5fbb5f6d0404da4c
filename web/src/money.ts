/**
 * Display of the API's exact decimal strings. Money is never parsed to a float for display:
 * these functions only insert grouping separators and a currency symbol into the text.
 */

const SYMBOLS: Record<string, string> = { INR: "₹", USD: "$", EUR: "€", GBP: "£" };

/** "1234567.50" → "12,34,567.50" for INR (lakh grouping), "1,234,567.50" otherwise. */
export function groupDigits(decimal: string, currency = "INR"): string {
  const text = decimal.trim();
  const negative = text.startsWith("-");
  const unsigned = negative || text.startsWith("+") ? text.slice(1) : text;
  const [whole = "0", fraction] = unsigned.split(".");
  let grouped: string;
  if (currency === "INR" && whole.length > 3) {
    const last = whole.slice(-3);
    const rest = whole.slice(0, -3).replace(/\B(?=(\d{2})+(?!\d))/g, ",");
    grouped = `${rest},${last}`;
  } else {
    grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }
  return `${negative ? "-" : ""}${grouped}${fraction !== undefined ? `.${fraction}` : ""}`;
}

/** "5456.25" → "₹5,456.25" (exactly the API's digits). */
export function money(decimal: string | null | undefined, currency = "INR"): string {
  if (decimal === null || decimal === undefined || decimal === "") return "—";
  const symbol = SYMBOLS[currency] ?? `${currency} `;
  const text = groupDigits(decimal, currency);
  return text.startsWith("-") ? `-${symbol}${text.slice(1)}` : `${symbol}${text}`;
}

/** Basis points → "60%" / "12.5%" by integer arithmetic. */
export function bpsPercent(bps: number | null | undefined): string {
  if (bps === null || bps === undefined) return "—";
  const whole = Math.trunc(bps / 100);
  const rest = Math.abs(bps % 100);
  if (rest === 0) return `${whole}%`;
  return `${whole}.${String(rest).padStart(2, "0").replace(/0$/, "")}%`;
}

/** Micro-units (an integer) → "12.345678" units, exactly. */
export function microUnits(value: number): string {
  const negative = value < 0;
  const digits = String(Math.abs(Math.trunc(value))).padStart(7, "0");
  const text = `${digits.slice(0, -6)}.${digits.slice(-6)}`.replace(/\.?0+$/, "");
  return `${negative ? "-" : ""}${text || "0"}`;
}

/** A unit movement as the API sends it ("-20.000000" redeemed, "50.000000" issued) → the one
 * way screens show it: always signed, "+50.000000 units" / "-20.000000 units" (docs/domain.md). */
export function unitsMoved(units: string): string {
  const text = units.trim();
  return `${text.startsWith("-") ? text : `+${text}`} units`;
}

/** Sign of a decimal string from its text ("-0.00" is zero). */
export function signOf(decimal: string | null | undefined): -1 | 0 | 1 {
  if (!decimal || !/[1-9]/.test(decimal)) return 0;
  return decimal.trim().startsWith("-") ? -1 : 1;
}

/** A user's typed amount normalised to the API's two-place string, or null when it is not one. */
export function parseAmountInput(text: string): string | null {
  const cleaned = text.replace(/[,\s₹$€£]/g, "");
  if (!/^\d{1,10}(\.\d{1,2})?$/.test(cleaned)) return null;
  const [whole = "0", fraction = ""] = cleaned.split(".");
  return `${whole.replace(/^0+(?=\d)/, "")}.${fraction.padEnd(2, "0")}`;
}

/** decimal × whole number, exactly (BigInt on the digits), keeping the decimal's places. */
export function multiplyDecimal(decimal: string, factor: number): string {
  const text = decimal.trim();
  const negative = text.startsWith("-");
  const [whole = "0", fraction = ""] = text.replace(/^[-+]/, "").split(".");
  const scaled = BigInt(whole + fraction) * BigInt(Math.trunc(factor));
  const digits = scaled.toString().padStart(fraction.length + 1, "0");
  const result = fraction.length > 0 ? `${digits.slice(0, -fraction.length)}.${digits.slice(-fraction.length)}` : digits;
  return negative && scaled !== 0n ? `-${result}` : result;
}
