// The Node Socket.IO 4 reference server of the fan-out benchmark: consumes the market tick topic
// with kafkajs (its own consumer group) and sends each tick, rendered like Samooh's QuoteTick
// payload (decimal strings), as "quote:tick" to the room of its symbol; a client joins rooms
// with "quote:subscribe" {symbols} (ack {ok, symbols}), as with Samooh. No coalescing, no auth.
// Prints "ready" once the consumer group is joined. Usage: node refserver.mjs --port P
//   --brokers host:port --topic T
import { createServer } from "node:http";
import { Kafka, logLevel } from "kafkajs";
import { Server } from "socket.io";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, v, i, all) => (i % 2 ? pairs : [...pairs, [v.replace(/^--/, ""), all[i + 1]]]), []),
);
const minor = (n) => (n < 0 ? "-" : "") + (Math.abs(n) / 100).toFixed(2);

const http = createServer();
const io = new Server(http, { transports: ["websocket"], pingInterval: 20000, pingTimeout: 20000 });
io.on("connection", (socket) => {
  socket.on("quote:subscribe", (request, ack) => {
    const symbols = request.symbols.map((s) => String(s).toUpperCase());
    for (const s of symbols) socket.join(`symbol:${s}`);
    if (typeof ack === "function") ack({ ok: true, symbols });
  });
});
http.listen(Number(args.port), "127.0.0.1");

const kafka = new Kafka({ clientId: "bench-ref", brokers: args.brokers.split(","), logLevel: logLevel.ERROR });
const consumer = kafka.consumer({ groupId: `bench-ref-${process.pid}`, maxWaitTimeInMs: 5 });
await consumer.connect();
await consumer.subscribe({ topic: args.topic, fromBeginning: false });
consumer.on(consumer.events.GROUP_JOIN, () => console.log("ready"));
await consumer.run({
  partitionsConsumedConcurrently: 4,
  eachMessage: async ({ message }) => {
    const t = JSON.parse(message.value.toString());
    const change = t.prev_close ? Math.round(((t.price - t.prev_close) * 10000) / t.prev_close) : 0;
    io.to(`symbol:${t.symbol}`).emit("quote:tick", {
      id: t.id, ts: t.ts, symbol: t.symbol, price: minor(t.price), open: minor(t.open),
      high: minor(t.high), low: minor(t.low), prev_close: minor(t.prev_close), volume: t.volume,
      change_pct: minor(change), currency: t.currency, trade_date: t.trade_date, source: t.source,
    });
  },
});
for (const sig of ["SIGTERM", "SIGINT"]) {
  process.on(sig, async () => {
    await consumer.disconnect().catch(() => {});
    process.exit(0);
  });
}
