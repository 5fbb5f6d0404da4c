// The session rules of SamoohClient (src/client.ts) on hand-made HTTP answers, through the
// `fetch` option: single-use refresh tokens are spent one at a time, a lost answer is asked again
// with the same nonce, a refusal ends the session, error answers become SamoohError.
// (tests/realtime/test_ts_client.py runs the client against the real server.)
import assert from "node:assert/strict";
import { test } from "node:test";
import { SamoohClient, SamoohError } from "../dist/index.js";

const json = (status, body) => ({ status, ok: status < 400, text: async () => (body === undefined ? "" : JSON.stringify(body)) });
const pair = (n, expiresIn = 900) => ({
  access_token: `access-${n}`, refresh_token: `refresh-${n}`, token_type: "Bearer", expires_in: expiresIn, refresh_expires_in: 604800,
});
const expired = json(401, { error: { code: "token_expired", message: "The access token has expired.", details: {} } });

/** A fake server: `routes[method path](request)` answers; every request is recorded. */
function server(routes) {
  const requests = [];
  const fetch = async (url, init) => {
    const path = url.replace("http://samooh.test", "");
    const request = { path, method: init.method, headers: init.headers, body: init.body ? JSON.parse(init.body) : undefined };
    requests.push(request);
    const route = routes[`${init.method} ${path.split("?")[0]}`];
    if (!route) return json(404, { error: { code: "not_found", message: "No such route.", details: {} } });
    return route(request);
  };
  return { fetch, requests };
}

test("an expired access token is refreshed once for every caller waiting, and each call is retried", async () => {
  let rotations = 0;
  const { fetch, requests } = server({
    "POST /api/v1/auth/login": () => json(200, pair(1)),
    "POST /api/v1/auth/refresh": async (request) => {
      rotations += 1;
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(request.body.refresh_token, "refresh-1");
      assert.match(request.body.client_nonce, /^[A-Za-z0-9_-]{16,128}$/);
      return json(200, pair(2));
    },
    "GET /api/v1/me": (request) => (request.headers.Authorization === "Bearer access-2" ? json(200, { email: "a@example.com" }) : expired),
  });
  const kept = [];
  const client = new SamoohClient({ baseUrl: "http://samooh.test/", fetch, onTokens: (p) => kept.push(p?.refresh_token ?? null) });
  await client.logIn("a@example.com", "pw");
  const answers = await Promise.all([client.api("GET", "/api/v1/me"), client.api("GET", "/api/v1/me"), client.api("GET", "/api/v1/me")]);
  assert.deepEqual(answers.map((a) => a.email), ["a@example.com", "a@example.com", "a@example.com"]);
  assert.equal(rotations, 1);
  assert.deepEqual(kept, ["refresh-1", "refresh-2"]);
  assert.equal(requests.filter((r) => r.path === "/api/v1/me").length, 6); // 3 refused, 3 retried
});

test("a refresh whose answer was lost is asked again with the same token and nonce", async () => {
  let attempts = 0;
  const nonces = [];
  const { fetch } = server({
    "POST /api/v1/auth/login": () => json(200, pair(1)),
    "POST /api/v1/auth/refresh": (request) => {
      attempts += 1;
      nonces.push([request.body.refresh_token, request.body.client_nonce]);
      if (attempts === 1) throw new TypeError("fetch failed"); // the network dropped the answer
      return json(200, pair(2));
    },
  });
  const client = new SamoohClient({ baseUrl: "http://samooh.test", fetch });
  await client.logIn("a@example.com", "pw");
  await assert.rejects(client.refresh(), (error) => error instanceof SamoohError && error.code === "network_error" && error.status === 0);
  assert.equal(client.signedIn, true); // a network failure keeps the session
  assert.equal(await client.refresh(), "access-2");
  assert.equal(nonces.length, 2);
  assert.deepEqual(nonces[1], nonces[0]);
  await client.refresh();
  assert.equal(nonces.length, 3);
  assert.notEqual(nonces[2][1], nonces[0][1]); // the next refresh has a nonce of its own
  assert.equal(nonces[2][0], "refresh-2");
});

test("a refused refresh ends the session: the tokens are dropped and the app is told why", async () => {
  const { fetch } = server({
    "POST /api/v1/auth/login": () => json(200, pair(1, 0)),
    "POST /api/v1/auth/refresh": () => json(401, { error: { code: "refresh_token_reused", message: "Reused.", details: {} } }),
  });
  const kept = [];
  const ended = [];
  const client = new SamoohClient({ baseUrl: "http://samooh.test", fetch, onTokens: (p) => kept.push(p && p.refresh_token), onSessionEnded: (e) => ended.push(e.code) });
  await client.logIn("a@example.com", "pw");
  // The access token expired at once (expires_in 0): the call refreshes first, and is refused.
  await assert.rejects(client.me(), (error) => error instanceof SamoohError && error.code === "refresh_token_reused" && error.status === 401);
  assert.deepEqual(kept, ["refresh-1", null]);
  assert.deepEqual(ended, ["refresh_token_reused"]);
  assert.equal(client.signedIn, false);
  await assert.rejects(client.me(), (error) => error.code === "not_signed_in");
});

test("error answers become SamoohError with code, message, details and status", async () => {
  const { fetch, requests } = server({
    "POST /api/v1/auth/login": (request) =>
      request.body.otp
        ? json(200, pair(1))
        : json(401, { error: { code: "mfa_required", message: "Enter your code.", details: { mfa_token: "m-1" } } }),
    "PATCH /api/v1/me": () => json(422, { error: { code: "validation_error", message: "Invalid.", details: { errors: [{ loc: ["sms"] }] } } }),
    "GET /api/v1/clubs/abc%2Fdef": () => ({ status: 502, ok: false, text: async () => "<html>Bad gateway</html>" }),
    "POST /api/v1/auth/logout": () => json(200, { revoked_sessions: 1 }),
  });
  const client = new SamoohClient({ baseUrl: "http://samooh.test", fetch, headers: { "X-App": "mobile" } });
  const mfa = await client.logIn("a@example.com", "pw").catch((error) => error);
  assert.ok(mfa instanceof SamoohError);
  assert.deepEqual([mfa.code, mfa.message, mfa.status, mfa.details], ["mfa_required", "Enter your code.", 401, { mfa_token: "m-1" }]);
  assert.equal(mfa.isRefusal, true);
  await client.logIn("a@example.com", "pw", "123456");
  const invalid = await client.setNotificationPreferences({ sms: true }).catch((error) => error);
  assert.deepEqual([invalid.code, invalid.status, invalid.details], ["validation_error", 422, { errors: [{ loc: ["sms"] }] }]);
  assert.deepEqual(requests.at(-1).body, { notification_preferences: { sms: true } });
  const gateway = await client.request("get", "/api/v1/clubs/{club_id}", { path: { club_id: "abc/def" } }).catch((error) => error);
  assert.deepEqual([gateway.code, gateway.status, gateway.isRefusal], ["unexpected", 502, false]);
  assert.equal(requests.at(-1).headers["X-App"], "mobile");
  assert.equal(requests.at(-1).headers.Authorization, "Bearer access-1");
  await client.logOut();
  assert.deepEqual(requests.at(-1).body, { all_sessions: false });
  assert.equal(client.signedIn, false);
});

test("query parameters and idempotency keys are sent as given", async () => {
  const { fetch, requests } = server({
    "POST /api/v1/auth/login": () => json(200, pair(1)),
    "GET /api/v1/clubs/c1/events": () => json(200, { events: [], seq: 0, truncated: false }),
  });
  const client = new SamoohClient({ baseUrl: "http://samooh.test", fetch });
  await client.logIn("a@example.com", "pw");
  await client.request("get", "/api/v1/clubs/{club_id}/events", { path: { club_id: "c1" }, query: { after_seq: 7, limit: undefined }, idempotencyKey: "k-1" });
  assert.equal(requests.at(-1).path, "/api/v1/clubs/c1/events?after_seq=7");
  assert.equal(requests.at(-1).headers["Idempotency-Key"], "k-1");
});
