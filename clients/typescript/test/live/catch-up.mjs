// The package against a running server (run by tests/realtime/test_ts_client.py):
//   node test/live/catch-up.mjs '{"url", "club_id", "member": {email, password}, "other": {email, password}, "ips": [2 addresses]}'
// A member logs in, follows the club's room, receives a chat message another member posts over
// HTTP, loses its connection, misses messages posted meanwhile, reconnects by itself and catches
// them up in order; then one more arrives live. Prints one JSON line of what it saw.
import { createECDH, randomBytes } from "node:crypto";
import { Rooms, SamoohClient, SamoohError } from "../../dist/index.js";

const input = JSON.parse(process.argv[2]);
const timeout = setTimeout(() => {
  console.error("timed out");
  process.exit(3);
}, 60_000);

const until = async (check, what, ms = 20_000) => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
};
// Each client is its own address for the per-address login limit (the server trusts one proxy hop).
const headers = (n) => ({ "X-Forwarded-For": input.ips[n] });
const report = { errors: {}, states: [], events: [] };

// The other member only posts over HTTP.
const other = new SamoohClient({ baseUrl: input.url, headers: headers(0) });
await other.logIn(input.other.email, input.other.password);
const post = (body) => other.request("post", "/api/v1/clubs/{club_id}/messages", { path: { club_id: input.club_id }, body: { body } });

// The member: a wrong password first (a typed error), then the session.
const rotated = [];
const member = new SamoohClient({
  baseUrl: input.url,
  headers: headers(1),
  reconnectionDelay: 3_000, // the cut lasts 3 s: the messages posted meanwhile are missed
  randomizationFactor: 0,
  onTokens: (pair) => rotated.push(pair === null ? null : pair.refresh_token),
});
try {
  await member.logIn(input.member.email, "not the password");
} catch (error) {
  report.errors.login = error instanceof SamoohError ? { code: error.code, status: error.status } : String(error);
}
const first = await member.logIn(input.member.email, input.member.password);
await member.refresh(); // the single-use refresh token is rotated
report.rotated = rotated.length === 2 && rotated[0] === first.refresh_token && rotated[1] !== first.refresh_token;
report.me = (await member.me()).email;
try {
  await member.request("get", "/api/v1/clubs/{club_id}", { path: { club_id: "0".repeat(24) } });
} catch (error) {
  report.errors.club = error instanceof SamoohError ? { code: error.code, status: error.status } : String(error);
}

// Notification preferences (issue #22): typed, changed and read back.
const before = await member.notificationPreferences();
const after = await member.setNotificationPreferences({ sms: !before.sms, push: false });
report.preferences = { before, after, read: await member.notificationPreferences() };

// Web Push subscriptions (the same preferences per device): a subscription as a browser makes
// one (a P-256 key and a 16-byte secret), listed, then dropped; dropping it again is refused.
const ecdh = createECDH("prime256v1");
ecdh.generateKeys();
const endpoint = `https://push.example.invalid/samooh-ts/${randomBytes(6).toString("hex")}`;
const keys = { p256dh: ecdh.getPublicKey().toString("base64url"), auth: randomBytes(16).toString("base64url") };
const stored = await member.subscribePush({ endpoint, keys }, ["mention"]);
const listed = await member.pushSubscriptions();
const remaining = await member.unsubscribePush(endpoint);
let again = null;
try {
  await member.unsubscribePush(endpoint);
} catch (error) {
  again = error instanceof SamoohError ? { code: error.code, status: error.status } : String(error);
}
report.push = {
  key: (await member.pushPublicKey()).length > 80,
  stored: stored.kinds,
  listed: listed.filter((s) => s.endpoint === endpoint).length,
  remaining: remaining.filter((s) => s.endpoint === endpoint).length,
  again,
};

member.onState((state) => report.states.push(state));
await member.connect();
const room = member.follow(Rooms.club(input.club_id), {
  onEvent: ({ event, data }) => {
    report.events.push({ event, seq: data.seq, id: data.id, body: event === "chat:message" ? data.message.body : null });
  },
});
await room.ready;
report.joined_at = room.lastSeq;

const bodies = () => report.events.filter((e) => e.event === "chat:message").map((e) => e.body);
await post("one");
await until(() => bodies().length === 1, "the live message");

member.dropConnection();
await until(() => !member.connected, "the cut");
for (const body of ["two", "three", "four"]) await post(body);
report.while_cut = bodies().length;
await until(() => member.connected, "the reconnection", 30_000);
await until(() => bodies().length === 4, "the caught-up messages");
await post("five");
await until(() => bodies().length === 5, "the next live message");
await new Promise((resolve) => setTimeout(resolve, 500)); // nothing more arrives (no repeats)
report.catch_ups = room.catchUps;
report.last_seq = room.lastSeq;

room.stop();
member.disconnect();
clearTimeout(timeout);
console.log(JSON.stringify(report));
process.exit(0);
