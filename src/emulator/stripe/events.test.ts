import type Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { stripeError, useEmulator } from "../../../test/stripe-emulator-kit.ts";

const t = await useEmulator();

/** The events of one object, oldest first (the API lists newest first). */
const eventsAbout = async (id: string) => {
  const list = await t.stripe.events.list({ limit: 100 });
  return list.data.filter((e) => (e.data.object as { id?: string }).id === id).reverse();
};

const typesAbout = async (id: string) => (await eventsAbout(id)).map((e) => e.type);

describe("events Stripe emits", () => {
  it("payment_intent.created, then charge.succeeded before payment_intent.succeeded", async () => {
    const customer = await t.stripe.customers.create({ email: "pay-events@example.com" });
    const pm = await t.stripe.paymentMethods.attach("pm_card_visa", { customer: customer.id });
    const open = await t.stripe.paymentIntents.create({
      amount: 300,
      currency: "usd",
      customer: customer.id,
    });
    expect(await typesAbout(open.id)).toEqual(["payment_intent.created"]);

    const paid = await t.stripe.paymentIntents.confirm(open.id, { payment_method: pm.id });
    expect(await typesAbout(paid.id)).toEqual([
      "payment_intent.created",
      "payment_intent.succeeded",
    ]);
    const charge = paid.latest_charge as string;
    const [succeeded] = await eventsAbout(charge);
    expect(succeeded).toMatchObject({
      type: "charge.succeeded",
      data: { object: { id: charge, object: "charge", status: "succeeded", paid: true } },
    });
    // Stripe's order: the charge's event comes before the intent's outcome.
    const all = (await t.stripe.events.list({ limit: 100 })).data.map((e) => e.id);
    const intentSucceeded = (await eventsAbout(paid.id))[1] as Stripe.Event;
    expect(all.indexOf(succeeded?.id as string)).toBeGreaterThan(all.indexOf(intentSucceeded.id));
  });

  it("charge.failed, then payment_intent.payment_failed, for a decline", async () => {
    const error = await stripeError(() =>
      t.stripe.paymentIntents.create({
        amount: 400,
        currency: "usd",
        payment_method: "pm_card_chargeDeclined",
        confirm: true,
      }),
    );
    const intent = error.payment_intent as Stripe.PaymentIntent;
    const created = await eventsAbout(intent.id);
    expect(created.map((e) => e.type)).toEqual([
      "payment_intent.created",
      "payment_intent.payment_failed",
    ]);
    expect(created[0]?.data.object).toMatchObject({ status: "requires_confirmation" });
    const [failed] = await eventsAbout(intent.latest_charge as string);
    expect(failed).toMatchObject({
      type: "charge.failed",
      data: { object: { status: "failed", failure_code: "card_declined" } },
    });
  });

  it("setup_intent.created when a setup intent is made, before it succeeds", async () => {
    const customer = await t.stripe.customers.create({ email: "setup-events@example.com" });
    const intent = await t.stripe.setupIntents.create({
      customer: customer.id,
      payment_method: "pm_card_visa",
      confirm: true,
    });
    expect(await typesAbout(intent.id)).toEqual(["setup_intent.created", "setup_intent.succeeded"]);
    const [created] = await eventsAbout(intent.id);
    expect(created?.data.object).toMatchObject({ status: "requires_confirmation" });
  });

  it("billing_portal.session.created for a portal session", async () => {
    const customer = await t.stripe.customers.create({ email: "portal-events@example.com" });
    const session = await t.stripe.billingPortal.sessions.create({ customer: customer.id });
    const [created] = await eventsAbout(session.id);
    expect(created).toMatchObject({
      type: "billing_portal.session.created",
      data: { object: { id: session.id, customer: customer.id, url: session.url } },
    });
  });
});

describe("previous_attributes", () => {
  const lastUpdate = async (customer: string) => {
    const list = await t.stripe.events.list({ type: "customer.updated", limit: 100 });
    const event = list.data.find((e) => (e.data.object as Stripe.Customer).id === customer);
    return event?.data.previous_attributes;
  };

  it("holds only the changed keys, nested as Stripe sends them", async () => {
    const customer = await t.stripe.customers.create({
      email: "prev@example.com",
      metadata: { plan: "basic" },
    });
    await t.stripe.customers.update(customer.id, { metadata: { tier: "gold" } });
    expect(await lastUpdate(customer.id)).toEqual({ metadata: { tier: null } });

    await t.stripe.customers.update(customer.id, { metadata: { tier: "" }, name: "Prev" });
    expect(await lastUpdate(customer.id)).toEqual({ metadata: { tier: "gold" }, name: null });

    const pm = await t.stripe.paymentMethods.attach("pm_card_visa", { customer: customer.id });
    await t.stripe.customers.update(customer.id, {
      invoice_settings: { default_payment_method: pm.id },
    });
    expect(await lastUpdate(customer.id)).toEqual({
      invoice_settings: { default_payment_method: null },
    });
    // Detaching the default clears it: the old value is the method's id.
    await t.stripe.paymentMethods.detach(pm.id);
    expect(await lastUpdate(customer.id)).toEqual({
      invoice_settings: { default_payment_method: pm.id },
    });
  });
});
