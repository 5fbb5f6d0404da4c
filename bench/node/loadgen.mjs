// The load generator of the fan-out benchmark, the same for both servers: CLIENTS
// socket.io-client sockets (websocket transport), socket i subscribed with "quote:subscribe" to
// PER symbols starting at symbol i (mod the list), so every symbol has the same number of
// subscribers. Counts quotes arriving as "quote:tick" (one quote) or "quote:batch" (a list), and
// their latency from the creation time in the tick id ("bench:<symbol>:<µs>") to arrival.
// Protocol on stdio: prints {"connected": n} when every socket is subscribed; reads "measure"
// (start counting arrivals), "seen" (print {"seen": n}, bench quotes so far) and "stop" (print the figures as one JSON line,
// exit). Usage: node loadgen.mjs --url U --clients 1000 --symbols A,B,.. --per 10 [--token T]
import { createInterface } from "node:readline";
import { performance } from "node:perf_hooks";
import { io } from "socket.io-client";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, v, i, all) => (i % 2 ? pairs : [...pairs, [v.replace(/^--/, ""), all[i + 1]]]), []),
);
const symbols = args.symbols.split(",");
const urls = args.url.split(","); // several web processes: socket i goes to url i mod n
const clients = Number(args.clients);
const per = Number(args.per);
const batch = args.batch === "1"; // ask for "quote:batch" packets (Samooh only)
// The wall clock read afresh, as the tick sources do (performance.timeOrigin is fixed at start
// and this machine's clock is stepped while it runs): ms resolution.
const nowMs = () => Date.now();

const BUCKET_MS = 0.1; // latency histogram: 0.1 ms buckets up to 120 s
const histogram = new Uint32Array(1_200_001);
let maxLatency = 0;
let measuring = false;
let measureStarted = 0;
const received = new Uint32Array(clients);
const sockets = [];

let seen = 0; // bench quotes received at all, measuring or not (the warm-up waits for one)

function record(index, quote) {
  if (typeof quote?.id === "string" && quote.id.startsWith("bench:")) seen++;
  if (!measuring || typeof quote?.id !== "string" || !quote.id.startsWith("bench:")) return;
  // Every arrival while measuring counts, a backlog's too: a server that falls behind shows
  // it in its latency instead of vanishing from the figures.
  const createdUs = Number(quote.id.slice(quote.id.lastIndexOf(":") + 1));
  const latency = nowMs() - createdUs / 1000;
  histogram[Math.min(histogram.length - 1, Math.max(0, Math.round(latency / BUCKET_MS)))]++;
  if (latency > maxLatency) maxLatency = latency;
  received[index]++;
}

function percentile(total, pct) {
  const rank = Math.ceil((pct / 100) * total);
  let seen = 0;
  for (let i = 0; i < histogram.length; i++) {
    seen += histogram[i];
    if (seen >= rank) return i * BUCKET_MS;
  }
  return null;
}

async function connect(index) {
  const socket = io(urls[index % urls.length], {
    transports: ["websocket"], forceNew: true, reconnection: false, timeout: 60000,
    auth: args.token ? { token: args.token } : undefined,
  });
  socket.on("quote:tick", (quote) => record(index, quote));
  socket.on("quote:batch", (batch) => { for (const q of batch.quotes) record(index, q); });
  await new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });
  const wanted = Array.from({ length: per }, (_, j) => symbols[(index + j) % symbols.length]);
  const ack = await socket.timeout(60000).emitWithAck("quote:subscribe", { symbols: wanted, ...(batch ? { batch: true } : {}) });
  if (!ack.ok) throw new Error(`subscribe refused: ${JSON.stringify(ack)}`);
  sockets.push(socket);
}

const CONCURRENCY = 50;
for (let start = 0; start < clients; start += CONCURRENCY) {
  const batch = [];
  for (let i = start; i < Math.min(clients, start + CONCURRENCY); i++) batch.push(connect(i));
  await Promise.all(batch);
}
console.log(JSON.stringify({ connected: sockets.length }));

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (line.trim() === "seen") {
    console.log(JSON.stringify({ seen }));
  } else if (line.trim() === "measure") {
    measureStarted = performance.now();
    measuring = true;
  } else if (line.trim() === "stop") {
    measuring = false;
    const seconds = (performance.now() - measureStarted) / 1000;
    let total = 0;
    let minPerClient = Infinity;
    for (const n of received) { total += n; minPerClient = Math.min(minPerClient, n); }
    const disconnected = sockets.filter((s) => !s.connected).length;
    console.log(JSON.stringify({
      clients: sockets.length, disconnected, seconds, delivered: total,
      deliveries_per_s: total / seconds,
      quotes_per_client_per_s: total / seconds / clients,
      quotes_per_client_per_s_min: minPerClient / seconds,
      p50_ms: percentile(total, 50), p99_ms: percentile(total, 99), max_ms: maxLatency,
    }));
    for (const s of sockets) s.disconnect();
    process.exit(0);
  }
}
