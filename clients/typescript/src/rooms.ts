/** How to enter each logged room: its join (and sync) event, fixed fields and answer's spelling. */

/**
 * One logged room: `name` as its events' ids spell it (`<name>:<seq>`; null when only the
 * server knows it, as for one's own log or the CRM board), the client event that enters it (sent
 * with `after_seq` on every reconnection), the one that syncs while in it (defaults to the join),
 * the one that leaves it, and the fixed fields they carry.
 */
export interface RoomSpec {
  readonly name: string | null;
  readonly join: string;
  readonly sync?: string;
  readonly leave?: string;
  readonly params: Readonly<Record<string, unknown>>;
}

/** The rooms a client follows (the AsyncAPI document's sequenced channels). */
export const Rooms = {
  /** A club's room `club:<id>` (members): chat, proposals and votes, orders, contributions… */
  club(clubId: string): RoomSpec {
    return { name: `club:${clubId}`, join: "room:join", sync: "room:sync", leave: "room:leave", params: { club_id: clubId } };
  },
  /** A crowdfunding campaign's room `campaign:<id>`: progress, the owner's updates and reports. */
  campaign(campaignId: string): RoomSpec {
    return { name: `campaign:${campaignId}`, join: "campaign:join", sync: "campaign:sync", leave: "campaign:leave", params: { campaign_id: campaignId } };
  },
  /** A chit scheme's room `scheme:<id>`: the live auction, bids, payments, the scheme. */
  scheme(schemeId: string): RoomSpec {
    return { name: `scheme:${schemeId}`, join: "chit:join", leave: "chit:leave", params: { scheme_id: schemeId } };
  },
  /** The signed-in person's own log `person:<id>`: KYC decisions and expiries, consultations,
   * their clubs' broadcasts. */
  person(): RoomSpec {
    return { name: null, join: "feed:join", params: { feed: "person" } };
  },
  /** The broadcasts to everyone, `broadcasts:all`. */
  broadcasts(): RoomSpec {
    return { name: "broadcasts:all", join: "feed:join", params: { feed: "broadcasts" } };
  },
  /** A member of CRM staff's pipeline board (`crm:board:…`, chosen by the server). */
  crmBoard(): RoomSpec {
    return { name: null, join: "crm:join", leave: "crm:leave", params: {} };
  },
} as const;
