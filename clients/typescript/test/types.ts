// Compile-time checks of the typed surface (`npm test` runs `tsc -p test` before the tests):
// each line must type-check, and each `@ts-expect-error` must be an error.
import { Rooms, SamoohClient, type RoomEvent, type ServerEvents } from "../src/index.js";

export async function typed(client: SamoohClient, clubId: string): Promise<void> {
  const me = await client.me();
  const email: string = me.email;
  const push: boolean = (await client.notificationPreferences()).push;
  await client.setNotificationPreferences({ sms: true });
  // @ts-expect-error a preference is a boolean
  await client.setNotificationPreferences({ sms: "yes" });
  const page = await client.request("get", "/api/v1/clubs/{club_id}/events", { path: { club_id: clubId }, query: { after_seq: 3 } });
  const seq: number = page.seq;
  const message = await client.request("post", "/api/v1/clubs/{club_id}/messages", { path: { club_id: clubId }, body: { body: "hello" } });
  const text: string = message.body;
  // @ts-expect-error a path with a placeholder needs its value
  await client.request("get", "/api/v1/clubs/{club_id}/events");
  // @ts-expect-error no such path
  await client.request("get", "/api/v1/no-such-thing");
  const joined = await client.call("room:join", { club_id: clubId, after_seq: seq });
  const missed: number = joined.missed.length;
  client.on("quote:tick", (tick: ServerEvents["quote:tick"]) => void tick.symbol);
  const room = client.follow(Rooms.club(clubId), {
    onEvent: (event: RoomEvent) => {
      if (event.event === "chat:message") void event.data.message.body;
      if (event.event === "vote:tally") void event.data.proposal_id;
    },
  });
  room.stop();
  // The README's examples.
  const vote = await client.call("vote:cast", { proposal_id: "p", choice: "yes" });
  void vote.vote;
  client.follow(Rooms.club(clubId), {
    onEvent: () => undefined,
    load: async () => (await client.request("get", "/api/v1/clubs/{club_id}/room", { path: { club_id: clubId } })).seq,
  });
  await client.setEmailKinds(["mention", "proposal_closed"]);
  // @ts-expect-error not a kind of notification
  await client.setEmailKinds(["everything"]);
  const key: string = await client.pushPublicKey();
  const stored = await client.subscribePush({ endpoint: "https://push.example/1", keys: { p256dh: key, auth: "a" } }, ["mention"]);
  const kinds: string[] = stored.kinds;
  const left: { endpoint: string }[] = await client.unsubscribePush(stored.endpoint);
  void [kinds, left, await client.pushSubscriptions()];
  void [email, push, text, missed];
}
