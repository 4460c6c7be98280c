import { sql } from "drizzle-orm";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createTestApp, type TestApp, type TestResponse, useTestApp } from "../../test/harness.ts";
import { createTestDatabase } from "../../test/test-database.ts";
import { minEventBurst } from "../config.ts";
import { type Database, wrapPool } from "../db/client.ts";
import { maxEventsPerBatch } from "../routes/usage/ingest-events.ts";

/**
 * Tenant limits (issue 11): token buckets per API key (requests) and per platform (usage
 * events), kept in the database (PGlite here, PostgreSQL with DATABASE_URL), on the database's
 * clock. The defaults below are tiny so that a few requests empty a bucket; each test uses
 * fresh platforms and keys, so their buckets start full.
 */
const limits = {
  BILLING_RATE_LIMIT_REQUESTS_PER_SECOND: "1",
  BILLING_RATE_LIMIT_REQUEST_BURST: "3",
  BILLING_RATE_LIMIT_EVENTS_PER_SECOND: "1",
  BILLING_RATE_LIMIT_EVENT_BURST: "1000",
};
const t = await useTestApp({ env: limits });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let sequence = 0;
/** `n` new api_requests events for a platform. */
const batch = (platformId: string, n: number) =>
  Array.from({ length: n }, () => {
    sequence += 1;
    return { id: `rl_${sequence}`, platformId, meter: "api_requests" };
  });

const ingest = (
  app: TestApp,
  key: string,
  events: unknown[],
  headers: Record<string, string> = {},
) => app.request("POST", "/usage/events", { key, body: { events }, headers });

const readUsage = (app: TestApp, key: string, platformId: string) =>
  app.request("GET", `/usage/current?platformId=${platformId}`, { key });

const count = async (app: TestApp, query: ReturnType<typeof sql>) => {
  const res = (await app.database.db.execute(query)) as unknown as { rows: Array<{ n: number }> };
  return Number(res.rows[0]?.n);
};
const storedEvents = (app: TestApp, platformId: string) =>
  count(app, sql`select count(*)::int as n from usage_events where platform_id = ${platformId}`);

const rateHeaders = (res: TestResponse) => ({
  limit: res.headers.get("ratelimit-limit"),
  remaining: res.headers.get("ratelimit-remaining"),
  reset: res.headers.get("ratelimit-reset"),
  policy: res.headers.get("ratelimit-policy"),
  retryAfter: res.headers.get("retry-after"),
});

const expectRateLimited = (res: TestResponse) => {
  expect(res.status, res.text).toBe(429);
  expect(res.body.error.code).toBe("RATE_LIMITED");
  expect(res.body.error.requestId).toBe(res.headers.get("x-request-id"));
};

describe("requests per API key", () => {
  it("answers 429 with Retry-After and RateLimit headers once a key's bucket is empty", async () => {
    const p = await t.createPlatform();
    const seen: Array<ReturnType<typeof rateHeaders>> = [];
    for (let i = 0; i < 3; i++) {
      const res = await readUsage(t, p.key, p.platformId);
      expect(res.status, res.text).toBe(200);
      seen.push(rateHeaders(res));
    }
    // A bucket of 3, refilled at 1/s: the remaining count falls, the reset grows.
    expect(seen.map((h) => h.remaining)).toEqual(["2", "1", "0"]);
    expect(seen.every((h) => h.limit === "3" && h.policy === "3;w=3")).toBe(true);
    expect(seen.map((h) => h.retryAfter)).toEqual([null, null, null]);
    expect(seen[2]?.reset).toBe("3");

    const refused = await readUsage(t, p.key, p.platformId);
    expectRateLimited(refused);
    expect(rateHeaders(refused)).toEqual({
      limit: "3",
      remaining: "0",
      reset: "3",
      policy: "3;w=3",
      retryAfter: "1",
    });
    expect(refused.body.error.details).toMatchObject({
      limit: "requests",
      platformId: p.platformId,
      ratePerSecond: 1,
      burst: 3,
      cost: 1,
      remaining: 0,
      retryAfterSeconds: 1,
    });

    // Retry-After is right: waiting that long is enough for one more request (a timer that
    // fires late on a busy machine may have let a second token in, not more).
    await sleep(Number(refused.headers.get("retry-after")) * 1000);
    const again = await readUsage(t, p.key, p.platformId);
    expect(again.status, again.text).toBe(200);
    expect(Number(again.headers.get("ratelimit-remaining"))).toBeLessThanOrEqual(1);
  });

  it("limits each key on its own: another key, another platform and the operator go on", async () => {
    const p = await t.createPlatform();
    const secondKey = (await t.request("POST", `/operator/platforms/${p.platformId}/api-keys`, {}))
      .body.key as string;
    const other = await t.createPlatform();
    for (let i = 0; i < 3; i++) expect((await readUsage(t, p.key, p.platformId)).status).toBe(200);
    expectRateLimited(await readUsage(t, p.key, p.platformId));

    const sameplatform = await readUsage(t, secondKey, p.platformId);
    expect(sameplatform.status).toBe(200);
    expect(sameplatform.headers.get("ratelimit-remaining")).toBe("2");
    expect((await readUsage(t, other.key, other.platformId)).status).toBe(200);
    const operator = await t.request("GET", `/usage/current?platformId=${p.platformId}`);
    expect(operator.status).toBe(200);
    // The operator key has its own, larger bucket (defaults 1,000/s, bursts of 2,000).
    expect(operator.headers.get("ratelimit-limit")).toBe("2000");
  });

  it("refuses before Idempotency-Key is looked at: a refused request stores no record", async () => {
    const p = await t.createPlatform();
    for (let i = 0; i < 3; i++) expect((await readUsage(t, p.key, p.platformId)).status).toBe(200);
    const records = () => count(t, sql`select count(*)::int as n from idempotency_keys`);
    const before = await records();
    const headers = { "idempotency-key": `rl-${p.platformId}` };
    const events = batch(p.platformId, 2);

    expectRateLimited(await ingest(t, p.key, events, headers));
    expect(await records()).toBe(before);
    expect(await storedEvents(t, p.platformId)).toBe(0);

    await sleep(1000);
    const done = await ingest(t, p.key, events, headers);
    expect(done.status, done.text).toBe(200);
    expect(done.headers.get("idempotent-replayed")).toBeNull();
    expect(done.body).toEqual({ accepted: 2, duplicates: 0 });
    expect(await records()).toBe(before + 1);
    // The replay spends a request token too, and says so.
    await sleep(1000);
    const replayed = await ingest(t, p.key, events, headers);
    expect(replayed.headers.get("idempotent-replayed")).toBe("true");
    expect(replayed.body).toEqual({ accepted: 2, duplicates: 0 });
    expect(replayed.headers.get("ratelimit-limit")).toBe("3");
    expect(Number(replayed.headers.get("ratelimit-remaining"))).toBeLessThanOrEqual(1);
  });

  it("answers a key that keeps sending after its 429 without asking the store again", async () => {
    const p = await t.createPlatform();
    for (let i = 0; i < 3; i++) expect((await readUsage(t, p.key, p.platformId)).status).toBe(200);
    expectRateLimited(await readUsage(t, p.key, p.platformId));
    const row = async () => {
      const res = (await t.database.db.execute(
        sql`select refilled_at::text as at, granted from rate_limit_buckets where platform_id = ${p.platformId}`,
      )) as unknown as { rows: Array<{ at: string; granted: boolean }> };
      return res.rows;
    };
    const afterRefusal = await row();
    expect(afterRefusal).toEqual([{ at: expect.any(String), granted: false }]);
    for (let i = 0; i < 5; i++) {
      const res = await readUsage(t, p.key, p.platformId);
      expectRateLimited(res);
      expect(res.headers.get("retry-after")).toBe("1");
      expect(res.headers.get("ratelimit-remaining")).toBe("0");
    }
    expect(await row()).toEqual(afterRefusal);

    // The operator raising the platform's rate takes effect at once all the same: a token comes
    // after 0.1 s now, long before the 1 s this instance had noted.
    const raised = await t.request("PUT", `/operator/platforms/${p.platformId}/limits`, {
      body: { requestBurst: 10, requestsPerSecond: 10 },
    });
    expect(raised.status).toBe(200);
    await sleep(200);
    const after = await readUsage(t, p.key, p.platformId);
    expect(after.status, after.text).toBe(200);
    expect(after.headers.get("ratelimit-limit")).toBe("10");
  });

  it("keeps unauthenticated requests out of every bucket (they are 401 first)", async () => {
    const res = await t.request("GET", "/usage/current", { key: "nno_sk_not_a_key" });
    expect(res.status).toBe(401);
    expect(res.headers.get("ratelimit-limit")).toBeNull();
  });
});

describe("usage events per platform", () => {
  it("refuses a batch the platform's bucket cannot cover, whole, and its keys share the bucket", async () => {
    const p = await t.createPlatform();
    const serviceKey = (
      await t.request("POST", `/operator/platforms/${p.platformId}/api-keys`, {
        body: { scopes: ["usage:write"] },
      })
    ).body.key as string;

    const first = await ingest(t, serviceKey, batch(p.platformId, 600));
    expect(first.status, first.text).toBe(200);
    expect(first.body).toEqual({ accepted: 600, duplicates: 0 });

    // The platform key draws on the same 1,000 events: 400 (and a little refill) are left.
    const idempotencyKey = { "idempotency-key": `events-${p.platformId}` };
    const refused = await ingest(t, p.key, batch(p.platformId, 600), idempotencyKey);
    expectRateLimited(refused);
    const h = rateHeaders(refused);
    expect(h.limit).toBe("1000");
    expect(Number(h.remaining)).toBeGreaterThanOrEqual(400);
    expect(Number(h.remaining)).toBeLessThan(410);
    // 600 needed, ~400 there, 1 event/s: about 200 s.
    expect(Number(h.retryAfter)).toBeGreaterThan(190);
    expect(Number(h.retryAfter)).toBeLessThanOrEqual(200);
    expect(refused.body.error.details).toMatchObject({
      limit: "events",
      platformId: p.platformId,
      cost: 600,
      burst: 1000,
    });
    expect(refused.body.error.message).toContain(p.platformId);
    // Nothing of it was stored, and the key may be used again later.
    expect(await storedEvents(t, p.platformId)).toBe(600);
    expect(
      await count(
        t,
        sql`select count(*)::int as n from usage_event_keys where platform_id = ${p.platformId}`,
      ),
    ).toBe(600);

    const rest = await ingest(t, p.key, batch(p.platformId, 400), idempotencyKey);
    expect(rest.status, rest.text).toBe(200);
    expect(rest.body).toEqual({ accepted: 400, duplicates: 0 });
    expect(await storedEvents(t, p.platformId)).toBe(1000);
    expectRateLimited(await ingest(t, serviceKey, batch(p.platformId, 5)));

    // Another platform has its own bucket.
    const other = await t.createPlatform();
    expect((await ingest(t, other.key, batch(other.platformId, 1000))).status).toBe(200);
  });

  it("refuses a batch naming several platforms whole when one of them is short, spending none", async () => {
    const empty = await t.createPlatform();
    const fresh = await t.createPlatform();
    expect((await ingest(t, t.operatorKey, batch(empty.platformId, 900))).status).toBe(200);

    const mixed = [...batch(fresh.platformId, 500), ...batch(empty.platformId, 200)];
    const refused = await ingest(t, t.operatorKey, mixed);
    expectRateLimited(refused);
    expect(refused.body.error.details).toMatchObject({ platformId: empty.platformId, cost: 200 });
    expect(await storedEvents(t, fresh.platformId)).toBe(0);
    expect(await storedEvents(t, empty.platformId)).toBe(900);
    // The fresh platform's 500 were not taken: a full bucket's worth still goes through.
    const full = await ingest(t, fresh.key, batch(fresh.platformId, 1000));
    expect(full.status, full.text).toBe(200);
  });

  it("charges nothing for a batch that is invalid", async () => {
    const p = await t.createPlatform();
    const bad = await ingest(t, t.operatorKey, [
      ...batch(p.platformId, 999),
      { id: "x", platformId: p.platformId, meter: "no_such_meter" },
    ]);
    expect(bad.status).toBe(400);
    expect((await ingest(t, t.operatorKey, batch(p.platformId, 1000))).status).toBe(200);
  });

  it("keeps the event bucket at least as large as the largest batch", () => {
    expect(minEventBurst).toBe(maxEventsPerBatch);
  });
});

describe("per-platform overrides (PUT /operator/platforms/{platformId}/limits)", () => {
  it("shows the defaults until the operator sets some", async () => {
    const p = await t.createPlatform();
    const res = await t.request("GET", `/operator/platforms/${p.platformId}/limits`);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({
      platformId: p.platformId,
      limits: { requestsPerSecond: 1, requestBurst: 3, eventsPerSecond: 1, eventBurst: 1000 },
      overrides: {
        requestsPerSecond: null,
        requestBurst: null,
        eventsPerSecond: null,
        eventBurst: null,
      },
      updatedAt: null,
    });
  });

  it("raises a platform's request limit for each of its keys", async () => {
    const p = await t.createPlatform();
    const put = await t.request("PUT", `/operator/platforms/${p.platformId}/limits`, {
      body: { requestBurst: 6 },
    });
    expect(put.status, put.text).toBe(200);
    expect(put.body.limits).toEqual({
      requestsPerSecond: 1,
      requestBurst: 6,
      eventsPerSecond: 1,
      eventBurst: 1000,
    });
    expect(put.body.overrides.requestBurst).toBe(6);
    expect(put.body.updatedAt).toBe(t.clock.now().toISOString());
    for (let i = 0; i < 6; i++) {
      const res = await readUsage(t, p.key, p.platformId);
      expect(res.status, res.text).toBe(200);
      expect(res.headers.get("ratelimit-limit")).toBe("6");
    }
    expectRateLimited(await readUsage(t, p.key, p.platformId));
    // Other platforms keep the default.
    const other = await t.createPlatform();
    expect((await readUsage(t, other.key, other.platformId)).headers.get("ratelimit-limit")).toBe(
      "3",
    );
  });

  it("raises and lowers a platform's event budget, and {} goes back to the defaults", async () => {
    const p = await t.createPlatform();
    const set = (body: unknown) =>
      t.request("PUT", `/operator/platforms/${p.platformId}/limits`, { body });
    expect((await set({ eventBurst: 3000 })).status).toBe(200);
    for (let i = 0; i < 3; i++) {
      const res = await ingest(t, t.operatorKey, batch(p.platformId, 1000));
      expect(res.status, res.text).toBe(200);
    }
    expectRateLimited(await ingest(t, t.operatorKey, batch(p.platformId, 10)));

    // Lowered below what the bucket holds: the bucket shrinks to the new size at once.
    const q = await t.createPlatform();
    expect((await ingest(t, t.operatorKey, batch(q.platformId, 100))).status).toBe(200);
    const lower = await t.request("PUT", `/operator/platforms/${q.platformId}/limits`, {
      body: { eventBurst: 1000, eventsPerSecond: 0.5 },
    });
    expect(lower.body.limits).toMatchObject({ eventBurst: 1000, eventsPerSecond: 0.5 });
    const refused = await ingest(t, t.operatorKey, batch(q.platformId, 950));
    expectRateLimited(refused);
    // 950 needed, ~900 there, 0.5 events/s: about 100 s.
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(95);
    expect(refused.body.error.details).toMatchObject({ ratePerSecond: 0.5, burst: 1000 });

    const reset = await set({});
    expect(reset.status).toBe(200);
    expect(reset.body.overrides).toEqual({
      requestsPerSecond: null,
      requestBurst: null,
      eventsPerSecond: null,
      eventBurst: null,
    });
    expect(reset.body.updatedAt).toBeNull();
    expect(
      await count(
        t,
        sql`select count(*)::int as n from platform_rate_limits where platform_id = ${p.platformId}`,
      ),
    ).toBe(0);
  });

  it("validates the limits and who may set them", async () => {
    const p = await t.createPlatform();
    const path = `/operator/platforms/${p.platformId}/limits`;
    const tooSmall = await t.request("PUT", path, { body: { eventBurst: 999 } });
    expect(tooSmall.status).toBe(400);
    expect(tooSmall.body.error.code).toBe("VALIDATION_ERROR");
    expect((await t.request("PUT", path, { body: { requestsPerSecond: 0 } })).status).toBe(400);
    expect((await t.request("PUT", path, { body: { burst: 5 } })).status).toBe(400);
    expect((await t.request("PUT", "/operator/platforms/nope/limits", { body: {} })).status).toBe(
      404,
    );
    expect((await t.request("GET", "/operator/platforms/nope/limits")).status).toBe(404);
    expect((await t.request("PUT", path, { key: p.key, body: { requestBurst: 1e6 } })).status).toBe(
      403,
    );
    expect((await t.request("GET", path, { key: p.key })).status).toBe(403);
  });
});

describe("BILLING_RATE_LIMITS=off", () => {
  it("checks nothing and sends no RateLimit headers", async () => {
    const off = await createTestApp({ env: { ...limits, BILLING_RATE_LIMITS: "off" } });
    try {
      const p = await off.createPlatform();
      for (let i = 0; i < 6; i++) {
        const res = await readUsage(off, p.key, p.platformId);
        expect(res.status).toBe(200);
        expect(res.headers.get("ratelimit-limit")).toBeNull();
      }
      expect(off.deps.rateLimiter.store).toBe("off");
    } finally {
      await off.close();
    }
  });
});

describe("two instances over one database", () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  /**
   * Two apps as two servers would be: on PostgreSQL each with its own connection pool to the
   * same database; on PGlite (one process by nature) over the same embedded database.
   */
  const twoInstances = async (env: Record<string, string>) => {
    const database = await createTestDatabase();
    cleanups.push(() => database.close());
    const url = (database as Database & { url?: string }).url;
    let second: Database = database;
    if (url) {
      second = wrapPool(new pg.Pool({ connectionString: url, max: 5 }));
      cleanups.push(() => second.close());
    }
    const a = await createTestApp({ env, database });
    const b = await createTestApp({ env, database: second });
    cleanups.push(
      () => a.deps.rateLimiter.close(),
      () => b.deps.rateLimiter.close(),
    );
    return { a, b };
  };

  it("share one bucket per key, also under concurrent requests", async () => {
    const { a, b } = await twoInstances({
      ...limits,
      BILLING_RATE_LIMIT_REQUESTS_PER_SECOND: "0.01",
      BILLING_RATE_LIMIT_REQUEST_BURST: "6",
    });
    const p = await a.createPlatform();
    // One after the other, alternating instances: 6 in all, then both refuse.
    for (let i = 0; i < 3; i++) {
      expect((await readUsage(a, p.key, p.platformId)).status).toBe(200);
      const fromB = await readUsage(b, p.key, p.platformId);
      expect(fromB.status).toBe(200);
      expect(fromB.headers.get("ratelimit-remaining")).toBe(String(6 - 2 * (i + 1)));
    }
    expectRateLimited(await readUsage(a, p.key, p.platformId));
    expectRateLimited(await readUsage(b, p.key, p.platformId));

    // Twenty at once, half on each instance, on a fresh key: exactly the burst gets through.
    const q = await a.createPlatform();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => readUsage(i % 2 ? a : b, q.key, q.platformId)),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(6);
    expect(results.filter((r) => r.status === 429)).toHaveLength(14);
    expect(await storeErrors(a)).toBe(0);
    expect(await storeErrors(b)).toBe(0);
  });

  it("share a platform's event bucket, and the operator's override reaches both", async () => {
    const { a, b } = await twoInstances(limits);
    const p = await a.createPlatform();
    expect((await ingest(a, p.key, batch(p.platformId, 700))).status).toBe(200);
    expectRateLimited(await ingest(b, p.key, batch(p.platformId, 700)));

    const raised = await a.request("PUT", `/operator/platforms/${p.platformId}/limits`, {
      body: { eventBurst: 1e6, eventsPerSecond: 1e6 },
    });
    expect(raised.status).toBe(200);
    const fromB = await ingest(b, p.key, batch(p.platformId, 700));
    expect(fromB.status, fromB.text).toBe(200);
    expect(await storedEvents(a, p.platformId)).toBe(1400);
    expect(await storeErrors(a)).toBe(0);
    expect(await storeErrors(b)).toBe(0);
  });
});

/** Checks the store could not answer (each let a request through unchecked). */
const storeErrors = async (app: TestApp) => {
  const metric = app.deps.metrics.getSingleMetric("billing_rate_limit_errors_total");
  const values = (await metric?.get())?.values ?? [];
  return values.reduce((sum, v) => sum + v.value, 0);
};

describe("the store", () => {
  it("answered every check of this file (none passed unchecked)", async () => {
    expect(t.deps.rateLimiter.store).toBe("postgres");
    expect(await storeErrors(t)).toBe(0);
    const refused = await t.deps.metrics.getSingleMetric("billing_rate_limited_total")?.get();
    const byBucket = Object.fromEntries(
      (refused?.values ?? []).map((v) => [v.labels.bucket, v.value]),
    );
    expect(byBucket.requests).toBeGreaterThan(0);
    expect(byBucket.events).toBeGreaterThan(0);
  });
});
