import { afterAll, describe, expect, it } from "vitest";
import type { Invoice } from "../src/services/invoicing.ts";
import { createTestApp } from "./harness.ts";

/**
 * Usage overage on invoices: metered usage beyond the plan's included quantity becomes `usage`
 * lines (quantity in packages, unit price, amount) on the closed period's usage invoice (after
 * the grace), on an operator's mid-period invoice, and on the final invoice of an immediate cancellation — never billed twice.
 */
const t = await createTestApp({ start: "2026-09-01T00:00:00.000Z" });
afterAll(() => t.close());

const clockTo = async (iso: string) => {
  const res = await t.request("POST", "/operator/test-clock", { body: { advanceTo: iso } });
  expect(res.status, res.text).toBe(200);
};

let seq = 0;
const ingest = async (key: string, platformId: string, meter: string, value: number) => {
  seq += 1;
  const res = await t.request("POST", "/usage/events", {
    key,
    body: { events: [{ id: `evt-${seq}`, platformId, meter, value }] },
  });
  expect(res.status, res.text).toBe(200);
  expect(res.body.accepted).toBe(1);
};

const invoicesOf = async (platformId: string): Promise<Invoice[]> =>
  (await t.request("GET", `/invoices?platformId=${platformId}&limit=100`)).body.data.reverse();

const usageLines = (invoice: Invoice | undefined) =>
  (invoice?.lines ?? [])
    .filter((l) => l.type === "usage")
    .map((l) => [l.description.split(":")[0], l.quantity, l.unitAmount, l.amount]);

describe("usage overage", () => {
  it("is billed in arrears at renewal, per started package, net of a mid-period invoice", async () => {
    const p = await t.createPlatform();
    const sub = await t.request("POST", "/subscriptions", {
      key: p.key,
      body: {
        userId: p.platformId,
        priceId: "price_starter_monthly",
        paymentMethodId: "pm_card_visa",
      },
    });
    expect(sub.status).toBe(201);

    // Starter: 100,000 requests included, then $1.00 per started 10,000.
    await clockTo("2026-09-10T00:00:00.000Z");
    await ingest(p.key, p.platformId, "api_requests", 125_001);
    const generated = await t.request("POST", "/operator/invoices/generate", {
      body: { customerId: p.customerId, description: "Usage so far" },
    });
    expect(generated.status, generated.text).toBe(201);
    expect(usageLines(generated.body)).toEqual([["api_requests", 3, 100, 300]]);
    expect(generated.body).toMatchObject({
      status: "paid",
      total: 300,
      description: "Usage so far",
    });
    const again = await t.request("POST", "/operator/invoices/generate", {
      body: { customerId: p.customerId },
    });
    expect(again.status).toBe(409);

    // 20,000 more requests and 12.5 GB stored (10 included, $0.50 per GB started).
    await clockTo("2026-09-20T00:00:00.000Z");
    await ingest(p.key, p.platformId, "api_requests", 20_000);
    await ingest(p.key, p.platformId, "storage_gb", 12.5);
    await clockTo("2026-10-01T00:00:00.000Z");

    // The renewal bills the next month's fee in advance, and no usage yet.
    const renewal = (await invoicesOf(p.platformId)).at(-1);
    expect(renewal?.periodStart).toBe("2026-10-01T00:00:00.000Z");
    expect(usageLines(renewal)).toEqual([]);
    expect(renewal).toMatchObject({ subtotal: 2900, status: "paid" });

    // An hour later (the grace) the closed period's usage has its own invoice.
    await clockTo("2026-10-01T01:00:00.000Z");
    const usage = (await invoicesOf(p.platformId)).at(-1);
    expect(usage).toMatchObject({
      periodStart: "2026-09-01T00:00:00.000Z",
      periodEnd: "2026-10-01T00:00:00.000Z",
      description: "Usage of 2026-09-01 – 2026-10-01",
    });
    // 145,001 requests → 5 packages, 3 billed already; 2.5 GB over → 3 packages.
    expect(usageLines(usage)).toEqual([
      ["api_requests", 2, 100, 200],
      ["storage_gb", 3, 50, 150],
    ]);
    expect(usage).toMatchObject({ subtotal: 200 + 150, status: "paid" });
    expect(usage?.lines.find((l) => l.type === "usage")).toMatchObject({
      periodStart: "2026-09-01T00:00:00.000Z",
      periodEnd: "2026-10-01T00:00:00.000Z",
    });
  });

  it("is billed on the final invoice of an immediate cancellation", async () => {
    const p = await t.createPlatform();
    const sub = await t.request("POST", "/subscriptions", {
      key: p.key,
      body: {
        userId: p.platformId,
        priceId: "price_starter_monthly",
        paymentMethodId: "pm_card_visa",
      },
    });
    await ingest(p.key, p.platformId, "bandwidth_gb", 51);
    const canceled = await t.request("DELETE", `/subscriptions/${sub.body.id}?immediately=true`, {
      key: p.key,
    });
    expect(canceled.status).toBe(200);
    expect(canceled.body.status).toBe("canceled");
    const final = (await invoicesOf(p.platformId)).at(-1);
    expect(final?.description).toBe("Final invoice");
    expect(usageLines(final)).toEqual([["bandwidth_gb", 1, 20, 20]]);
    expect(final).toMatchObject({ total: 20, status: "paid" });
  });

  it("finds nothing pending without overage (409)", async () => {
    const p = await t.createPlatform();
    await t.request("POST", "/subscriptions", {
      key: p.key,
      body: {
        userId: p.platformId,
        priceId: "price_growth_monthly",
        paymentMethodId: "pm_card_visa",
      },
    });
    await ingest(p.key, p.platformId, "api_requests", 10);
    const res = await t.request("POST", "/operator/invoices/generate", {
      body: { customerId: p.customerId },
    });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("CONFLICT");
  });
});
