// The tick producer of the fan-out benchmark (bench/fanout.py): produces RATE ticks per second
// over SYMBOLS to the market tick topic for SECONDS, serialised as Faust serialises
// streams.records.MarketTickV1 (JSON with the "__faust" namespace), keyed by symbol. Each tick's
// id is "bench:<symbol>:<creation time in microseconds since the epoch>": the clients measure
// latency from it. Prints one JSON line {sent, seconds} at the end.
// Usage: node ticks.mjs --brokers host:port --topic T --symbols A,B --rate 2000 --seconds 20
import { Kafka, logLevel } from "kafkajs";
import { performance } from "node:perf_hooks";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, v, i, all) => (i % 2 ? pairs : [...pairs, [v.replace(/^--/, ""), all[i + 1]]]), []),
);
const symbols = args.symbols.split(",");
const rate = Number(args.rate);
const seconds = Number(args.seconds);
const partitions = Number(args.partitions ?? 4);

const kafka = new Kafka({ clientId: "bench-ticks", brokers: args.brokers.split(","), logLevel: logLevel.ERROR });
const admin = kafka.admin();
await admin.connect();
// The worker's topic layout (streams/topics.py: 4 partitions); a no-op when it exists.
if (!(await admin.listTopics()).includes(args.topic)) await admin.createTopics({ topics: [{ topic: args.topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true });
await admin.disconnect();
if (args["create-only"]) process.exit(0);

const producer = kafka.producer({ allowAutoTopicCreation: false });
await producer.connect();
// The wall clock, read afresh (this machine's clock is stepped while it runs; the clients and
// the Python publisher read the same one), in µs, strictly increasing from tick to tick so
// each symbol's seq increases too (ticks made in the same ms are 1 µs apart; consumers drop a
// tick whose seq is not above the last one's, as Kafka re-deliveries are).
let lastUs = 0;
const nowUs = () => (lastUs = Math.max(Date.now() * 1000, lastUs + 1));
const SLICE_MS = 5; // produce in 5 ms slices: the rate is kept without one request per tick
let sent = 0;
const started = performance.now();
const inflight = [];
while (performance.now() - started < seconds * 1000) {
  const due = Math.floor(((performance.now() - started) / 1000) * rate);
  const messages = [];
  for (; sent < due; sent++) {
    const symbol = symbols[sent % symbols.length];
    const us = nowUs();
    const price = 10_000 + (sent % 500);
    messages.push({
      key: symbol,
      value: JSON.stringify({
        id: `bench:${symbol}:${us}`, seq: us, ts: new Date(us / 1000).toISOString(), symbol,
        price, open: 10_000, high: 10_500, low: 9_900, prev_close: 10_000, volume: null,
        currency: "USD", trade_date: "2012-06-01", source: "bench",
        __faust: { ns: "samooh.market.tick.v1" },
      }),
    });
  }
  if (messages.length) inflight.push(producer.send({ topic: args.topic, acks: 1, messages }));
  await new Promise((resolve) => setTimeout(resolve, SLICE_MS));
}
await Promise.all(inflight);
const elapsed = (performance.now() - started) / 1000;
await producer.disconnect();
console.log(JSON.stringify({ sent, seconds: elapsed }));
