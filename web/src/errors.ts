/**
 * What a person reads when something fails: one sentence per stable error code, in their terms,
 * in this one place. The API's `message` is kept only when no sentence is known for the code
 * (it is written for people too); codes themselves are never shown.
 */

type Details = Record<string, unknown>;
type Sentence = string | ((details: Details, message: string) => string);

/** "in 45 seconds" / "in 3 minutes" / "in about 2 hours". */
export function waitText(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds <= 1) return "in a moment";
  if (seconds < 60) return `in ${Math.ceil(seconds)} seconds`;
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 60) return `in ${minutes} minute${minutes === 1 ? "" : "s"}`;
  const hours = Math.round(minutes / 60);
  return `in about ${hours} hour${hours === 1 ? "" : "s"}`;
}

const PASSWORD_REASONS: Record<string, (d: Details) => string> = {
  too_short: (d) => `It is too short: use at least ${typeof d.min_length === "number" ? d.min_length : 12} characters.`,
  too_long: () => "It is too long.",
  too_common: () => "It is one of the passwords people use most; choose one that is yours alone.",
  contains_email: () => "It contains your e-mail address.",
};

/** Sentences for the password policy's reasons (`weak_password` → `details.reasons`). */
export function passwordReasons(details: Details): string[] {
  const reasons = Array.isArray(details.reasons) ? details.reasons.map(String) : [];
  return reasons.map((r) => PASSWORD_REASONS[r]?.(details) ?? r.replace(/_/g, " "));
}

const SENTENCES: Record<string, Sentence> = {
  rate_limited: (d) => `Too many tries for now. Try again ${waitText(Number(d.retry_after))}.`,
  account_locked: (d) => `Too many wrong passwords: this account is locked for now. Try again ${waitText(Number(d.retry_after))}.`,
  too_many_attempts: "Too many wrong codes. Ask for a new code and use that one.",
  invalid_code: (d) => typeof d.attempts_left === "number" && d.attempts_left > 0
    ? `That code is not right. ${d.attempts_left} ${d.attempts_left === 1 ? "try" : "tries"} left.`
    : "That code is not right, and no tries are left: ask for a new code.",
  code_expired: "That code has expired. Ask for a new one.",
  weak_password: "Choose a stronger password.",
  invalid_credentials: "The e-mail or the password is not right.",
  email_not_verified: "Verify your e-mail address first: we sent you a code.",
  account_suspended: "This account is suspended. Contact support.",
  authentication_required: "Sign in to continue.",
  token_expired: "Your session has ended: sign in again.",
  session_revoked: "This session was ended: sign in again.",
  refresh_token_reused: "This session was ended for safety: sign in again.",
  refresh_token_invalid: "Your session has ended: sign in again.",
  mfa_required: "Enter the code from your authenticator app.",
  invalid_mfa_code: "That authenticator code is not right. Check the time on your phone and try again.",
  step_up_required: "This needs the code from your authenticator app.",
  step_up_failed: "That authenticator code is not right.",
  mfa_enrollment_required: "Turn on two-step sign-in (an authenticator app) on your account page first.",
  role_required: "Only the club's owner, admins or treasurer can do that.",
  forbidden: "You are not allowed to do that.",
  club_not_found: "This club does not exist, or you are not a member.",
  already_member: "You are already a member of this club.",
  invite_unusable: (d) => ({
    expired: "This invitation has expired: ask the club for a new link.",
    revoked: "This invitation was withdrawn by the club: ask for a new link.",
    used_up: "This invitation has been used as many times as it allows: ask the club for a new link.",
  } as Record<string, string>)[String(d.reason)] ?? "This invitation link is not valid: ask the club for a new one.",
  last_owner: "The club needs at least one owner: make someone else owner first.",
  kyc_required: "Above the yearly limit, contributions need a verified KYC.",
  insufficient_cash: (d) => typeof d.available === "string" ? `The club does not have enough free cash for that (free: ${d.available}).` : "The club does not have enough free cash for that.",
  insufficient_holdings: "The club does not hold enough of those shares.",
  unknown_symbol: (d) => Array.isArray(d.symbols) && d.symbols.length > 0 ? `We do not know the symbol ${d.symbols.join(", ")}.` : "We do not know that symbol.",
  fx_rate_unavailable: (d) => `There is no published exchange rate from ${String(d.base ?? "that currency")} to ${String(d.quote ?? "the club's currency")} for ${String(d.on ?? "that day")}, so the amount cannot be converted. Pick a later date.`,
  not_tradable: (d) => `${String(d.symbol ?? "That symbol")} is an index: it can be followed but not bought or sold.`,
  currency_mismatch: (_d, m) => `This instrument is quoted in another currency than the club's. ${m.charAt(0).toUpperCase()}${m.slice(1)}.`,
  no_quote: "There is no price for that symbol yet: wait for the market to open or use a limit price.",
  order_state: "That order has moved on (it was sent, filled or cancelled already).",
  change_exceeds_cash: (d) => typeof d.available === "string" && typeof d.needed === "string" ? `The club's free cash does not cover this change: it needs ${d.needed} more, and ${d.available} is free. The order was not changed.` : "The club's free cash does not cover this change. The order was not changed.",
  price_missing: (d) => Array.isArray(d.symbols) ? `Enter a price for ${d.symbols.join(", ")}.` : "Enter a price for every holding.",
  nav_not_positive: "At these prices the club would be worth nothing or less; check the prices.",
  voting_closed: "Voting on this proposal has closed.",
  not_eligible: "You joined after this proposal was made, so you have no vote on it.",
  no_voting_weight: "Nobody holds units yet, so a weighted vote cannot start: value the club first.",
  proposal_not_open: "This proposal is no longer open.",
  contribution_state: (d) => ({
    no_longer_awaiting_payment: "The money for this contribution arrived meanwhile, so it can no longer be cancelled.",
    paid_at_provider: "This payment already went through, so it cannot be cancelled: it will show as received in a moment.",
    not_a_member: "The contributor is no longer a member of this club, so no units can be issued for it.",
    own_contribution: "A contribution cannot be approved or rejected by the member who recorded it: another treasurer, an admin or the owner decides it.",
  } as Record<string, string>)[String(d.reason)] ?? (d.status === "awaiting_payment" || d.status === undefined
    ? "This contribution was already decided."
    : "This contribution has already moved on (it is no longer waiting), so that cannot be done now."),
  member_has_pending_money: "There is still money on its way for this member (a contribution not yet turned into units, or a withdrawal or charge not yet settled). Settle or reject it first, then try again.",
  units_outstanding: "This member still holds units: withdraw them in full first.",
  withdrawal_refused: (d) => ({
    already_pending: "You already have a withdrawal waiting: it settles at the next valuation.",
    no_units: "You hold no units to withdraw.",
    exceeds_value: typeof d.value === "string" ? `That is more than your units are worth (${d.value}).` : "That is more than your units are worth.",
    unknown: "That withdrawal no longer exists.",
    already_paid: "This withdrawal has already been paid out.",
    not_settled: "This withdrawal is not settled yet: it can be paid after the next valuation.",
  } as Record<string, string>)[String(d.reason)] ?? "That withdrawal cannot be made as asked.",
  cannot_decide_own: "Someone else in the club has to approve your own contribution.",
  file_too_large: "That file is too large.",
  unsupported_file_type: "That file type is not accepted: use a PDF, PNG or JPEG.",
  malware_detected: "That file was refused: it looks unsafe.",
  payment_provider_unavailable: "The payment provider is not answering right now. Try again in a few minutes.",
  payment_provider_rejected: "The payment provider refused this payment.",
  service_unavailable: (d) => d.queued === true
    ? "The broker is not answering: the order is kept, waiting for the broker, and will be re-sent automatically when it answers. Nothing more to do."
    : "That part of the service is not answering right now. Try again in a minute.",
  broker_login_required: (d) => d.queued === true
    ? "The broker asks you to log in again: the order is kept and goes once you have logged in."
    : "The broker asks you to log in again.",
  broker_link_unusable: (_d, m) => `${m.charAt(0).toUpperCase()}${m.slice(1)}.`,
  broker_currency_mismatch: (_d, m) => `This broker trades in another currency: ${m}. Kite Connect is for INR clubs, Alpaca for USD clubs.`,
  broker_link_invalid: "The broker refused these keys: check the key and the secret.",
  broker_orders_open: "Orders are still working at the club's broker: wait until they are filled or cancel them first.",
  broker_account_taken: "This broker account is already linked to another club: one account serves one club, so their orders and positions never mix. Use this club's own account.",
  market_data_unavailable: "Prices are not available right now. Try again in a minute.",
  idempotency_in_progress: "That is still being processed. Wait a moment.",
  idempotency_key_reused: "That was already sent with other details. Reload the page and try again.",
  network_error: (_d, m) => m,
  payload_too_large: "That is too large to send.",
  malformed_json: "Something went wrong sending that. Reload the page and try again.",
  internal_error: "Something went wrong on our side. Try again in a minute.",
};

/** pydantic's message without its jargon ("Value error, …"), as a sentence. */
function plain(message: string): string {
  const text = message.replace(/^(Value error|Assertion failed), /, "").trim();
  if (!text) return text;
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}${/[.!?]$/.test(text) ? "" : "."}`;
}

/** A field's name for people: `["body", "valuation_date"]` → "Valuation date". */
export function fieldName(loc: unknown[]): string {
  const last = [...loc].reverse().find((p) => typeof p === "string" && p !== "body" && p !== "query");
  if (typeof last !== "string") return "";
  const words = last.replace(/_(bps|id)$/, "").replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The sentence to show for a failed call (`code`, the API's `message`, `details`). */
export function sentence(code: string | undefined, message: string, details: Details): string {
  const known = code ? SENTENCES[code] : undefined;
  if (typeof known === "function") return known(details, message);
  if (typeof known === "string") return known;
  if (code === "validation_error") {
    const errors = Array.isArray(details.errors) ? (details.errors as { loc?: unknown[]; msg?: string }[]) : [];
    const first = errors[0];
    if (first?.msg) {
      const field = fieldName(first.loc ?? []);
      return field ? `${field}: ${plain(first.msg)}` : plain(first.msg);
    }
    return "Some details are missing or not right: check the form.";
  }
  return plain(message) || "Something went wrong. Try again.";
}
