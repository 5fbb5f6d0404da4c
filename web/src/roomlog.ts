/**
 * One room's log kept in step on a screen: the catch-up every live screen shares (club room,
 * campaign page, chit auction, CRM board, advice page, the personal feeds).
 *
 * The protocol itself — join with the last applied `seq`, apply each logged event once in `seq`
 * order, sync on a hole or a `room:head` ahead, take a fresh state when the server cannot replay
 * everything — lives in the client package `@samooh/client` (clients/typescript/src/roomlog.ts),
 * which mobile apps and scripts use too. This module binds it to the page's one connection
 * (`live`), so the screens keep constructing `new RoomLog({room, join, sync, apply, …})`.
 */
import { type CatchUp, type LogEvent, RoomLog as SharedRoomLog, type RoomLogOptions as SharedOptions } from "@samooh/client/roomlog";
import { live } from "./live.ts";

export type { CatchUp, LogEvent };

/** The shared log's options, without the connection (always the page's `live`). */
export type RoomLogOptions = Omit<SharedOptions, "link">;

export class RoomLog extends SharedRoomLog {
  constructor(options: RoomLogOptions) {
    super({ ...options, link: live });
  }
}
