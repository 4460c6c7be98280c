import { describe, expect, it } from "vitest";
import { useTestApp } from "../../../test/harness.ts";
import { subscriptions } from "../../db/schema/index.ts";
import type { UsageEventRow } from "./usage-store.ts";

/**
 * The usage store is the only state usage metering keeps in a process: two apps in one process
 * (each with its own database) share none of it, even for the same platform, event and value.
 */
const first = await useTestApp();
const second = await useTestApp();
const platformId = "plat_shared_usage";
const periodStart = new Date("2026-01-10T00:00:00.000Z");

for (const t of [first, second]) {
  const created = await t.request("POST", "/operator/platforms", {
    body: { platformId, name: "Shared", email: "shared@example.com" },
  });
  if (created.status !== 201) throw new Error(`platform not created: ${created.text}`);
  await t.database.db.insert(subscriptions).values({
    platformId,
    id: "sub_shared_usage",
    customerId: created.body.customerId,
    status: "active",
    tier: "starter",
    priceId: "price_starter_monthly",
    interval: "month",
    unitAmount: 2900,
    currency: "usd",
    billingAnchor: periodStart,
    currentPeriodStart: periodStart,
    currentPeriodEnd: new Date("2026-02-10T00:00:00.000Z"),
    createdAt: periodStart,
    updatedAt: t.clock.now(),
  });
}

/** The same batch for either app: every api_request the plan includes, and one active user. */
const batch = [
  { id: "evt_requests", platformId, tenantId: "t1", meter: "api_requests", value: 100_000 },
  {
    id: "evt_user",
    platformId,
    tenantId: "t1",
    meter: "active_users",
    properties: { userId: "u1" },
  },
];

describe("usage store", () => {
  it("is built per app: an event, an occurrence or an alert one app has seen is news to another", async () => {
    expect(first.deps.usage).not.toBe(second.deps.usage);
    for (const t of [first, second]) {
      const ingested = await t.request("POST", "/usage/events", { body: { events: batch } });
      expect(ingested.body).toEqual({ accepted: 2, duplicates: 0 });

      // The distinct value counts in each database: neither store takes its occurrence as stored.
      const current = await t.request("GET", `/usage/current?platformId=${platformId}&tenantId=t1`);
      const users = current.body.meters.find((m: { meter: string }) => m.meter === "active_users");
      expect(users.value).toBe(1);

      // Each database gets both alerts: the first app's memory of raising them is its own.
      const alerts = await t.request("GET", `/usage/alerts?platformId=${platformId}`);
      // Both are raised at the same instant: the list's newest-first order does not tell them apart.
      expect(
        alerts.body.data
          .map((a: { meter: string; threshold: number }) => [a.meter, a.threshold])
          .sort((a: [string, number], b: [string, number]) => a[1] - b[1]),
      ).toEqual([
        ["api_requests", 80],
        ["api_requests", 100],
      ]);
    }
    // A repeat is a duplicate in the database that has the event.
    const again = await first.request("POST", "/usage/events", { body: { events: batch } });
    expect(again.body).toEqual({ accepted: 0, duplicates: 2 });
  });

  it("stores the events it is given without modifying them", async () => {
    const at = first.clock.now().getTime();
    const event = (eventId: string, uniqueValue?: string): UsageEventRow =>
      Object.freeze({
        platformId,
        eventId,
        tenantId: uniqueValue === undefined ? null : "t2",
        meter: uniqueValue === undefined ? "bandwidth_gb" : "active_users",
        value: 1.5,
        occurredAtMs: at,
        bucketMs: at - (at % 86_400_000),
        properties: uniqueValue === undefined ? undefined : Object.freeze({ userId: uniqueValue }),
        uniqueValue,
      });
    const events = Object.freeze([event("evt_frozen_1"), event("evt_frozen_2", "u2")]);
    const copy = structuredClone(events);

    expect(await first.deps.usage.insertEvents(events, first.clock.now())).toBe(2);
    expect(await first.deps.usage.insertEvents(events, first.clock.now())).toBe(0);
    expect(events).toEqual(copy);

    const [aggregates] = await first.deps.usage.rangeAggregates({
      platformId,
      tenantId: "t2",
      ranges: [{ start: periodStart, end: new Date("2026-02-10T00:00:00.000Z") }],
    });
    expect(aggregates?.get("active_users")?.uniques).toBe(1);
    expect(aggregates?.has("bandwidth_gb")).toBe(false);
  });
});
