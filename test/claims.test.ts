import { and, eq, sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { stripeEmuObjects, subscriptions } from "../src/db/schema/index.ts";
import { AppError } from "../src/errors.ts";
import { createTestApp, type TestApp } from "./harness.ts";

/**
 * What the claims protect when a process dies or a card goes away between deciding and charging:
 * an upgrade's charge that reached the processor is applied exactly once by whoever takes the
 * attempt over, under the same idempotency key; a detached card is never charged.
 */
const open: TestApp[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((app) => app.close()));
});

const start = "2026-04-01T00:00:00.000Z";

const subscribed = async () => {
  const t = await createTestApp({ start });
  open.push(t);
  const p = await t.createPlatform();
  const res = await t.request("POST", "/subscriptions", {
    key: p.key,
    body: {
      userId: p.platformId,
      priceId: "price_growth_monthly",
      paymentMethodId: "pm_card_visa",
    },
  });
  expect(res.status, res.text).toBe(201);
  const advance = async (seconds: number) => {
    const moved = await t.request("POST", "/operator/test-clock", {
      body: { advanceBy: seconds },
    });
    expect(moved.status, moved.text).toBe(200);
  };
  return { t, ...p, subscriptionId: res.body.id as string, advance };
};

/** The emulator's payment intents for an invoice, by status. */
const intentsFor = async (t: TestApp, invoiceId: string) => {
  const rows = await t.database.db
    .select({ status: sql<string>`${stripeEmuObjects.data}->>'status'` })
    .from(stripeEmuObjects)
    .where(
      and(
        eq(stripeEmuObjects.object, "payment_intent"),
        sql`${stripeEmuObjects.data}->'metadata'->>'invoiceId' = ${invoiceId}`,
      ),
    );
  return rows.map((r) => r.status);
};

describe("an upgrade whose caller loses the processor's answer", () => {
  it("is charged once and applied once, by the worker, after the claim's lease", async () => {
    const s = await subscribed();
    await s.advance(9 * 86_400);
    // The processor charges, then the answer is lost (a timeout, a crash): the request cannot
    // know whether money moved.
    const processor = s.t.deps.processor;
    const charge = processor.charge.bind(processor);
    let lost = 0;
    processor.charge = async (input, opts) => {
      const result = await charge(input, opts);
      if (input.metadata?.attempt === "1" && lost++ === 0) {
        throw new AppError("PAYMENT_PROVIDER_ERROR", "the processor's answer was lost");
      }
      return result;
    };

    const change = await s.t.request("POST", "/subscription/change-tier", {
      key: s.key,
      body: { tier: "scale" },
    });
    expect(change.status).toBe(502);
    const [pending] = await s.t.database.db
      .select()
      .from(subscriptions)
      .where(eq(subscriptions.id, s.subscriptionId));
    expect(pending).toMatchObject({ tier: "growth" });
    const invoiceId = pending?.pendingInvoiceId as string;
    expect(invoiceId).toMatch(/^in_/);
    expect(await intentsFor(s.t, invoiceId)).toEqual(["succeeded"]);

    // While the change is unresolved, nothing else may change the subscription.
    for (const [method, path, body] of [
      ["POST", "/subscription/change-tier", { tier: "starter" }],
      ["DELETE", `/subscriptions/${s.subscriptionId}?immediately=true`, undefined],
    ] as const) {
      const res = await s.t.request(method, path, { key: s.key, body });
      expect(res.status, `${method} ${path}`).toBe(409);
    }

    // The worker takes the attempt up again with the same key: the processor replays its charge.
    await s.advance(10 * 60);
    expect(await intentsFor(s.t, invoiceId)).toEqual(["succeeded"]);
    const invoice = await s.t.request("GET", `/invoices/${invoiceId}`, { key: s.key });
    expect(invoice.body).toMatchObject({ status: "paid", attemptCount: 1 });
    expect(invoice.body.amountPaid).toBe(invoice.body.amountDue);
    const sub = await s.t.request("GET", `/subscriptions/${s.subscriptionId}`, { key: s.key });
    expect(sub.body).toMatchObject({ tier: "scale", priceId: "price_scale_monthly" });

    // Settled: the subscription can change again, and the renewal bills the new price.
    await s.advance(25 * 86_400);
    const invoices = await s.t.request("GET", `/invoices?platformId=${s.platformId}`, {
      key: s.key,
    });
    expect(invoices.body.data[0]).toMatchObject({ status: "paid", subtotal: 49900 });
  });

  it("is voided, and nothing changes, when the replayed attempt was a decline", async () => {
    const s = await subscribed();
    const patched = await s.t.request("PATCH", `/subscriptions/${s.subscriptionId}`, {
      key: s.key,
      body: { paymentMethodId: "pm_card_chargeDeclined" },
    });
    expect(patched.status).toBe(200);
    const processor = s.t.deps.processor;
    const charge = processor.charge.bind(processor);
    processor.charge = async (input, opts) => {
      await charge(input, opts).catch(() => undefined);
      throw new AppError("PAYMENT_PROVIDER_ERROR", "the processor's answer was lost");
    };
    const change = await s.t.request("POST", "/subscription/change-tier", {
      key: s.key,
      body: { tier: "scale" },
    });
    expect(change.status).toBe(502);
    processor.charge = charge;
    await s.advance(10 * 60);
    const sub = await s.t.request("GET", `/subscriptions/${s.subscriptionId}`, { key: s.key });
    expect(sub.body).toMatchObject({ tier: "growth" });
    const invoices = await s.t.request("GET", `/invoices?platformId=${s.platformId}`, {
      key: s.key,
    });
    expect(invoices.body.data.map((i: { status: string }) => i.status)).toEqual(["void", "paid"]);
    const retry = await s.t.request("POST", "/subscription/change-tier", {
      key: s.key,
      body: { tier: "starter" },
    });
    expect(retry.status, retry.text).toBe(200);
  });
});

describe("a detached card", () => {
  it("is never charged: the renewal fails for want of a card and the subscription forgets it", async () => {
    const s = await subscribed();
    const cards = await s.t.request("GET", "/payment-methods", { key: s.key });
    const card = cards.body.data[0].id as string;
    const detached = await s.t.request("POST", `/payment-methods/${card}/detach`, { key: s.key });
    expect(detached.status, detached.text).toBe(200);
    const sub = await s.t.request("GET", `/subscriptions/${s.subscriptionId}`, { key: s.key });
    expect(sub.body.defaultPaymentMethodId).toBeNull();

    await s.advance(30 * 86_400);
    const invoices = await s.t.request("GET", `/invoices?platformId=${s.platformId}`, {
      key: s.key,
    });
    const renewal = invoices.body.data[0];
    expect(renewal).toMatchObject({ status: "open", attemptCount: 1, amountPaid: 0 });
    expect(await intentsFor(s.t, renewal.id)).toEqual([]);
  });
});
