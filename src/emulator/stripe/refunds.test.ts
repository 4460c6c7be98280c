import { describe, expect, it } from "vitest";
import { stripeError, useEmulator } from "../../../test/stripe-emulator-kit.ts";

const t = await useEmulator();

/** A succeeded off-session charge of `amount`. */
const paidIntent = async (amount: number) => {
  const customer = await t.stripe.customers.create({ email: "refunds@example.com" });
  const pm = await t.stripe.paymentMethods.attach("pm_card_visa", { customer: customer.id });
  return t.stripe.paymentIntents.create({
    amount,
    currency: "usd",
    customer: customer.id,
    payment_method: pm.id,
    confirm: true,
    off_session: true,
  });
};

describe("refunds", () => {
  it("refunds part of a payment intent's charge, then the rest; the charge follows", async () => {
    const intent = await paidIntent(5000);
    const refund = await t.stripe.refunds.create(
      {
        payment_intent: intent.id,
        amount: 2000,
        reason: "requested_by_customer",
        metadata: { cn: "1" },
      },
      { idempotencyKey: "refund-a" },
    );
    expect(refund).toMatchObject({
      object: "refund",
      amount: 2000,
      currency: "usd",
      status: "succeeded",
      payment_intent: intent.id,
      charge: intent.latest_charge,
      reason: "requested_by_customer",
      metadata: { cn: "1" },
    });
    expect(refund.id).toMatch(/^re_/);
    // The same key replays the same refund; it refunds nothing more.
    const replay = await t.stripe.refunds.create(
      {
        payment_intent: intent.id,
        amount: 2000,
        reason: "requested_by_customer",
        metadata: { cn: "1" },
      },
      { idempotencyKey: "refund-a" },
    );
    expect(replay.id).toBe(refund.id);
    let charge = await t.stripe.charges.retrieve(intent.latest_charge as string);
    expect(charge).toMatchObject({ amount_refunded: 2000, refunded: false });

    const rest = await t.stripe.refunds.create({ charge: charge.id });
    expect(rest.amount).toBe(3000);
    charge = await t.stripe.charges.retrieve(charge.id);
    expect(charge).toMatchObject({ amount_refunded: 5000, refunded: true });

    expect((await t.stripe.refunds.retrieve(refund.id)).amount).toBe(2000);
    const list = await t.stripe.refunds.list({ payment_intent: intent.id });
    expect(list.data.map((r) => r.id)).toEqual([rest.id, refund.id]);

    const updated = await t.stripe.refunds.update(refund.id, { metadata: { note: "x" } });
    expect(updated.metadata).toEqual({ cn: "1", note: "x" });

    const events = await t.stripe.events.list({ limit: 100 });
    const types = events.data
      .filter(
        (e) =>
          (e.data.object as { id: string }).id === refund.id ||
          (e.data.object as { id: string }).id === charge.id,
      )
      .map((e) => e.type);
    expect(types).toEqual(
      expect.arrayContaining(["refund.created", "charge.refunded", "refund.updated"]),
    );
    const refunded = events.data.find(
      (e) =>
        e.type === "charge.refunded" &&
        (e.data.object as { amount_refunded: number }).amount_refunded === 2000,
    );
    expect(refunded?.data.previous_attributes).toEqual({ amount_refunded: 0, refunded: false });
  });

  it("refuses what Stripe refuses: too much, twice, nothing to refund, missing target", async () => {
    const intent = await paidIntent(1000);
    const tooMuch = await stripeError(() =>
      t.stripe.refunds.create({ payment_intent: intent.id, amount: 1001 }),
    );
    expect(tooMuch).toMatchObject({ statusCode: 400, code: "amount_too_large", param: "amount" });
    await t.stripe.refunds.create({ payment_intent: intent.id });
    const twice = await stripeError(() => t.stripe.refunds.create({ payment_intent: intent.id }));
    expect(twice).toMatchObject({ statusCode: 400, code: "charge_already_refunded" });
    const missing = await stripeError(() => t.stripe.refunds.create({}));
    expect(missing).toMatchObject({ statusCode: 400, param: "charge" });
    const unknown = await stripeError(() =>
      t.stripe.refunds.create({ payment_intent: "pi_doesnotexist" }),
    );
    expect(unknown).toMatchObject({ statusCode: 404, code: "resource_missing" });
    const unpaid = await t.stripe.paymentIntents.create({ amount: 500, currency: "usd" });
    const notPaid = await stripeError(() => t.stripe.refunds.create({ payment_intent: unpaid.id }));
    expect(notPaid).toMatchObject({ statusCode: 400, code: "charge_not_refundable" });
  });
});
