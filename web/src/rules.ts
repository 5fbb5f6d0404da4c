/** A club's rules as typed in a form (the owners' Rules tab, a rules proposal), checked with
 * the same sentences in both places and turned into the API's fields. */
import { ApiError } from "./api.ts";
import { parseAmountInput } from "./money.ts";

export interface RulesInput {
  voting_mode: string;
  threshold: string;
  quorum: string;
  tie_rule: string;
  fee: string;
  by: string;
  dues: string;
  duesDay: string;
  grace: string;
  lateFee: string;
}

/** Percent text → basis points ("12.5" → 1250; a comma is a decimal point). */
function bps(text: string): number {
  return Math.round(Number(text.replace(",", ".")) * 100);
}

/** The API's rule fields (`PATCH /clubs/{id}/rules`, a rules proposal's `rules`). Throws a
 * 422 ApiError with the sentence to show when a field is out of range. */
export function rulesBody(form: RulesInput): Record<string, unknown> {
  const threshold = bps(form.threshold);
  const fee = bps(form.fee || "0");
  if (!(threshold >= 1 && threshold <= 10_000)) throw new ApiError("The approval threshold is a percentage between 0.01 and 100.", 422, "validation_error");
  const quorum = form.quorum.trim() ? bps(form.quorum) : null;
  if (quorum !== null && !(quorum >= 1 && quorum <= 10_000)) throw new ApiError("The quorum is a percentage between 0.01 and 100, or empty for none.", 422, "validation_error");
  if (!(fee >= 0 && fee <= 2_000)) throw new ApiError("The withdrawal fee is a percentage between 0 and 20.", 422, "validation_error");
  const dues = parseAmountInput(form.dues || "0");
  const lateFee = parseAmountInput(form.lateFee || "0");
  const day = Number(form.duesDay);
  const grace = Number(form.grace);
  if (dues === null || lateFee === null) throw new ApiError("Enter the dues and the late fee like 500.00 (0 for none).", 422, "validation_error");
  if (!(Number.isInteger(day) && day >= 1 && day <= 28)) throw new ApiError("Dues fall due on a day from 1 to 28 (every month has it).", 422, "validation_error");
  if (!(Number.isInteger(grace) && grace >= 0 && grace <= 28)) throw new ApiError("The grace period is 0 to 28 days.", 422, "validation_error");
  return {
    voting_mode: form.voting_mode, approval_threshold_bps: threshold, quorum_bps: quorum, tie_rule: form.tie_rule, withdrawal_fee_bps: fee,
    dues_amount: dues, dues_day: day, dues_grace_days: grace, dues_late_fee: lateFee, rules_changed_by: form.by,
  };
}
