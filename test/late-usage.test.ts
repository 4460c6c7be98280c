import { afterAll, describe, expect, it } from "vitest";
import type { Invoice } from "../src/services/invoicing.ts";
import { createTestApp } from "./harness.ts";
import { checkMoneyInvariants } from "./invariants.ts";

/**
 * Late usage is billed (issue 12, item 10). Ingestion accepts events up to 35 days old; a closed
 * period's usage is billed after a grace (BILLING_USAGE_GRACE_SECONDS, an hour, as Stripe keeps a
 * period's invoice a draft for an hour), on an invoice of its own; what arrives after that is
 * billed on the next usage invoice as its own "received late" line. Nothing accepted goes
 * unbilled, nothing is billed twice. Through HTTP and the test clock.
 */
const t = await createTestApp({ start: "2026-04-01T00:00:00.000Z" });
afterAll(() => t.close());

const clockTo = async (iso: string) => {
  const res = await t.request("POST", "/operator/test-clock", { body: { advanceTo: iso } });
  expect(res.status, res.text).toBe(200);
};

let seq = 0;
/** Ingests `value` requests timestamped `at` (default now). */
const ingest = async (
  p: { key: string; platformId: string },
  value: number,
  at?: string,
  meter = "api_requests",
) => {
  seq += 1;
  return t.request("POST", "/usage/events", {
    key: p.key,
    body: {
      events: [
        {
          id: `late-${seq}`,
          platformId: p.platformId,
          meter,
          value,
          ...(at ? { timestamp: at } : {}),
        },
      ],
    },
  });
};
const ingestOk = async (...args: Parameters<typeof ingest>) => {
  const res = await ingest(...args);
  expect(res.status, res.text).toBe(200);
  expect(res.body).toEqual({ accepted: 1, duplicates: 0 });
};

const invoicesOf = async (platformId: string): Promise<Invoice[]> =>
  (await t.request("GET", `/invoices?platformId=${platformId}&limit=100`)).body.data.reverse();

const usageLines = (invoice: Invoice | undefined) =>
  (invoice?.lines ?? [])
    .filter((l) => l.type === "usage")
    .map((l) => ({
      description: l.description,
      quantity: l.quantity,
      amount: l.amount,
      periodStart: l.periodStart,
    }));

/** Every usage line billed for the period starting `periodStart`, on any invoice. */
const billedFor = async (platformId: string, periodStart: string) =>
  (await invoicesOf(platformId)).flatMap((i) =>
    i.lines
      .filter((l) => l.type === "usage" && l.periodStart === periodStart)
      .map((l) => ({ invoice: i.id, quantity: l.quantity, description: l.description })),
  );

const subscribe = async (priceId = "price_starter_monthly") => {
  const p = await t.createPlatform();
  const res = await t.request("POST", "/subscriptions", {
    key: p.key,
    body: { userId: p.platformId, priceId, paymentMethodId: "pm_card_visa" },
  });
  expect(res.status, res.text).toBe(201);
  return { ...p, subscriptionId: res.body.id as string };
};

describe("late usage", () => {
  // Starter: 100,000 requests included, then $1.00 per started 10,000.
  const p = { key: "", platformId: "", customerId: "", subscriptionId: "" };

  it("bills usage received in the grace on the closed period's usage invoice, the fee at the end", async () => {
    Object.assign(p, await subscribe());
    await clockTo("2026-04-30T23:55:00.000Z");
    await ingestOk(p, 100_000); // the last minutes of the period: all included
    await clockTo("2026-05-01T00:00:00.000Z");

    // The period end: the next month's fee is billed in advance and charged, no usage.
    const atEnd = await invoicesOf(p.platformId);
    expect(atEnd.map((i) => [i.periodStart, i.total, i.status])).toEqual([
      ["2026-04-01T00:00:00.000Z", 2900, "paid"],
      ["2026-05-01T00:00:00.000Z", 2900, "paid"],
    ]);
    expect(usageLines(atEnd[1])).toEqual([]);

    // The first minutes after it: events timestamped in the closed period, and new usage.
    await clockTo("2026-05-01T00:05:00.000Z");
    await ingestOk(p, 15_000, "2026-04-30T23:58:00.000Z");
    await ingestOk(p, 40_000); // May's, not April's
    await clockTo("2026-05-01T00:59:59.000Z");
    expect(await invoicesOf(p.platformId)).toHaveLength(2);

    await clockTo("2026-05-01T01:00:00.000Z");
    const invoices = await invoicesOf(p.platformId);
    expect(invoices).toHaveLength(3);
    const usage = invoices[2];
    expect(usage).toMatchObject({
      description: "Usage of 2026-04-01 – 2026-05-01",
      periodStart: "2026-04-01T00:00:00.000Z",
      periodEnd: "2026-05-01T00:00:00.000Z",
      status: "paid",
      total: 200,
    });
    // 115,000 requests: 15,000 beyond the included → 2 started packages.
    expect(usageLines(usage)).toEqual([
      {
        description:
          "api_requests: 115,000 requests used, 100,000 included; overage per 10,000 requests",
        quantity: 2,
        amount: 200,
        periodStart: "2026-04-01T00:00:00.000Z",
      },
    ]);
    expect(await checkMoneyInvariants(t.deps)).toEqual([]);
  });

  it("bills usage arriving after the usage invoice on the next one, as its own line, once", async () => {
    // April's usage invoice billed 2 packages. 20,000 more April requests arrive on May 3 →
    // 135,000 → 4 packages, 2 of them late.
    await clockTo("2026-05-03T00:00:00.000Z");
    await ingestOk(p, 20_000, "2026-04-30T12:00:00.000Z");
    await clockTo("2026-06-01T00:00:00.000Z");
    expect((await invoicesOf(p.platformId)).at(-1)).toMatchObject({
      periodStart: "2026-06-01T00:00:00.000Z",
      total: 2900,
    });
    await clockTo("2026-06-01T01:00:00.000Z");
    const may = (await invoicesOf(p.platformId)).at(-1);
    expect(may).toMatchObject({
      description: "Usage of 2026-05-01 – 2026-06-01",
      periodStart: "2026-05-01T00:00:00.000Z",
      total: 200,
      status: "paid",
    });
    // May's own 40,000 are within the included quantity; April's late usage is its own line.
    expect(usageLines(may)).toEqual([
      {
        description:
          "api_requests: usage of 2026-04-01 – 2026-05-01 received late (now 135,000 requests used, 100,000 included; overage per 10,000 requests; 2 packages billed before)",
        quantity: 2,
        amount: 200,
        periodStart: "2026-04-01T00:00:00.000Z",
      },
    ]);

    // Still inside the 35 days: 10,000 more for April on June 2 → 145,000 → 5 packages.
    await clockTo("2026-06-02T00:00:00.000Z");
    await ingestOk(p, 10_000, "2026-04-30T12:00:00.000Z");
    // Out of the window: refused, so never billed.
    await clockTo("2026-06-05T00:00:01.000Z");
    const tooOld = await ingest(p, 10_000, "2026-04-30T23:59:00.000Z");
    expect(tooOld.status).toBe(400);

    await clockTo("2026-08-01T02:00:00.000Z");
    const april = await billedFor(p.platformId, "2026-04-01T00:00:00.000Z");
    expect(april.map((l) => l.quantity)).toEqual([2, 2, 1]);
    expect(april.filter((l) => l.description.includes("received late"))).toHaveLength(2);
    expect(new Set(april.map((l) => l.invoice)).size).toBe(3);
    // Nothing else is billed for April, and June and July had no usage: no usage invoices.
    const all = await invoicesOf(p.platformId);
    expect(all.map((i) => [i.periodStart.slice(0, 10), i.total])).toEqual([
      ["2026-04-01", 2900],
      ["2026-05-01", 2900],
      ["2026-04-01", 200],
      ["2026-06-01", 2900],
      ["2026-05-01", 200],
      ["2026-07-01", 2900],
      ["2026-06-01", 100],
      ["2026-08-01", 2900],
    ]);
    expect(await checkMoneyInvariants(t.deps)).toEqual([]);
  });

  it("waits for the grace before a period-end cancellation's final invoice, then sweeps late usage", async () => {
    await clockTo("2026-08-02T00:00:00.000Z");
    const c = await subscribe();
    const cancel = await t.request("POST", "/subscription/cancel", { key: c.key });
    expect(cancel.status).toBe(200);
    await ingestOk(c, 110_000);
    await clockTo("2026-09-02T00:00:00.000Z");
    const ended = await t.request("GET", `/subscriptions/${c.subscriptionId}`);
    expect(ended.body).toMatchObject({
      status: "canceled",
      canceledAt: "2026-09-02T00:00:00.000Z",
    });
    expect(await invoicesOf(c.platformId)).toHaveLength(1);
    await clockTo("2026-09-02T00:30:00.000Z");
    await ingestOk(c, 10_000, "2026-09-01T23:00:00.000Z");
    await clockTo("2026-09-02T01:00:00.000Z");
    const final = (await invoicesOf(c.platformId)).at(-1);
    expect(final).toMatchObject({
      description: "Final invoice",
      periodStart: "2026-08-02T00:00:00.000Z",
      periodEnd: "2026-09-02T00:00:00.000Z",
      total: 200,
    });
    // After the final invoice, late usage for the last period is swept once no more can arrive
    // (35 days after its end).
    await clockTo("2026-09-20T00:00:00.000Z");
    await ingestOk(c, 10_000, "2026-09-01T23:00:00.000Z");
    await clockTo("2026-10-07T00:00:00.000Z");
    const swept = (await invoicesOf(c.platformId)).at(-1);
    expect(swept).toMatchObject({ description: "Usage received late", total: 100 });
    expect(swept?.lines[0]?.description).toContain(
      "usage of 2026-08-02 – 2026-09-02 received late",
    );
    expect(await checkMoneyInvariants(t.deps, { canceled: [c.subscriptionId] })).toEqual([]);
  });

  it("bills a pending closed period after an immediate cancellation", async () => {
    await clockTo("2026-10-08T00:00:00.000Z");
    const c = await subscribe();
    await ingestOk(c, 120_000);
    await clockTo("2026-11-08T00:00:00.000Z"); // the period ended on the 8th
    await clockTo("2026-11-08T00:10:00.000Z");
    await ingestOk(c, 30_000); // November's
    const canceled = await t.request(
      "DELETE",
      `/subscriptions/${c.subscriptionId}?immediately=true`,
      { key: c.key },
    );
    expect(canceled.status).toBe(200);
    // The current period's usage at once, as before: within the plan, so no final invoice (none
    // with nothing on it).
    const afterCancel = await invoicesOf(c.platformId);
    expect(afterCancel.map((i) => i.description)).not.toContain("Final invoice");
    await clockTo("2026-11-08T01:00:00.000Z");
    const october = (await invoicesOf(c.platformId)).at(-1);
    expect(october).toMatchObject({
      description: "Usage of 2026-10-08 – 2026-11-08",
      total: 200,
    });
    expect(await checkMoneyInvariants(t.deps, { canceled: [c.subscriptionId] })).toEqual([]);
  });
});
