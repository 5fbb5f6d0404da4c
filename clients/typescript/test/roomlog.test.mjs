// The catch-up protocol (src/roomlog.ts) on hand-made event sequences: gaps, repeats, a
// `room:head` ahead, a reconnection, a truncated replay. A fake connection plays the server's
// side: it delivers live events and answers joins and syncs from a log kept here.
import assert from "node:assert/strict";
import { test } from "node:test";
import { RoomLog, readJoinAnswer } from "../dist/roomlog.js";

const ROOM = "club:c1";

/** A room log on the server's side: `emit` appends an event (seq + 1) and returns it. */
function serverLog(limit = 100) {
  const events = [];
  return {
    events,
    emit(event = "chat:message", extra = {}) {
      const seq = events.length + 1;
      const entry = { event, data: { id: `${ROOM}:${seq}`, ts: "2026-12-06T04:00:00.000Z", seq, ...extra } };
      events.push(entry);
      return entry;
    },
    /** The `room:join` / `room:sync` answer after `after` (`truncated` past `limit`). */
    answer(after) {
      const missed = after === null ? [] : events.filter((e) => e.data.seq > after);
      return { ok: true, club_id: "c1", seq: events.length, missed: missed.slice(0, limit), truncated: missed.length > limit };
    },
  };
}

/** A fake connection: `deliver` sends a live event, `connect` runs the connect hooks. */
function fakeLink() {
  const handlers = new Map();
  const any = new Set();
  const hooks = new Set();
  const link = {
    connected: false,
    on(event, handler) {
      if (!handlers.has(event)) handlers.set(event, new Set());
      handlers.get(event).add(handler);
      return () => handlers.get(event).delete(handler);
    },
    onAny(handler) {
      any.add(handler);
      return () => any.delete(handler);
    },
    onConnect(hook) {
      hooks.add(hook);
      if (link.connected) hook();
      return () => hooks.delete(hook);
    },
    deliver(event, data) {
      for (const handler of [...(handlers.get(event) ?? [])]) handler(data);
      for (const handler of [...any]) handler(event, data);
    },
    connect() {
      link.connected = true;
      for (const hook of [...hooks]) hook();
    },
    disconnect() {
      link.connected = false;
    },
  };
  return link;
}

/** Let the log's pending promises (joins, syncs) settle. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 5));

/** A started log over `server`, with what it applied and the joins/syncs it asked for. */
function follow(server, link, { onReload } = {}) {
  const applied = [];
  const asked = [];
  const answer = async (kind, after) => {
    asked.push([kind, after]);
    const { catchUp, reload } = readJoinAnswer(server.answer(after), after);
    if (reload) onReload?.();
    return catchUp;
  };
  const log = new RoomLog({
    link,
    room: ROOM,
    join: (after) => answer("join", after),
    sync: (after) => answer("sync", after),
    apply: (event) => applied.push(event.data.seq),
  });
  log.start();
  return { log, applied, asked };
}

test("a first join takes the room's seq as the state; live events apply in order after it", async () => {
  const server = serverLog();
  server.emit();
  server.emit();
  const link = fakeLink();
  const { log, applied, asked } = follow(server, link);
  link.connect();
  await settle();
  assert.deepEqual(asked, [["join", null]]);
  assert.equal(log.lastSeq, 2);
  for (let i = 0; i < 3; i++) {
    const { event, data } = server.emit();
    link.deliver(event, data);
  }
  await settle();
  assert.deepEqual(applied, [3, 4, 5]);
  assert.equal(log.lastSeq, 5);
});

test("repeats (a live event twice, a replayed one already applied) are applied once", async () => {
  const server = serverLog();
  const link = fakeLink();
  const { applied } = follow(server, link);
  link.connect();
  await settle();
  const one = server.emit();
  link.deliver(one.event, one.data);
  link.deliver(one.event, one.data);
  const two = server.emit();
  link.deliver(two.event, two.data);
  link.deliver(one.event, one.data);
  await settle();
  assert.deepEqual(applied, [1, 2]);
});

test("events of other rooms, and events without seq, are ignored", async () => {
  const server = serverLog();
  const link = fakeLink();
  const { applied, asked } = follow(server, link);
  link.connect();
  await settle();
  link.deliver("chat:message", { id: "club:other:1", seq: 1 });
  link.deliver("presence:update", { club_id: "c1", online_user_ids: [] });
  link.deliver("chat:message", { id: `${ROOM}:1` });
  await settle();
  assert.deepEqual(applied, []);
  assert.deepEqual(asked, [["join", null]]);
});

test("a gap waits for the missing events: sync after the last applied seq, then in order", async () => {
  const server = serverLog();
  const link = fakeLink();
  const { log, applied, asked } = follow(server, link);
  link.connect();
  await settle();
  const sent = [server.emit(), server.emit(), server.emit(), server.emit()];
  link.deliver(sent[0].event, sent[0].data); // 1
  link.deliver(sent[3].event, sent[3].data); // 4: 2 and 3 were lost
  await settle();
  assert.deepEqual(asked, [["join", null], ["sync", 1]]);
  assert.deepEqual(applied, [1, 2, 3, 4]);
  assert.equal(log.lastSeq, 4);
  // The lost ones arrive late after all: duplicates now.
  link.deliver(sent[1].event, sent[1].data);
  link.deliver(sent[2].event, sent[2].data);
  await settle();
  assert.deepEqual(applied, [1, 2, 3, 4]);
});

test("events out of order are put back in order without asking", async () => {
  const server = serverLog();
  const link = fakeLink();
  const { applied } = follow(server, link);
  link.connect();
  await settle();
  const one = server.emit();
  const two = server.emit();
  // 2 before 1: 2 waits (a sync is asked for, and answers 1 and 2 again: dropped as applied).
  link.deliver(two.event, two.data);
  link.deliver(one.event, one.data);
  await settle();
  assert.deepEqual(applied, [1, 2]);
});

test("a room:head ahead of the last applied seq syncs the rest; one at or below it does nothing", async () => {
  const server = serverLog();
  const link = fakeLink();
  const { log, applied, asked } = follow(server, link);
  link.connect();
  await settle();
  server.emit();
  server.emit(); // both emitted while the server's link to Redis was down: never delivered
  link.deliver("room:head", { id: "h1", ts: "", room: "club:other", head: 9 });
  await settle();
  assert.deepEqual(asked, [["join", null]]);
  link.deliver("room:head", { id: "h2", ts: "", room: ROOM, head: 2 });
  await settle();
  assert.deepEqual(asked, [["join", null], ["sync", 0]]);
  assert.deepEqual(applied, [1, 2]);
  assert.equal(log.catchUps, 1);
  link.deliver("room:head", { id: "h3", ts: "", room: ROOM, head: 2 });
  await settle();
  assert.equal(asked.length, 2);
});

test("a reconnection joins with after_seq and applies what was missed, in order, once", async () => {
  const server = serverLog();
  const link = fakeLink();
  const { log, applied, asked } = follow(server, link);
  link.connect();
  await settle();
  const one = server.emit();
  link.deliver(one.event, one.data);
  link.disconnect();
  server.emit();
  server.emit();
  server.emit();
  link.connect();
  await settle();
  assert.deepEqual(asked, [["join", null], ["join", 1]]);
  assert.deepEqual(applied, [1, 2, 3, 4]);
  assert.equal(log.catchUps, 1);
  const five = server.emit();
  link.deliver(five.event, five.data);
  await settle();
  assert.deepEqual(applied, [1, 2, 3, 4, 5]);
});

test("a live event that arrives before the join's answer waits for it and is applied once", async () => {
  const server = serverLog();
  const link = fakeLink();
  const applied = [];
  let release;
  const log = new RoomLog({
    link,
    room: ROOM,
    join: async (after) => {
      const answer = server.answer(after);
      await new Promise((resolve) => (release = resolve));
      return readJoinAnswer(answer, after).catchUp;
    },
    apply: (event) => applied.push(event.data.seq),
  });
  log.start();
  link.connect();
  const one = server.emit(); // after the server read the log for the answer (seq 0)
  link.deliver(one.event, one.data);
  await settle();
  assert.deepEqual(applied, []); // no state yet: buffered
  release();
  await settle();
  assert.deepEqual(applied, [1]);
});

test("truncated: more was missed than the server replays — the caller reloads, the log starts at the new seq", async () => {
  const server = serverLog(2);
  const link = fakeLink();
  let reloads = 0;
  const { log, applied, asked } = follow(server, link, { onReload: () => (reloads += 1) });
  link.connect();
  await settle();
  const one = server.emit();
  link.deliver(one.event, one.data);
  link.disconnect();
  for (let i = 0; i < 5; i++) server.emit(); // 2..6: more than the 2 replayed
  link.connect();
  await settle();
  assert.deepEqual(asked, [["join", null], ["join", 1]]);
  assert.equal(reloads, 1);
  assert.deepEqual(applied, [1]); // nothing replayed: the reloaded state holds 2..6
  assert.equal(log.lastSeq, 6);
  const seven = server.emit();
  link.deliver(seven.event, seven.data);
  await settle();
  assert.deepEqual(applied, [1, 7]);
});

test("readJoinAnswer reads every spelling of the server's answers", () => {
  const e = { event: "x", data: { seq: 4 } };
  assert.deepEqual(readJoinAnswer({ seq: 4, missed: [e], truncated: false }, null), { catchUp: { state: 4 }, reload: false });
  assert.deepEqual(readJoinAnswer({ seq: 4, missed: [e], truncated: false }, 3), { catchUp: { missed: [e] }, reload: false });
  assert.deepEqual(readJoinAnswer({ seq: 4, events: [e], truncated: false }, 3), { catchUp: { missed: [e] }, reload: false });
  assert.deepEqual(readJoinAnswer({ seq: 9, missed: [e], truncated: true }, 3), { catchUp: { state: 9 }, reload: true });
  assert.deepEqual(readJoinAnswer({ seq: 9, room: "crm:board:all", missed: [], complete: false }, 3),
    { catchUp: { state: 9, room: "crm:board:all" }, reload: true });
  assert.deepEqual(readJoinAnswer({ seq: 4, room: "person:u", missed: [e], complete: true }, 3),
    { catchUp: { missed: [e], room: "person:u" }, reload: false });
});

test("stop: nothing more is applied or asked", async () => {
  const server = serverLog();
  const link = fakeLink();
  const { log, applied, asked } = follow(server, link);
  link.connect();
  await settle();
  log.stop();
  const one = server.emit();
  link.deliver(one.event, one.data);
  link.disconnect();
  link.connect();
  await settle();
  assert.deepEqual(applied, []);
  assert.deepEqual(asked, [["join", null]]);
});

test("reached: an own change logged at a seq that never arrived is asked for after the wait", async () => {
  const server = serverLog();
  const link = fakeLink();
  const { log, applied, asked } = follow(server, link);
  link.connect();
  await settle();
  server.emit(); // the caller's own bid, logged at 1; its broadcast is lost
  log.reached(1, 20);
  await settle();
  assert.deepEqual(asked, [["join", null]]); // not before the wait
  await new Promise((resolve) => setTimeout(resolve, 40));
  assert.deepEqual(asked, [["join", null], ["sync", 0]]);
  assert.deepEqual(applied, [1]);
  assert.equal(log.catchUps, 1);
  // Already applied when the wait ends: nothing is asked.
  const two = server.emit();
  link.deliver(two.event, two.data);
  log.reached(2, 10);
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(asked.length, 2);
  assert.deepEqual(applied, [1, 2]);
});
