import { inArray } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { stripeEmuEvents } from "../src/emulator/stripe/schema.ts";
import { createStripeClient } from "../src/processor/stripe-client.ts";
import { useTestApp } from "./harness.ts";

/**
 * The service's webhook endpoint accepts every event type the emulator emits, including those it
 * has no use for (charges, intents, portal sessions): each is delivered once and answered 2xx.
 */
const t = await useTestApp();

const stripe = createStripeClient({
  secretKey: t.emulator.apiKey ?? "",
  inProcess: (req) => t.emulator.fetch(req),
  maxNetworkRetries: 0,
});

describe("the service receives the emulator's events", () => {
  it("answers charge, intent and portal session events without an error", async () => {
    const p = await t.createPlatform();
    await t.emulator.deliverDueEvents();
    await stripe.setupIntents.create({
      customer: p.customerId,
      payment_method: "pm_card_visa",
      confirm: true,
    });
    await stripe.paymentIntents.create({
      amount: 500,
      currency: "usd",
      payment_method: "pm_card_visa",
      confirm: true,
    });
    await stripe.paymentIntents
      .create({
        amount: 500,
        currency: "usd",
        payment_method: "pm_card_chargeDeclined",
        confirm: true,
      })
      .catch(() => undefined);
    await stripe.billingPortal.sessions.create({ customer: p.customerId });

    const types = [
      "setup_intent.created",
      "payment_intent.created",
      "charge.succeeded",
      "charge.failed",
      "billing_portal.session.created",
    ];
    expect(await t.emulator.deliverDueEvents()).toBeGreaterThanOrEqual(types.length);
    const rows = await t.database.db
      .select({
        type: stripeEmuEvents.type,
        deliveredAt: stripeEmuEvents.deliveredAt,
        lastError: stripeEmuEvents.lastError,
      })
      .from(stripeEmuEvents)
      .where(inArray(stripeEmuEvents.type, types));
    expect(new Set(rows.map((row) => row.type))).toEqual(new Set(types));
    for (const row of rows) {
      expect(row, row.type).toMatchObject({ lastError: null, deliveredAt: expect.any(Date) });
    }
  });
});
