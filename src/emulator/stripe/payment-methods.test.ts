import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { stripeError, useEmulator } from "../../../test/stripe-emulator-kit.ts";

const t = await useEmulator({ start: "2026-03-01T09:00:00.000Z" });

const cards = [
  ["pm_card_visa", "visa", "4242"],
  ["pm_card_mastercard", "mastercard", "4444"],
  ["pm_card_amex", "amex", "8431"],
  ["pm_card_chargeDeclined", "visa", "0002"],
  ["pm_card_chargeDeclinedInsufficientFunds", "visa", "9995"],
] as const;

describe("payment methods", () => {
  it.each(cards)(
    "attaching %s makes a fresh %s •••• %s on the customer",
    async (token, brand, last4) => {
      const customer = await t.stripe.customers.create({ email: `${token}@example.com` });
      const pm = await t.stripe.paymentMethods.attach(token, { customer: customer.id });
      expect(pm.id).toMatch(/^pm_[A-Za-z0-9]{24}$/);
      expect(pm).toMatchObject({
        object: "payment_method",
        type: "card",
        customer: customer.id,
        livemode: false,
        card: { brand, last4, exp_month: 12, exp_year: 2027 },
      });
      expect(await t.stripe.paymentMethods.retrieve(pm.id)).toEqual(pm);
    },
  );

  it("retrieves a test token itself as an unattached method", async () => {
    const pm = await t.stripe.paymentMethods.retrieve("pm_card_amex");
    expect(pm).toMatchObject({ id: "pm_card_amex", customer: null, card: { brand: "amex" } });
  });

  it("lists a customer's methods both ways, and detaching clears the default", async () => {
    const customer = await t.stripe.customers.create({ email: "list@example.com" });
    const visa = await t.stripe.paymentMethods.attach("pm_card_visa", { customer: customer.id });
    const amex = await t.stripe.paymentMethods.attach("pm_card_amex", { customer: customer.id });
    await t.stripe.customers.update(customer.id, {
      invoice_settings: { default_payment_method: visa.id },
    });

    const viaCustomer = await t.stripe.customers.listPaymentMethods(customer.id, { type: "card" });
    expect(viaCustomer.url).toBe(`/v1/customers/${customer.id}/payment_methods`);
    expect(viaCustomer.data.map((pm) => pm.id)).toEqual([amex.id, visa.id]);
    const viaList = await t.stripe.paymentMethods.list({ customer: customer.id, type: "card" });
    expect(viaList.data.map((pm) => pm.id)).toEqual([amex.id, visa.id]);
    const page = await t.stripe.paymentMethods.list({ customer: customer.id, limit: 1 });
    expect(page.has_more).toBe(true);

    const detached = await t.stripe.paymentMethods.detach(visa.id);
    expect(detached.customer).toBeNull();
    const after = (await t.stripe.customers.retrieve(customer.id)) as Stripe.Customer;
    expect(after.invoice_settings.default_payment_method).toBeNull();
    const remaining = await t.stripe.customers.listPaymentMethods(customer.id);
    expect(remaining.data.map((pm) => pm.id)).toEqual([amex.id]);

    const again = await stripeError(() => t.stripe.paymentMethods.detach(visa.id));
    expect(again.statusCode).toBe(400);
  });

  it("refuses attaching to a missing customer and a method of another customer", async () => {
    const missing = await stripeError(() =>
      t.stripe.paymentMethods.attach("pm_card_visa", { customer: "cus_missing" }),
    );
    expect(missing).toMatchObject({ statusCode: 404, code: "resource_missing", param: "customer" });

    const a = await t.stripe.customers.create({});
    const b = await t.stripe.customers.create({});
    const pm = await t.stripe.paymentMethods.attach("pm_card_visa", { customer: a.id });
    const taken = await stripeError(() =>
      t.stripe.paymentMethods.attach(pm.id, { customer: b.id }),
    );
    expect(taken.statusCode).toBe(400);
    const unknown = await stripeError(() => t.stripe.paymentMethods.retrieve("pm_nope"));
    expect(unknown).toMatchObject({ statusCode: 404, code: "resource_missing" });
  });
});

describe("a detached payment method", () => {
  it("may not be attached again, to its customer or another", async () => {
    const customer = await t.stripe.customers.create({ email: "reattach@example.com" });
    const other = await t.stripe.customers.create({ email: "other@example.com" });
    const pm = await t.stripe.paymentMethods.attach("pm_card_visa", { customer: customer.id });
    await t.stripe.paymentMethods.detach(pm.id);

    for (const owner of [customer.id, other.id]) {
      const refused = await stripeError(() =>
        t.stripe.paymentMethods.attach(pm.id, { customer: owner }),
      );
      expect(refused).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
      expect(refused).toMatchObject({
        statusCode: 400,
        rawType: "invalid_request_error",
        message:
          "This PaymentMethod was previously used without being attached to a Customer or was detached from a Customer, and may not be used again.",
      });
    }
    // Nor through the other ways of attaching one.
    const viaCreate = await stripeError(() => t.stripe.customers.create({ payment_method: pm.id }));
    expect(viaCreate.statusCode).toBe(400);
    const setup = await t.stripe.setupIntents.create({ customer: customer.id });
    const viaSetup = await stripeError(() =>
      t.stripe.setupIntents.confirm(setup.id, { payment_method: pm.id }),
    );
    expect(viaSetup.statusCode).toBe(400);

    // It stays readable, unattached, and on no customer's list.
    expect((await t.stripe.paymentMethods.retrieve(pm.id)).customer).toBeNull();
    const lists = await Promise.all(
      [customer.id, other.id].map((id) => t.stripe.customers.listPaymentMethods(id)),
    );
    expect(lists.flatMap((l) => l.data.map((m) => m.id))).not.toContain(pm.id);
    // A fresh card from the same token is a new method and attaches as usual.
    const again = await t.stripe.paymentMethods.attach("pm_card_visa", { customer: customer.id });
    expect(again.id).not.toBe(pm.id);
    expect(again.customer).toBe(customer.id);
  });

  it("set up without a customer may still be attached once", async () => {
    const customer = await t.stripe.customers.create({});
    const setup = await t.stripe.setupIntents.create({
      payment_method: "pm_card_mastercard",
      confirm: true,
    });
    expect(setup.status).toBe("succeeded");
    const pm = await t.stripe.paymentMethods.attach(setup.payment_method as string, {
      customer: customer.id,
    });
    expect(pm.customer).toBe(customer.id);
  });
});

describe("setup intents", () => {
  it("confirms with a test token: succeeded, and the method is attached", async () => {
    const customer = await t.stripe.customers.create({ email: "seti@example.com" });
    const intent = await t.stripe.setupIntents.create({
      customer: customer.id,
      usage: "off_session",
    });
    expect(intent).toMatchObject({
      object: "setup_intent",
      status: "requires_payment_method",
      customer: customer.id,
      usage: "off_session",
      payment_method: null,
    });
    expect(intent.client_secret).toMatch(new RegExp(`^${intent.id}_secret_[A-Za-z0-9]+$`));

    const confirmed = await t.stripe.setupIntents.confirm(intent.id, {
      payment_method: "pm_card_mastercard",
    });
    expect(confirmed.status).toBe("succeeded");
    const pm = await t.stripe.paymentMethods.retrieve(confirmed.payment_method as string);
    expect(pm).toMatchObject({
      customer: customer.id,
      card: { brand: "mastercard", last4: "4444" },
    });
    expect((await t.stripe.setupIntents.retrieve(intent.id)).status).toBe("succeeded");

    const twice = await stripeError(() => t.stripe.setupIntents.confirm(intent.id));
    expect(twice).toMatchObject({ statusCode: 400, code: "setup_intent_unexpected_state" });
  });

  it("creates with a method and confirm=true in one call, and cancels another", async () => {
    const customer = await t.stripe.customers.create({});
    const direct = await t.stripe.setupIntents.create({
      customer: customer.id,
      payment_method: "pm_card_visa",
      confirm: true,
    });
    expect(direct.status).toBe("succeeded");
    const methods = await t.stripe.customers.listPaymentMethods(customer.id);
    expect(methods.data.map((pm) => pm.id)).toEqual([direct.payment_method]);

    const pending = await t.stripe.setupIntents.create({ customer: customer.id });
    const canceled = await t.stripe.setupIntents.cancel(pending.id, {
      cancellation_reason: "abandoned",
    });
    expect(canceled).toMatchObject({ status: "canceled", cancellation_reason: "abandoned" });
    const late = await stripeError(() =>
      t.stripe.setupIntents.confirm(pending.id, { payment_method: "pm_card_visa" }),
    );
    expect(late.statusCode).toBe(400);
  });
});
