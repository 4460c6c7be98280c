import { eq, sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { subscriptions } from "../src/db/schema/index.ts";
import { createTestApp } from "./harness.ts";

/**
 * One tenant cannot stop everyone's billing (issue 11): a subscription whose renewal throws (a
 * corrupt row) sits in the same renewal batch as healthy ones, and a platform with the largest
 * usage the API accepts in the same usage batch (after the grace). The healthy ones renew, their
 * usage is billed and charged; the failing items — the corrupt renewal, the heavy platform's usage
 * invoice (its fixed fee renews as usual) — are set aside, shown to the operator, counted in
 * /metrics, retried with backoff, and the corrupt one renews once repaired.
 */
const t = await createTestApp({ start: "2026-04-01T00:00:00.000Z" });
afterAll(() => t.close());

const subscribe = async () => {
  const p = await t.createPlatform();
  const res = await t.request("POST", "/subscriptions", {
    key: p.key,
    body: {
      userId: p.platformId,
      priceId: "price_starter_monthly",
      paymentMethodId: "pm_card_visa",
    },
  });
  expect(res.status, res.text).toBe(201);
  return { ...p, subscriptionId: res.body.id as string };
};

const advanceTo = async (iso: string) => {
  const res = await t.request("POST", "/operator/test-clock", { body: { advanceTo: iso } });
  expect(res.status, res.text).toBe(200);
};

describe("poisoned renewal and usage batches", () => {
  it("bill every healthy subscription and set the poisoned items aside", async () => {
    const heavy = await subscribe();
    const corrupt = await subscribe();
    const healthy = [await subscribe(), await subscribe(), await subscribe()];

    // The most usage the API accepts: 1,000 events of 10^12 GB (a charge of 2 × 10^16 cents).
    const events = Array.from({ length: 1000 }, (_, i) => ({
      id: `huge-${i}`,
      platformId: heavy.platformId,
      meter: "bandwidth_gb",
      value: 1e12,
    }));
    const ingested = await t.request("POST", "/usage/events", { key: heavy.key, body: { events } });
    expect(ingested.body).toEqual({ accepted: 1000, duplicates: 0 });
    // Reads of that platform still answer.
    const q = `platformId=${heavy.platformId}`;
    for (const path of [
      `/usage/current?${q}`,
      `/usage/history?${q}`,
      `/usage/daily?${q}&from=2026-04-01&to=2026-04-02`,
    ]) {
      const res = await t.request("GET", path, { key: heavy.key });
      expect(res.status, `${path}: ${res.text}`).toBe(200);
    }
    const current = await t.request("GET", `/usage/current?${q}`, { key: heavy.key });
    const bandwidth = current.body.meters.find(
      (m: { meter: string }) => m.meter === "bandwidth_gb",
    );
    expect(bandwidth.value).toBe(1e15);
    const generated = await t.request("POST", "/operator/invoices/generate", {
      body: { customerId: heavy.customerId },
    });
    expect(generated.status, generated.text).toBe(409);
    expect(generated.body.error.message).toContain("too large to bill");

    // A healthy platform with some overage, billed in the same usage batch as the heavy one.
    const modest = await t.request("POST", "/usage/events", {
      key: healthy[0]?.key,
      body: {
        events: [
          { id: "m-1", platformId: healthy[0]?.platformId, meter: "bandwidth_gb", value: 51 },
        ],
      },
    });
    expect(modest.body).toEqual({ accepted: 1, duplicates: 0 });

    // A row whose next period cannot be computed (its period index is out of any calendar).
    await t.database.db
      .update(subscriptions)
      .set({ periodIndex: 2_000_000_000 })
      .where(eq(subscriptions.id, corrupt.subscriptionId));

    // At the period end the fixed fees are billed in advance — the heavy platform's too: its
    // usage is not read before the grace has passed.
    await advanceTo("2026-05-01T00:00:00.000Z");
    for (const p of [...healthy, heavy]) {
      const sub = await t.request("GET", `/subscriptions/${p.subscriptionId}`, { key: p.key });
      expect(sub.body).toMatchObject({
        status: "active",
        currentPeriodStart: "2026-05-01T00:00:00.000Z",
      });
      const invoices = await t.request("GET", `/invoices?platformId=${p.platformId}`, {
        key: p.key,
      });
      expect(invoices.body.data[0]).toMatchObject({ status: "paid", subtotal: 2900 });
    }
    const stuck = await t.request("GET", `/subscriptions/${corrupt.subscriptionId}`, {
      key: corrupt.key,
    });
    expect(stuck.body.currentPeriodStart).toBe("2026-04-01T00:00:00.000Z");
    const first = await t.request("GET", "/operator/failures");
    expect(first.body.data).toMatchObject([
      {
        job: "renewal",
        itemId: corrupt.subscriptionId,
        attempts: 1,
        nextRetryAt: "2026-05-01T00:01:00.000Z",
      },
    ]);

    // Retried with backoff: 1 minute, then 2, then 4.
    await advanceTo("2026-05-01T00:06:00.000Z");
    const again = await t.request("GET", "/operator/failures");
    expect(again.body.data.map((f: { attempts: number }) => f.attempts)).toEqual([3]);

    // Repaired, the corrupt subscription renews at its next retry and leaves the list.
    await t.database.db
      .update(subscriptions)
      .set({ periodIndex: 0 })
      .where(eq(subscriptions.id, corrupt.subscriptionId));
    await advanceTo("2026-05-01T00:30:00.000Z");
    const repaired = await t.request("GET", `/subscriptions/${corrupt.subscriptionId}`, {
      key: corrupt.key,
    });
    expect(repaired.body.currentPeriodStart).toBe("2026-05-01T00:00:00.000Z");
    expect((await t.request("GET", "/operator/failures")).body.data).toEqual([]);

    // After the grace the closed period's usage is billed: the heavy platform's cannot be, and
    // only that item is set aside; the others' usage invoices are issued and charged.
    await advanceTo("2026-05-01T01:00:00.000Z");
    const billed = await t.request("GET", `/invoices?platformId=${healthy[0]?.platformId}`, {
      key: healthy[0]?.key,
    });
    expect(billed.body.data[0]).toMatchObject({
      status: "paid",
      total: 20,
      periodStart: "2026-04-01T00:00:00.000Z",
      periodEnd: "2026-05-01T00:00:00.000Z",
    });
    const heavyInvoices = await t.request("GET", `/invoices?platformId=${heavy.platformId}`, {
      key: heavy.key,
    });
    expect(heavyInvoices.body.data.map((i: { subtotal: number }) => i.subtotal)).toEqual([
      2900, 2900,
    ]);
    const failures = await t.request("GET", "/operator/failures");
    expect(failures.body.data).toHaveLength(1);
    expect(failures.body.data[0]).toMatchObject({
      job: "usage",
      itemId: heavy.subscriptionId,
      platformId: heavy.platformId,
      attempts: 1,
      nextRetryAt: "2026-05-01T01:01:00.000Z",
    });
    expect(failures.body.data[0].error).toContain("too large to bill");
    const overview = await t.request("GET", "/operator/overview");
    expect(overview.body.failingItems, overview.text).toBe(1);
    const metrics = await t.app.request("/metrics");
    const text = await metrics.text();
    expect(text).toMatch(/billing_job_failures_total\{job="renewal"\} [1-9]/);
    expect(text).toMatch(/billing_job_failures_total\{job="usage"\} [1-9]/);
    await advanceTo("2026-05-01T01:06:00.000Z");
    const later = await t.request("GET", "/operator/failures");
    expect(later.body.data.map((f: { attempts: number }) => f.attempts)).toEqual([3]);

    const [{ n } = { n: 0 }] = await t.database.db
      .select({ n: sql<number>`count(*)::int` })
      .from(subscriptions)
      .where(eq(subscriptions.status, "active"));
    expect(n).toBe(5);
  });
});
