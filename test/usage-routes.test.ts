import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { subscriptions } from "../src/db/schema/index.ts";
import { usageForPeriod, usageForPeriods } from "../src/services/usage/index.ts";
import { useTestApp } from "./harness.ts";

/**
 * Usage metering through HTTP: ingestion (validation, dedup, who may write), the five reads and
 * alerts, on a real database with a clock that stands still (2026-01-15T12:00Z).
 */
const t = await useTestApp();
const day = 86_400_000;

interface EventSpec {
  id: string;
  platformId: string;
  tenantId?: string | null;
  meter: string;
  value?: number;
  timestamp?: string | number;
  properties?: Record<string, unknown>;
}

let sequence = 0;
const id = () => {
  sequence += 1;
  return `evt_${sequence}`;
};

const ingest = (events: EventSpec[], key?: string, prefix = "") =>
  t.request("POST", `${prefix}/usage/events`, { body: { events }, ...(key ? { key } : {}) });

const current = async (platformId: string, opts: { tenantId?: string; key?: string } = {}) => {
  const query = new URLSearchParams({
    platformId,
    ...(opts.tenantId ? { tenantId: opts.tenantId } : {}),
  });
  const res = await t.request("GET", `/usage/current?${query}`, opts.key ? { key: opts.key } : {});
  expect(res.status, res.text).toBe(200);
  return res.body as {
    periodStart: string;
    periodEnd: string;
    tenantId: string | null;
    meters: Array<{
      meter: string;
      unit: string;
      aggregation: string;
      value: number;
      included: number;
      overage: number;
      percentUsed: number;
    }>;
  };
};

const values = async (platformId: string, opts: { tenantId?: string; key?: string } = {}) =>
  Object.fromEntries((await current(platformId, opts)).meters.map((m) => [m.meter, m.value]));

const rawCount = async (platformId: string) => {
  const res = (await t.database.db.execute(
    sql`select count(*)::int as n from usage_events where platform_id = ${platformId}`,
  )) as unknown as { rows: Array<{ n: number }> };
  return Number(res.rows[0]?.n);
};

/**
 * Runs one statement in a transaction of its own connection and keeps that transaction open
 * while `meanwhile` runs, then commits.
 */
const holdInTransaction = async (
  statement: { text: string; params: unknown[] },
  meanwhile: () => Promise<void>,
) => {
  const { pool, pglite } = t.database;
  if (pool) {
    const client = await pool.connect();
    try {
      await client.query("begin");
      await client.query(statement.text, statement.params);
      await meanwhile();
      await client.query("commit");
    } finally {
      client.release();
    }
    return;
  }
  await pglite?.transaction(async (tx) => {
    await tx.query(statement.text, statement.params);
    await meanwhile();
  });
};

const subscribe = async (
  p: { platformId: string; customerId: string },
  opts: { tier?: "starter" | "growth" | "scale"; start: Date; end: Date },
) => {
  const tier = opts.tier ?? "starter";
  await t.database.db.insert(subscriptions).values({
    platformId: p.platformId,
    id: `sub_usage_${p.platformId}`,
    customerId: p.customerId,
    status: "active",
    tier,
    priceId: `price_${tier}_monthly`,
    interval: "month",
    unitAmount: 2900,
    currency: "usd",
    billingAnchor: opts.start,
    currentPeriodStart: opts.start,
    currentPeriodEnd: opts.end,
    createdAt: opts.start,
    updatedAt: t.clock.now(),
  });
};

describe("POST /usage/events", () => {
  it("stores events and rolls every aggregation up, under both prefixes", async () => {
    const p = await t.createPlatform();
    const at = (minutesAgo: number) => new Date(t.clock.now().getTime() - minutesAgo * 60_000);
    const res = await ingest([
      { id: id(), platformId: p.platformId, meter: "api_requests", value: 3 },
      { id: id(), platformId: p.platformId, meter: "api_requests" },
      { id: id(), platformId: p.platformId, tenantId: "t1", meter: "bandwidth_gb", value: 1.1 },
      { id: id(), platformId: p.platformId, tenantId: "t1", meter: "bandwidth_gb", value: 2.2 },
      {
        id: id(),
        platformId: p.platformId,
        meter: "storage_gb",
        value: 7,
        timestamp: at(30).toISOString(),
      },
      {
        id: id(),
        platformId: p.platformId,
        meter: "storage_gb",
        value: 4,
        timestamp: at(10).getTime() / 1000,
      },
      {
        id: id(),
        platformId: p.platformId,
        tenantId: "t1",
        meter: "active_users",
        properties: { userId: "u1" },
      },
      {
        id: id(),
        platformId: p.platformId,
        tenantId: "t1",
        meter: "active_users",
        properties: { userId: "u1" },
      },
      {
        id: id(),
        platformId: p.platformId,
        tenantId: "t2",
        meter: "active_users",
        properties: { userId: "u1" },
      },
      { id: id(), platformId: p.platformId, meter: "active_users", properties: { userId: 42 } },
    ]);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ accepted: 10, duplicates: 0 });

    const snapshot = await current(p.platformId);
    expect(snapshot.tenantId).toBeNull();
    expect(snapshot.periodStart).toBe("2026-01-01T00:00:00.000Z");
    expect(snapshot.periodEnd).toBe("2026-02-01T00:00:00.000Z");
    expect(snapshot.meters.map((m) => m.meter)).toEqual([
      "api_requests",
      "storage_gb",
      "bandwidth_gb",
      "active_users",
    ]);
    // Exact decimals: 1.1 + 2.2 is 3.3, not 3.3000000000000003.
    expect(await values(p.platformId)).toEqual({
      api_requests: 4,
      storage_gb: 7,
      bandwidth_gb: 3.3,
      // A user is one per tenant: u1 in t1, u1 in t2, 42 without a tenant.
      active_users: 3,
    });
    expect(await values(p.platformId, { tenantId: "t1" })).toEqual({
      api_requests: 0,
      storage_gb: 0,
      bandwidth_gb: 3.3,
      active_users: 1,
    });

    const prefixed = await ingest(
      [{ id: id(), platformId: p.platformId, meter: "api_requests", value: 10 }],
      undefined,
      "/api/billing",
    );
    expect(prefixed.status).toBe(200);
    expect((await values(p.platformId)).api_requests).toBe(14);
  });

  it("keeps the latest value of a `last` meter by timestamp, whatever the arrival order", async () => {
    // The default catalog has no `last` meter; the merge rule is the rollup's, checked directly.
    const p = await t.createPlatform();
    const now = t.clock.now().getTime();
    await ingest([
      {
        id: "late",
        platformId: p.platformId,
        meter: "storage_gb",
        value: 5,
        timestamp: (now - 60_000) / 1000,
      },
    ]);
    await ingest([
      {
        id: "early",
        platformId: p.platformId,
        meter: "storage_gb",
        value: 9,
        timestamp: (now - 120_000) / 1000,
      },
    ]);
    const res = (await t.database.db.execute(
      sql`select last_value::float8 as v, peak::float8 as peak from usage_platform_rollups where platform_id = ${p.platformId}`,
    )) as unknown as { rows: Array<{ v: number; peak: number }> };
    expect(res.rows).toEqual([{ v: 5, peak: 9 }]);
  });

  it("counts a repeated id once, across batches and inside one", async () => {
    const p = await t.createPlatform();
    const a = { id: "same", platformId: p.platformId, meter: "api_requests", value: 5 };
    expect((await ingest([a, { ...a, value: 100 }])).body).toEqual({ accepted: 1, duplicates: 1 });
    expect((await ingest([a, { ...a, id: "other" }])).body).toEqual({
      accepted: 1,
      duplicates: 1,
    });
    // The id is the key, whatever else changed (a retry with another value changes nothing).
    expect((await ingest([{ ...a, value: 7, tenantId: "t9" }])).body).toEqual({
      accepted: 0,
      duplicates: 1,
    });
    expect((await values(p.platformId)).api_requests).toBe(10);
    expect(await rawCount(p.platformId)).toBe(2);

    // The same id on another platform is another event.
    const q = await t.createPlatform();
    expect((await ingest([{ ...a, platformId: q.platformId }])).body).toEqual({
      accepted: 1,
      duplicates: 0,
    });
  });

  it("counts a distinct value first named by a duplicate when a new event brings it", async () => {
    const p = await t.createPlatform();
    const user = (id: string, userId: string) => ({
      id,
      platformId: p.platformId,
      tenantId: "t1",
      meter: "active_users",
      properties: { userId },
    });
    expect((await ingest([user("first", "u1")])).body).toEqual({ accepted: 1, duplicates: 0 });
    // A retry of "first" with another payload: a duplicate, so u2 has not occurred yet...
    expect((await ingest([user("first", "u2")])).body).toEqual({ accepted: 0, duplicates: 1 });
    expect((await values(p.platformId)).active_users).toBe(1);
    // ...until an event of its own brings it.
    expect((await ingest([user("second", "u2")])).body).toEqual({ accepted: 1, duplicates: 0 });
    expect((await values(p.platformId)).active_users).toBe(2);
  });

  it("counts an event whose key another transaction is storing as a duplicate once it commits", async () => {
    const p = await t.createPlatform();
    const event = { id: "in-flight", platformId: p.platformId, meter: "api_requests", value: 5 };
    const other = { ...event, id: "fresh" };
    let pending: Promise<Awaited<ReturnType<typeof ingest>>> | undefined;
    // Another writer has stored the key and not committed yet: the ingest waits for it (on
    // PostgreSQL its insert waits on the key, and fails and runs again once it commits; PGlite
    // runs one transaction at a time, so the ingest starts after the commit).
    await holdInTransaction(
      {
        text: "insert into usage_event_keys (platform_id, event_id) values ($1, $2)",
        params: [p.platformId, event.id],
      },
      async () => {
        pending = ingest([event, other]);
        await new Promise((resolve) => setTimeout(resolve, 200));
      },
    );
    const res = await (pending as NonNullable<typeof pending>);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ accepted: 1, duplicates: 1 });
    expect((await values(p.platformId)).api_requests).toBe(5);
    expect(await rawCount(p.platformId)).toBe(1);
  });

  it("stores each event's time to the millisecond, as ISO text or unix seconds", async () => {
    const p = await t.createPlatform();
    const now = t.clock.now().getTime();
    // Times all over the accepted window, with every kind of millisecond part.
    const times = Array.from({ length: 300 }, (_, k) => now - ((k * 7_919_993_777) % (35 * day)));
    times.push(now - 1, now - 999, now - 35 * day, now + 5 * 60_000);
    const res = await ingest(
      times.map((ms, k) => ({
        id: `ms_${k}`,
        platformId: p.platformId,
        meter: "api_requests",
        timestamp: k % 2 === 0 ? new Date(ms).toISOString() : ms / 1000,
      })),
    );
    expect(res.body).toEqual({ accepted: times.length, duplicates: 0 });
    const stored = (await t.database.db.execute(sql`
      select event_id, to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') as at
      from usage_events where platform_id = ${p.platformId}`)) as unknown as {
      rows: Array<{ event_id: string; at: string }>;
    };
    const expected = times.map((ms, k) => [
      `ms_${k}`,
      `${new Date(ms).toISOString().slice(0, 23)}000`,
    ]);
    expect(stored.rows.map((r) => [r.event_id, r.at]).sort()).toEqual(expected.sort());
  });

  it("validates the whole batch first: every bad index in details, nothing stored", async () => {
    const p = await t.createPlatform();
    const now = t.clock.now().getTime();
    const good = (n: number) => ({
      id: `ok_${n}`,
      platformId: p.platformId,
      meter: "api_requests",
    });
    const res = await ingest([
      good(0),
      { id: "x1", platformId: p.platformId, meter: "cpu_seconds" },
      good(2),
      {
        id: "x3",
        platformId: p.platformId,
        meter: "api_requests",
        timestamp: (now - 36 * day) / 1000,
      },
      {
        id: "x4",
        platformId: p.platformId,
        meter: "api_requests",
        timestamp: new Date(now + 6 * 60_000).toISOString(),
      },
      { id: "x5", platformId: "no_such_platform", meter: "api_requests" },
      { id: "x6", platformId: p.platformId, meter: "active_users", properties: {} },
      {
        id: "x7",
        platformId: p.platformId,
        meter: "active_users",
        properties: { userId: { a: 1 } },
      },
      good(8),
    ]);
    expect(res.status, res.text).toBe(400);
    expect(res.body.error.code).toBe("VALIDATION_ERROR");
    const indexes = [...new Set(res.body.error.details.map((d: { index: number }) => d.index))];
    expect(indexes).toEqual([1, 3, 4, 5, 6, 7]);
    for (const detail of res.body.error.details) {
      expect(detail.path.slice(0, 2)).toEqual(["events", detail.index]);
    }
    expect(await rawCount(p.platformId)).toBe(0);
    expect((await values(p.platformId)).api_requests).toBe(0);

    // Schema violations are reported per index too (zod issue paths).
    const shape = await ingest([
      good(10),
      { id: "", platformId: p.platformId, meter: "api_requests" },
      { id: "n2", platformId: p.platformId, meter: "api_requests", value: -1 },
      { platformId: p.platformId, meter: "api_requests" } as unknown as EventSpec,
      { id: "n4", platformId: p.platformId, meter: "api_requests", timestamp: "yesterday" },
    ]);
    expect(shape.status).toBe(400);
    const paths = shape.body.error.details.map((d: { path: unknown[] }) => d.path.slice(0, 2));
    expect(paths).toEqual(
      expect.arrayContaining([
        ["events", 1],
        ["events", 2],
        ["events", 3],
        ["events", 4],
      ]),
    );
    expect(paths).not.toContainEqual(["events", 0]);
    expect(await rawCount(p.platformId)).toBe(0);

    // A value too large for a double (1e400 parses as Infinity) is not a number.
    const infinite = await t.request("POST", "/usage/events", {
      rawBody: `{"events":[{"id":"inf","platformId":"${p.platformId}","meter":"api_requests","value":1e400}]}`,
      headers: { "content-type": "application/json" },
    });
    expect(infinite.status).toBe(400);

    expect((await ingest([])).status).toBe(400);
    const tooMany = Array.from({ length: 1001 }, (_, i) => good(100 + i));
    expect((await ingest(tooMany)).status).toBe(400);
    expect(await rawCount(p.platformId)).toBe(0);
    const thousand = await ingest(tooMany.slice(0, 1000));
    expect(thousand.body).toEqual({ accepted: 1000, duplicates: 0 });
  });

  it("accepts timestamps up to 35 days old and 5 minutes ahead", async () => {
    const p = await t.createPlatform();
    const now = t.clock.now().getTime();
    const res = await ingest([
      {
        id: id(),
        platformId: p.platformId,
        meter: "api_requests",
        timestamp: (now - 35 * day) / 1000,
      },
      {
        id: id(),
        platformId: p.platformId,
        meter: "api_requests",
        timestamp: (now + 5 * 60_000) / 1000,
      },
    ]);
    expect(res.body).toEqual({ accepted: 2, duplicates: 0 });
  });

  it("lets a platform's keys write that platform only, and operator ingestion keys any", async () => {
    const own = await t.createPlatform();
    const other = await t.createPlatform();
    const service = await t.createPlatform(["usage:write"]);
    const event = (platformId: string) => ({ id: id(), platformId, meter: "api_requests" });

    // A usage:write key issued under a platform writes that platform only: nothing is stored.
    const crossing = await ingest(
      [event(service.platformId), event(other.platformId)],
      service.key,
    );
    expect(crossing.status).toBe(400);
    expect(crossing.body.error.details).toEqual([
      expect.objectContaining({ index: 1, path: ["events", 1, "platformId"] }),
    ]);
    expect((await values(service.platformId)).api_requests).toBe(0);
    const bySevice = await ingest([event(service.platformId)], service.key);
    expect(bySevice.body).toEqual({ accepted: 1, duplicates: 0 });

    // An operator-level ingestion key writes every platform, and nothing else.
    const created = await t.request("POST", "/operator/api-keys", {
      body: { scopes: ["usage:write"], description: "metering pipeline" },
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({ scopes: ["usage:write"], revokedAt: null });
    expect(created.body.key).toMatch(/^nno_ik_/);
    const pipeline = created.body.key as string;
    const byPipeline = await ingest([event(own.platformId), event(other.platformId)], pipeline);
    expect(byPipeline.body, byPipeline.text).toEqual({ accepted: 2, duplicates: 0 });
    expect(
      (await t.request("POST", "/operator/api-keys", { key: own.key, body: created.body })).status,
    ).toBe(403);
    const listed = await t.request("GET", "/operator/api-keys");
    expect(listed.body.data.map((k: { id: string }) => k.id)).toContain(created.body.id);
    expect(JSON.stringify(listed.body)).not.toContain(pipeline);

    const byPlatform = await ingest([event(own.platformId)], own.key);
    expect(byPlatform.body).toEqual({ accepted: 1, duplicates: 0 });
    const foreign = await ingest([event(own.platformId), event(other.platformId)], own.key);
    expect(foreign.status).toBe(400);
    expect(foreign.body.error.details.map((d: { index: number }) => d.index)).toEqual([1]);
    expect((await values(other.platformId)).api_requests).toBe(1);

    const unknown = await ingest([event("ghost")], pipeline);
    expect(unknown.status).toBe(400);
    const anonymous = await t.request("POST", "/usage/events", {
      key: null,
      body: { events: [event(own.platformId)] },
    });
    expect(anonymous.status).toBe(401);
    // Ingestion keys read nothing.
    for (const key of [service.key, pipeline]) {
      const read = await t.request("GET", `/usage/current?platformId=${own.platformId}`, { key });
      expect(read.status).toBe(403);
    }
    const revoked = await t.request("DELETE", `/operator/api-keys/${created.body.id}`);
    expect(revoked.status).toBe(200);
    expect((await ingest([event(own.platformId)], pipeline)).status).toBe(401);
  });

  it("bounds event values: finite, not negative, at most 1e12, at most 6 decimals", async () => {
    const p = await t.createPlatform();
    const event = (value: number) => ({
      id: id(),
      platformId: p.platformId,
      meter: "api_requests",
      value,
    });
    for (const value of [1e12 + 1, 1e20, 0.0000001, 1.1234567, 1e-7]) {
      const res = await ingest([event(1), event(value)], p.key);
      expect(res.status, String(value)).toBe(400);
      expect(res.body.error.details[0].path).toEqual(["events", 1, "value"]);
    }
    // 1e308 and -1 are refused too (by the schema or the bounds), and nothing was stored.
    for (const raw of [
      '{"events":[{"id":"a","platformId":"P","meter":"api_requests","value":1e308}]}',
      '{"events":[{"id":"a","platformId":"P","meter":"api_requests","value":-1}]}',
    ]) {
      const res = await t.request("POST", "/usage/events", {
        key: p.key,
        rawBody: raw.replace("P", p.platformId),
        headers: { "content-type": "application/json" },
      });
      expect(res.status).toBe(400);
    }
    expect((await values(p.platformId)).api_requests).toBe(0);
    const ok = await ingest([event(1e12), event(0.000001), event(2.5)], p.key);
    expect(ok.body).toEqual({ accepted: 3, duplicates: 0 });
    // Summed exactly: 10^12 + 0.000001 + 2.5 is beyond a double's 15-16 significant digits.
    const exact = await usageForPeriod({
      ctx: t.deps,
      platformId: p.platformId,
      periodStart: new Date(t.clock.now().getTime() - 86_400_000 * 40),
      periodEnd: new Date(t.clock.now().getTime() + 86_400_000),
    });
    expect(exact.find((m) => m.meter === "api_requests")?.value).toBe("1000000000002.500001");
  });

  it("replays a retried request with the same Idempotency-Key", async () => {
    const p = await t.createPlatform();
    const body = { events: [{ id: id(), platformId: p.platformId, meter: "api_requests" }] };
    const headers = { "idempotency-key": `ingest-${p.platformId}` };
    const first = await t.request("POST", "/usage/events", { body, headers });
    const again = await t.request("POST", "/usage/events", { body, headers });
    expect(first.body).toEqual({ accepted: 1, duplicates: 0 });
    expect(again.body).toEqual(first.body);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
  });
});

describe("GET /usage/current", () => {
  it("uses the live subscription's period and plan: included, overage, percentUsed", async () => {
    const p = await t.createPlatform();
    const start = new Date("2026-01-10T08:30:00.000Z");
    await subscribe(p, { tier: "starter", start, end: new Date("2026-02-10T08:30:00.000Z") });
    await ingest([
      { id: id(), platformId: p.platformId, meter: "api_requests", value: 85_000 },
      { id: id(), platformId: p.platformId, meter: "storage_gb", value: 12.5 },
      // Before the period started (same day, earlier hour): not this period's usage.
      {
        id: id(),
        platformId: p.platformId,
        meter: "api_requests",
        value: 1_000_000,
        timestamp: "2026-01-10T08:00:00.000Z",
      },
    ]);
    const snapshot = await current(p.platformId, { key: p.key });
    expect(snapshot.periodStart).toBe(start.toISOString());
    expect(snapshot.periodEnd).toBe("2026-02-10T08:30:00.000Z");
    const byMeter = Object.fromEntries(snapshot.meters.map((m) => [m.meter, m]));
    expect(byMeter.api_requests).toEqual({
      meter: "api_requests",
      unit: "requests",
      aggregation: "sum",
      value: 85_000,
      included: 100_000,
      overage: 0,
      percentUsed: 85,
    });
    expect(byMeter.storage_gb).toMatchObject({
      value: 12.5,
      included: 10,
      overage: 2.5,
      percentUsed: 125,
    });
    expect(byMeter.active_users).toMatchObject({ value: 0, included: 100, percentUsed: 0 });

    // The renewal's overage reads the same rollups, split at the period start.
    const usage = await usageForPeriod({
      ctx: t.deps,
      platformId: p.platformId,
      periodStart: start,
      periodEnd: new Date("2026-02-10T08:30:00.000Z"),
    });
    expect(usage).toContainEqual({ meter: "api_requests", value: "85000" });
    const before = await usageForPeriod({
      ctx: t.deps,
      platformId: p.platformId,
      periodStart: new Date("2026-01-01T00:00:00.000Z"),
      periodEnd: start,
    });
    expect(before).toContainEqual({ meter: "api_requests", value: "1000000" });
    // The batched form answers the same, in order.
    const batched = await usageForPeriods({
      ctx: t.deps,
      periods: [
        {
          platformId: p.platformId,
          periodStart: start,
          periodEnd: new Date("2026-02-10T08:30:00.000Z"),
        },
        {
          platformId: p.platformId,
          periodStart: new Date("2026-01-01T00:00:00.000Z"),
          periodEnd: start,
        },
        {
          platformId: "ghost",
          periodStart: start,
          periodEnd: new Date("2026-02-10T08:30:00.000Z"),
        },
      ],
    });
    expect(batched[0]).toEqual(usage);
    expect(batched[1]).toEqual(before);
    expect(batched[2]?.every((m) => m.value === "0")).toBe(true);
  });

  it("follows the anchor when the subscription's period has ended and is not renewed yet", async () => {
    const p = await t.createPlatform();
    // Period 0 ended on Jan 3; the worker has not moved it on: period 1 runs Jan 3 to Feb 3.
    await subscribe(p, {
      start: new Date("2025-12-03T06:00:00.000Z"),
      end: new Date("2026-01-03T06:00:00.000Z"),
    });
    await ingest([{ id: id(), platformId: p.platformId, meter: "api_requests", value: 5 }]);
    const snapshot = await current(p.platformId);
    expect([snapshot.periodStart, snapshot.periodEnd]).toEqual([
      "2026-01-03T06:00:00.000Z",
      "2026-02-03T06:00:00.000Z",
    ]);
    expect(snapshot.meters[0]?.value).toBe(5);
    const tenantSnapshot = await current(p.platformId, { tenantId: "nobody" });
    expect(tenantSnapshot.periodStart).toBe("2026-01-03T06:00:00.000Z");
    expect(tenantSnapshot.meters[0]?.value).toBe(0);
  });

  it("without a subscription: the calendar month, nothing included, all of it overage", async () => {
    const p = await t.createPlatform();
    await ingest([{ id: id(), platformId: p.platformId, meter: "api_requests", value: 7 }]);
    const snapshot = await current(p.platformId);
    expect(snapshot.meters[0]).toEqual({
      meter: "api_requests",
      unit: "requests",
      aggregation: "sum",
      value: 7,
      included: 0,
      overage: 7,
      percentUsed: 0,
    });
  });

  it("hides other platforms from platform keys and answers 404 for unknown platforms", async () => {
    const own = await t.createPlatform();
    const other = await t.createPlatform();
    for (const path of ["current", "alerts"]) {
      const res = await t.request("GET", `/usage/${path}?platformId=${other.platformId}`, {
        key: own.key,
      });
      expect(res.status).toBe(403);
    }
    const daily = await t.request(
      "GET",
      `/usage/daily?platformId=${other.platformId}&from=2026-01-01&to=2026-01-02`,
      { key: own.key },
    );
    expect(daily.status).toBe(403);
    for (const path of ["history", "entities"]) {
      const res = await t.request("GET", `/usage/${path}?platformId=${other.platformId}`, {
        key: own.key,
      });
      expect(res.status).toBe(403);
    }
    expect((await t.request("GET", "/usage/current?platformId=ghost")).status).toBe(404);
  });
});

describe("GET /usage/daily", () => {
  it("answers one zero-filled entry per day, inclusive", async () => {
    const p = await t.createPlatform();
    const now = t.clock.now().getTime();
    await ingest([
      {
        id: id(),
        platformId: p.platformId,
        meter: "api_requests",
        value: 2,
        timestamp: (now - 2 * day) / 1000,
      },
      { id: id(), platformId: p.platformId, meter: "api_requests", value: 3 },
      {
        id: id(),
        platformId: p.platformId,
        tenantId: "a",
        meter: "active_users",
        properties: { userId: "u" },
      },
      {
        id: id(),
        platformId: p.platformId,
        tenantId: "a",
        meter: "active_users",
        properties: { userId: "u" },
        timestamp: (now - 2 * day) / 1000,
      },
    ]);
    const res = await t.request(
      "GET",
      `/usage/daily?platformId=${p.platformId}&from=2026-01-12&to=2026-01-16`,
      { key: p.key },
    );
    expect(res.status, res.text).toBe(200);
    expect(res.body.from).toBe("2026-01-12");
    expect(res.body.days.map((d: { date: string }) => d.date)).toEqual([
      "2026-01-12",
      "2026-01-13",
      "2026-01-14",
      "2026-01-15",
      "2026-01-16",
    ]);
    const zero = { api_requests: 0, storage_gb: 0, bandwidth_gb: 0, active_users: 0 };
    expect(res.body.days.map((d: { meters: unknown }) => d.meters)).toEqual([
      zero,
      { ...zero, api_requests: 2, active_users: 1 },
      zero,
      { ...zero, api_requests: 3, active_users: 1 },
      zero,
    ]);
    const tenant = await t.request(
      "GET",
      `/usage/daily?platformId=${p.platformId}&from=2026-01-15&to=2026-01-15&tenantId=a`,
    );
    expect(tenant.body.days).toEqual([
      { date: "2026-01-15", meters: { ...zero, active_users: 1 } },
    ]);
    // Both days' user is one user over the month.
    expect((await values(p.platformId)).active_users).toBe(1);
  });

  it.each([
    ["from after to", "from=2026-01-10&to=2026-01-09"],
    ["an impossible date", "from=2026-02-01&to=2026-02-30"],
    ["month 13", "from=2026-13-01&to=2026-13-02"],
    ["over 366 days", "from=2025-01-01&to=2026-01-02"],
  ])("rejects %s with 400", async (_name, range) => {
    const p = await t.createPlatform();
    const res = await t.request("GET", `/usage/daily?platformId=${p.platformId}&${range}`);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("VALIDATION_ERROR");
  });

  it("accepts exactly 366 days", async () => {
    const p = await t.createPlatform();
    const res = await t.request(
      "GET",
      `/usage/daily?platformId=${p.platformId}&from=2025-01-15&to=2026-01-15`,
    );
    expect(res.status).toBe(200);
    expect(res.body.days).toHaveLength(366);
  });
});

describe("GET /usage/history", () => {
  it("lists billing periods newest first, the current one included, page by page", async () => {
    const p = await t.createPlatform();
    const now = t.clock.now().getTime();
    await ingest([
      {
        id: id(),
        platformId: p.platformId,
        meter: "api_requests",
        value: 1,
        timestamp: (now - 30 * day) / 1000,
      },
      { id: id(), platformId: p.platformId, meter: "api_requests", value: 2 },
      { id: id(), platformId: p.platformId, tenantId: "x", meter: "api_requests", value: 4 },
    ]);
    const first = await t.request("GET", "/usage/history?limit=1", { key: p.key });
    expect(first.status, first.text).toBe(200);
    expect(first.body.hasMore).toBe(true);
    expect(first.body.data).toEqual([
      {
        periodStart: "2026-01-01T00:00:00.000Z",
        periodEnd: "2026-02-01T00:00:00.000Z",
        meters: [
          { meter: "api_requests", unit: "requests", value: 6 },
          { meter: "storage_gb", unit: "GB", value: 0 },
          { meter: "bandwidth_gb", unit: "GB", value: 0 },
          { meter: "active_users", unit: "users", value: 0 },
        ],
      },
    ]);
    const second = await t.request(
      "GET",
      `/usage/history?limit=1&cursor=${first.body.nextCursor}`,
      {
        key: p.key,
      },
    );
    expect(second.body.data.map((e: { periodStart: string }) => e.periodStart)).toEqual([
      "2025-12-01T00:00:00.000Z",
    ]);
    expect(second.body.data[0].meters[0].value).toBe(1);
    expect(second.body.hasMore).toBe(false);
    expect(second.body.nextCursor).toBeNull();

    const tenant = await t.request("GET", `/usage/history?platformId=${p.platformId}&tenantId=x`);
    expect(tenant.body.data).toHaveLength(1);
    expect(tenant.body.data[0].meters[0].value).toBe(4);

    const fresh = await t.createPlatform();
    const empty = await t.request("GET", "/usage/history", { key: fresh.key });
    expect(empty.body.data).toHaveLength(1);
    expect(empty.body.hasMore).toBe(false);
  });

  it("follows the subscription's periods, with calendar months before it", async () => {
    const p = await t.createPlatform();
    const start = new Date("2026-01-05T10:00:00.000Z");
    await subscribe(p, { start, end: new Date("2026-02-05T10:00:00.000Z") });
    const now = t.clock.now().getTime();
    await ingest([
      {
        id: id(),
        platformId: p.platformId,
        meter: "api_requests",
        value: 1,
        timestamp: (now - 20 * day) / 1000,
      },
      { id: id(), platformId: p.platformId, meter: "api_requests", value: 2 },
    ]);
    const res = await t.request("GET", `/usage/history?platformId=${p.platformId}`);
    expect(
      res.body.data.map(
        (e: { periodStart: string; periodEnd: string; meters: Array<{ value: number }> }) => [
          e.periodStart,
          e.periodEnd,
          e.meters[0]?.value,
        ],
      ),
    ).toEqual([
      ["2026-01-05T10:00:00.000Z", "2026-02-05T10:00:00.000Z", 2],
      ["2026-01-01T00:00:00.000Z", "2026-01-05T10:00:00.000Z", 0],
      ["2025-12-01T00:00:00.000Z", "2026-01-01T00:00:00.000Z", 1],
    ]);
  });
});

describe("GET /usage/entities", () => {
  it("lists tenants with usage, newest first, with first/last seen and event counts", async () => {
    const p = await t.createPlatform();
    const now = t.clock.now().getTime();
    await ingest([
      {
        id: id(),
        platformId: p.platformId,
        tenantId: "alpha",
        meter: "api_requests",
        timestamp: (now - day) / 1000,
      },
      { id: id(), platformId: p.platformId, tenantId: "alpha", meter: "api_requests" },
      { id: id(), platformId: p.platformId, meter: "api_requests" },
    ]);
    t.clock.advance(1000);
    await ingest([
      { id: id(), platformId: p.platformId, tenantId: "beta", meter: "storage_gb", value: 3 },
      { id: id(), platformId: p.platformId, tenantId: "gamma", meter: "api_requests" },
    ]);
    const first = await t.request("GET", "/usage/entities?limit=2", { key: p.key });
    expect(first.status, first.text).toBe(200);
    expect(first.body.data.map((e: { tenantId: string }) => e.tenantId)).toEqual(["gamma", "beta"]);
    expect(first.body.hasMore).toBe(true);

    // A new tenant between pages does not shift the next page.
    t.clock.advance(1000);
    await ingest([
      { id: id(), platformId: p.platformId, tenantId: "delta", meter: "api_requests" },
    ]);
    const second = await t.request(
      "GET",
      `/usage/entities?limit=2&cursor=${first.body.nextCursor}`,
      {
        key: p.key,
      },
    );
    expect(second.body.data).toEqual([
      {
        tenantId: "alpha",
        firstSeen: new Date(now - day).toISOString(),
        lastSeen: new Date(now).toISOString(),
        eventCount: 2,
      },
    ]);
    expect(second.body.hasMore).toBe(false);
    const bad = await t.request("GET", "/usage/entities?cursor=garbage", { key: p.key });
    expect(bad.status).toBe(400);
  });
});

describe("GET /usage/alerts", () => {
  it("raises 80 % and 100 % once per period at ingestion, and forgets them at rollover", async () => {
    const p = await t.createPlatform();
    const start = new Date("2026-01-15T00:00:00.000Z");
    const end = new Date("2026-02-15T00:00:00.000Z");
    await subscribe(p, { tier: "starter", start, end });
    const alerts = async () => {
      const res = await t.request("GET", `/usage/alerts?platformId=${p.platformId}`, {
        key: p.key,
      });
      expect(res.status, res.text).toBe(200);
      // The list shape; a period holds at most one alert per meter and threshold: one page.
      expect(res.body).toMatchObject({ hasMore: false, nextCursor: null });
      return res.body.data as Array<{
        meter: string;
        threshold: number;
        value: number;
        raisedAt: string;
      }>;
    };
    const requests = (value: number) => ({
      id: id(),
      platformId: p.platformId,
      meter: "api_requests",
      value,
    });

    await ingest([requests(79_999)]);
    expect(await alerts()).toEqual([]);
    t.clock.advance(60_000);
    const at80 = t.clock.now().toISOString();
    await ingest([requests(1)]);
    expect(await alerts()).toEqual([
      { meter: "api_requests", threshold: 80, value: 80_000, included: 100_000, raisedAt: at80 },
    ]);
    t.clock.advance(60_000);
    await ingest([requests(10)]);
    expect(await alerts()).toHaveLength(1);
    t.clock.advance(60_000);
    const at100 = t.clock.now().toISOString();
    await ingest([requests(50_000)]);
    t.clock.advance(60_000);
    await ingest([requests(50_000)]);
    // Newest first.
    expect(await alerts()).toEqual([
      { meter: "api_requests", threshold: 100, value: 130_010, included: 100_000, raisedAt: at100 },
      { meter: "api_requests", threshold: 80, value: 80_000, included: 100_000, raisedAt: at80 },
    ]);

    // Distinct users count too (starter includes 100).
    await ingest(
      Array.from({ length: 100 }, (_, i) => ({
        id: id(),
        platformId: p.platformId,
        meter: "active_users",
        properties: { userId: `user_${i % 100}` },
      })),
    );
    expect(
      (await alerts()).filter((a) => a.meter === "active_users").map((a) => a.threshold),
    ).toEqual([100, 80]); // raised at the same instant: the higher threshold first

    // The next period (the renewal moved the subscription on): nothing raised yet.
    await t.database.db
      .update(subscriptions)
      .set({
        currentPeriodStart: end,
        currentPeriodEnd: new Date("2026-03-15T00:00:00.000Z"),
        periodIndex: 1,
      })
      .where(sql`${subscriptions.platformId} = ${p.platformId}`);
    t.clock.set("2026-02-15T00:00:01.000Z");
    expect(await alerts()).toEqual([]);
    await ingest([requests(10)]);
    expect(await alerts()).toEqual([]);
  });
});
