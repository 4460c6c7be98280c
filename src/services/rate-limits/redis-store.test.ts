import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { sql } from "drizzle-orm";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createTestApp, type TestApp, type TestResponse } from "../../../test/harness.ts";
import { createTestDatabase } from "../../../test/test-database.ts";
import { type Database, wrapPool } from "../../db/client.ts";

/**
 * The rate limiter's Redis store (REDIS_URL): the same buckets in Redis, spent by a Lua script,
 * shared by every instance. It runs against REDIS_URL, or the machine's Redis at
 * 127.0.0.1:6379, under a key prefix of its own that it deletes afterwards. When REDIS_URL is
 * set, an unreachable Redis fails the file; when it is not set and no Redis runs here, the Redis
 * test checks only that the reason is an unreachable server. The fail-open test needs no Redis.
 */
const explicitUrl = process.env.REDIS_URL;
const redisUrl = explicitUrl ?? "redis://127.0.0.1:6379";
const prefix = `nno:test:${randomBytes(6).toString("hex")}:`;

/** Why Redis cannot be reached at `url`, or undefined when it answers PING. */
const unreachable = async (url: string): Promise<Error | undefined> => {
  const probe = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  probe.on("error", () => {});
  try {
    await probe.connect();
    expect(await probe.ping()).toBe("PONG");
    return undefined;
  } catch (error) {
    return error as Error;
  } finally {
    probe.disconnect();
  }
};

/** A TCP port on loopback that nothing listens on. */
const closedPort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 1));
    });
  });

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

let sequence = 0;
const batch = (platformId: string, n: number) =>
  Array.from({ length: n }, () => {
    sequence += 1;
    return { id: `rr_${sequence}`, platformId, meter: "api_requests" };
  });
const ingest = (app: TestApp, key: string, events: unknown[]) =>
  app.request("POST", "/usage/events", { key, body: { events } });
const readUsage = (app: TestApp, key: string, platformId: string) =>
  app.request("GET", `/usage/current?platformId=${platformId}`, { key });
const count = async (app: TestApp, query: ReturnType<typeof sql>) => {
  const res = (await app.database.db.execute(query)) as unknown as { rows: Array<{ n: number }> };
  return Number(res.rows[0]?.n);
};
const storeErrors = async (app: TestApp) => {
  const values =
    (await app.deps.metrics.getSingleMetric("billing_rate_limit_errors_total")?.get())?.values ??
    [];
  return values.reduce((sum, v) => sum + v.value, 0);
};
const expectRateLimited = (res: TestResponse) => {
  expect(res.status, res.text).toBe(429);
  expect(res.body.error.code).toBe("RATE_LIMITED");
};

const limits = {
  BILLING_RATE_LIMIT_REQUESTS_PER_SECOND: "1",
  BILLING_RATE_LIMIT_REQUEST_BURST: "3",
  BILLING_RATE_LIMIT_EVENTS_PER_SECOND: "1",
  BILLING_RATE_LIMIT_EVENT_BURST: "1000",
};

/** Two apps over one database (own pools on PostgreSQL), both limiting through Redis. */
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

describe("rate limits in Redis", () => {
  it("let requests through, counted, when Redis cannot be reached (fail open)", async () => {
    const port = await closedPort();
    const app = await createTestApp({
      env: {
        ...limits,
        REDIS_URL: `redis://127.0.0.1:${port}`,
        BILLING_RATE_LIMIT_REDIS_PREFIX: prefix,
      },
    });
    cleanups.push(() => app.close());
    expect(app.deps.rateLimiter.store).toBe("redis");
    const p = await app.createPlatform();
    const started = performance.now();
    for (let i = 0; i < 6; i++) {
      const res = await readUsage(app, p.key, p.platformId);
      expect(res.status, res.text).toBe(200);
      expect(res.headers.get("ratelimit-limit")).toBeNull();
    }
    // Every check failed at once (no queueing while Redis is away), each one counted.
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(await storeErrors(app)).toBeGreaterThanOrEqual(6);
  });

  it("keep one bucket per key and per platform for every instance", async () => {
    const why = await unreachable(redisUrl);
    if (why) {
      if (explicitUrl) {
        throw new Error(`REDIS_URL=${explicitUrl} is set but Redis cannot be reached: ${why}`);
      }
      // No REDIS_URL and no Redis on this machine: make sure that is the reason, and say so.
      expect(why.message).toMatch(/ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|connect/i);
      console.warn(`Redis store not exercised: ${redisUrl} unreachable (${why.message})`);
      return;
    }
    const redis = new Redis(redisUrl);
    cleanups.push(async () => {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    });

    const { a, b } = await twoInstances({
      ...limits,
      REDIS_URL: redisUrl,
      BILLING_RATE_LIMIT_REDIS_PREFIX: prefix,
    });
    expect(a.deps.rateLimiter.store).toBe("redis");

    // Requests: one bucket of 3 for the key, spent alternately on the two instances.
    const p = await a.createPlatform();
    const remaining: Array<string | null> = [];
    for (const app of [a, b, a]) {
      const res = await readUsage(app, p.key, p.platformId);
      expect(res.status, res.text).toBe(200);
      remaining.push(res.headers.get("ratelimit-remaining"));
    }
    expect(remaining).toEqual(["2", "1", "0"]);
    const bucketKey = `${prefix}key:${p.keyId}`;
    const before = await redis.hgetall(bucketKey);
    const refused = await readUsage(b, p.key, p.platformId);
    expectRateLimited(refused);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(refused.headers.get("ratelimit-limit")).toBe("3");
    expect(refused.headers.get("ratelimit-remaining")).toBe("0");
    // A refused check writes nothing; the bucket expires once it would be full again.
    expect(await redis.hgetall(bucketKey)).toEqual(before);
    const ttl = await redis.pttl(bucketKey);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(4_000);
    // Nothing of it is in the database.
    expect(await count(a, sql`select count(*)::int as n from rate_limit_buckets`)).toBe(0);

    // Twenty at once over both instances, on a fresh key: exactly the burst goes through.
    const q = await a.createPlatform();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => readUsage(i % 2 ? a : b, q.key, q.platformId)),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(3);

    // Events: the platform's bucket, shared; a batch over it is refused whole.
    const e = await a.createPlatform();
    expect((await ingest(a, a.operatorKey, batch(e.platformId, 700))).status).toBe(200);
    const over = await ingest(b, b.operatorKey, batch(e.platformId, 700));
    expectRateLimited(over);
    expect(over.body.error.details).toMatchObject({ limit: "events", cost: 700, burst: 1000 });
    expect(
      await count(
        a,
        sql`select count(*)::int as n from usage_events where platform_id = ${e.platformId}`,
      ),
    ).toBe(700);

    // Several platforms in one batch: all or nothing, atomically in the script.
    const f = await a.createPlatform();
    expectRateLimited(
      await ingest(a, a.operatorKey, [...batch(f.platformId, 600), ...batch(e.platformId, 400)]),
    );
    expect((await ingest(a, a.operatorKey, batch(f.platformId, 1000))).status).toBe(200);

    // The operator's override: at once on the instance that took it, within 2 s on the other.
    const put = await a.request("PUT", `/operator/platforms/${e.platformId}/limits`, {
      body: { eventBurst: 1e6, eventsPerSecond: 1e6 },
    });
    expect(put.status).toBe(200);
    expect((await ingest(a, a.operatorKey, batch(e.platformId, 700))).status).toBe(200);
    const deadline = performance.now() + 3_000;
    let fromB = await ingest(b, b.operatorKey, batch(e.platformId, 700));
    while (fromB.status === 429 && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      fromB = await ingest(b, b.operatorKey, batch(e.platformId, 700));
    }
    expect(fromB.status, fromB.text).toBe(200);

    expect(await storeErrors(a)).toBe(0);
    expect(await storeErrors(b)).toBe(0);
  });
});
