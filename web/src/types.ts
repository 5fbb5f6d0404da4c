/** Shapes of the HTTP API and socket events the screens use (see /openapi.json, /asyncapi.json). */

export type ClubRole = "owner" | "admin" | "treasurer" | "member";

export interface Club {
  id: string;
  name: string;
  description: string;
  currency: string;
  starting_unit_value: string;
  voting_mode: "simple" | "weighted";
  approval_threshold_bps: number;
  quorum_bps: number | null;
  tie_rule: string;
  withdrawal_fee_bps: number;
  hide_running_results?: boolean;
  /** Owners patch the rules ("owners"), or the members change them by a rules proposal ("vote"). */
  rules_changed_by?: "owners" | "vote";
  /** Monthly dues per member ("0.00": none), due on `dues_day`, late after `dues_grace_days`. */
  dues_amount?: string;
  dues_day?: number;
  dues_grace_days?: number;
  dues_late_fee?: string;
  dues_since?: string | null;
  created_at: string;
  last_valuation_date: string | null;
  my_role: ClubRole;
  /** A robo-advice personal account (one member): listed under Advice, not among clubs. */
  personal?: boolean;
}

export interface Member {
  user_id: string;
  role: ClubRole;
  joined_at: string;
  /** Shown when the API sends it; otherwise the screen derives a label. */
  full_name?: string;
  name?: string;
}

export interface Invite {
  id: string;
  club_id: string;
  expires_at: string;
  max_uses: number;
  uses: number;
  revoked: boolean;
  token?: string | null;
  url?: string | null;
}

export interface Contribution {
  id: string;
  club_id: string;
  user_id: string;
  amount: string;
  currency: string;
  method: string;
  status: string;
  provider: string | null;
  order_id: string | null;
  checkout_url: string | null;
  payment_date: string | null;
  valuation_date: string | null;
  units: string | null;
  receipt_file_id?: string | null;
  decision_reason?: string | null;
  /** The member's note for the treasurer (manual contributions; sent to treasurers). */
  note?: string | null;
  created_at: string;
}

export interface Withdrawal {
  id: string;
  user_id?: string;
  full: boolean;
  amount: string | null;
  status: string;
  valuation_date: string | null;
  units: string | null;
  gross: string | null;
  fee: string | null;
  net: string | null;
  requested_at: string;
  paid_at: string | null;
}

/** A holding priced at a valuation: `price` in the stock's currency, `market_value` in the
 * club's; a stock in another `currency` was converted at the ECB `rate` of `rate_date`. */
export interface Position {
  symbol: string;
  quantity: number;
  price: string;
  market_value: string;
  currency?: string | null;
  foreign_value?: string | null;
  rate?: string | null;
  rate_date?: string | null;
}

export interface ValuationStatement {
  valuation_date: string;
  nav: string;
  unit_value: string;
  units_outstanding: string;
  cash: string;
  market_value: string;
  liabilities: string;
  holdings: Position[];
}

export interface Valuation {
  id: string;
  valuation_date: string;
  nav: string;
  unit_value: string;
  nav_after: string;
  units_after: string;
  positions: Position[];
}

export interface MemberStatusRow {
  user_id: string;
  role: string;
  active: boolean;
  paid_in: string;
  withdrawn: string;
  /** Charges the club kept (paid with units): not withdrawn, so not in the return. */
  charged?: string;
  units: string;
  value: string;
  ownership_pct: string;
  return_pct: string;
}

export interface MemberStatus {
  valuation_date: string;
  unit_value: string;
  members: MemberStatusRow[];
}

export interface Holding {
  symbol: string;
  quantity: number;
  cost: string;
}

export interface ChatMessage {
  id: string;
  club_id: string;
  author_id: string;
  body: string;
  reply_to: string | null;
  mentions: string[];
  seq: number;
  created_at: string;
  edited_at: string | null;
  deleted: boolean;
  deleted_by: string | null;
}

export interface Tally {
  hidden: boolean;
  weight_unit: "vote" | "micro_unit";
  yes_weight: number | null;
  no_weight: number | null;
  abstain_weight: number | null;
  yes_count: number | null;
  no_count: number | null;
  abstain_count: number | null;
  participation_count: number;
  participation_weight: number;
  eligible_count: number;
  total_weight: number;
  participation_bps: number | null;
  yes_bps: number | null;
  quorum_met: boolean;
  threshold_met: boolean | null;
  tie: boolean | null;
  outcome_if_closed_now: string | null;
}

export interface Proposal {
  id: string;
  club_id: string;
  created_by: string;
  kind: "investment" | "general" | "rules";
  title: string;
  description: string;
  side: "buy" | "sell" | null;
  symbol: string | null;
  quantity: number | null;
  amount: string | null;
  limit_price: string | null;
  /** A rules proposal: the club rules it changes, by name (rates in basis points). */
  rules?: Record<string, string | number | boolean | null> | null;
  deadline: string;
  voting_mode: string;
  threshold_bps: number;
  quorum_bps: number | null;
  hide_running_results: boolean;
  weights: Record<string, number>;
  status: string;
  close_reason: string | null;
  closed_at: string | null;
  order_id: string | null;
  tally: Tally;
  created_at: string;
  /** From GET /proposals/{id}, or remembered after voting here. */
  my_vote?: string | null;
}

export interface RoomState {
  club_id: string;
  seq: number;
  messages: ChatMessage[];
  proposals: Proposal[];
  online: string[];
}

export interface MissedEvent {
  event: string;
  data: Record<string, unknown> & { seq?: number };
}

export interface RoomJoined {
  ok: true;
  club_id: string;
  seq: number;
  online: string[];
  missed: MissedEvent[];
  truncated: boolean;
}

export interface ContributionReceived {
  id: string;
  ts: string;
  club_id: string;
  contribution_id: string;
  user_id: string;
  amount: string;
  currency: string;
  payment_date: string | null;
  status: string;
}

export interface Notification {
  id: string;
  seq: number;
  kind: string;
  title: string;
  body: string;
  club_id: string | null;
  ref_type: string | null;
  ref_id: string | null;
  created_at: string;
  read: boolean;
}

export interface Broadcast {
  id: string;
  audience: "everyone" | "club";
  club_id: string | null;
  title: string;
  body: string;
  severity: string;
  sent_by: string;
  recipients: number;
  created_at: string;
}

/** A price alert of a club (`/api/v1/clubs/{id}/alerts`): prices are decimal strings, moves bps. */
export interface PriceAlert {
  id: string;
  club_id: string;
  created_by: string;
  symbol: string;
  kind: "above" | "below" | "move";
  price: string | null;
  move_bps: number | null;
  window_seconds: number | null;
  rearm: boolean;
  note: string;
  active: boolean;
  fired_count: number;
  last_fired_at: string | null;
  created_at: string;
}

/** `alert:triggered` (a room event, in the room's log). */
export interface AlertTriggered {
  id: string;
  ts: string;
  club_id: string;
  seq: number;
  alert_id: string;
  symbol: string;
  kind: PriceAlert["kind"];
  price: string;
  threshold: string | null;
  move_bps: number | null;
  measured_bps: number | null;
  window_seconds: number | null;
  rearm: boolean;
  still_active: boolean;
  fired_count: number;
  trade_date: string;
}

export type KycDocumentKind = "pan" | "aadhaar" | "driving_licence" | "address_proof";

export interface KycDocument {
  id: string;
  kind: KycDocumentKind;
  status: "pending" | "verified" | "rejected" | "superseded" | "expired";
  number: string | null;
  number_last4: string | null;
  proof_type: string | null;
  issued_on: string | null;
  expires_on: string | null;
  file_id: string;
  submitted_at: string;
  decided_at: string | null;
  reason: string | null;
}

/** `GET /api/v1/kyc`. */
export interface KycOverview {
  status: string;
  missing: string[];
  contribution_limit: string;
  documents: KycDocument[];
}

export type OrderStatus = "awaiting_execution" | "submitted" | "accepted" | "partially_filled" | "filled" | "cancelled" | "rejected";

export interface Order {
  id: string;
  club_id: string;
  proposal_id: string | null;
  side: "buy" | "sell";
  kind: "market" | "limit";
  symbol: string;
  currency: string | null;
  quantity: number | null;
  amount: string | null;
  limit_price: string | null;
  status: OrderStatus;
  reason: string;
  reserved: string;
  /** Set aside from the club's cash, in the club's currency (for a foreign stock: `reserved`
   * converted at the ECB rate `hold_rate` of `hold_rate_date`, plus the FX margin). */
  held?: string;
  hold_rate?: string | null;
  hold_rate_date?: string | null;
  filled_quantity: number;
  filled_value: string;
  fees: string;
  average_price: string | null;
  /** Where it was sent (`paper`, `kite`, `alpaca`) and the broker's own id of it. */
  broker?: string | null;
  broker_order_id?: string | null;
  /** Kept for the club's linked broker, which has not taken it yet (re-sent automatically). */
  waiting_for_broker?: boolean;
  /** The broker's contract note, once read: its charges and what it changed in `fees`. */
  contract_charges?: { name: string; amount: string }[] | null;
  charges_adjustment?: string | null;
  created_by: string | null;
  submitted_by: string | null;
  created_at: string;
  updated_at: string;
}

/** `portfolio:nav` (state, not in the room log; the latest wins). */
export interface PortfolioNav {
  id: string;
  ts: string;
  club_id: string;
  currency: string;
  cash: string;
  market_value: string;
  liabilities: string;
  nav: string;
  units: string;
  unit_value: string;
  reason: string;
}

/** A comment of a proposal's discussion; `seq` is its place in the club room's log. */
export interface ProposalComment {
  id: string;
  proposal_id: string;
  author_id: string;
  body: string;
  seq: number;
  created_at: string;
}

export type DuesStatus = "none" | "pending" | "paid" | "late" | "waived";

export interface DuesCell {
  month: string;
  status: DuesStatus;
  due_on: string;
  late_after: string;
  paid: string;
  late_fee_charged: boolean;
}

/** GET /clubs/{id}/dues: the rule and a row per member (the treasury: everyone). */
export interface DuesGrid {
  amount: string;
  due_day: number;
  grace_days: number;
  late_fee: string;
  currency: string;
  since: string | null;
  months: string[];
  rows: { user_id: string; cells: DuesCell[] }[];
}

/** A member charge (`GET /clubs/{id}/charges`): a fee or expense share the club keeps, paid
 * from the member's units at a valuation. */
export interface MemberCharge {
  id: string;
  user_id: string;
  amount: string;
  reason: string;
  status: string;
  units: string | null;
  charged: string | null;
  valuation_date: string | null;
}
