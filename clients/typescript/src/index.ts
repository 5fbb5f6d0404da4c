/**
 * `@samooh/client`: Samooh's typed client for React Native, Node and browsers (no DOM).
 * See README.md for the session, REST, live connection and the reconnect-and-catch-up protocol.
 */
export { SamoohClient } from "./client.js";
export type {
  BodyOf, ConnectionState, EmailPreferences, FetchLike, FollowOptions, Following, Me, Method, NotificationKind,
  NotificationPreferences, NotificationPreferencesPatch, Operation, PushSubscriptionIn, PushSubscriptionOut, PathsWith, QueryOf, RequestArgs, RequestOptions,
  ResponseLike, ResponseOf, RoomEvent, SamoohClientOptions, TokenPair,
} from "./client.js";
export { SamoohError } from "./errors.js";
export { Rooms, type RoomSpec } from "./rooms.js";
export { RoomLog, readJoinAnswer, type CatchUp, type JoinAnswer, type LiveLink, type LogEvent, type RoomLogOptions } from "./roomlog.js";
export * from "./generated/events.js";
export type { components, operations, paths } from "./generated/rest.js";
