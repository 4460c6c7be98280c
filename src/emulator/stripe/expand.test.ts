import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { stripeError, useEmulator } from "../../../test/stripe-emulator-kit.ts";

const t = await useEmulator();

const paidIntent = async () => {
  const customer = await t.stripe.customers.create({ email: "expand@example.com" });
  const pm = await t.stripe.paymentMethods.attach("pm_card_visa", { customer: customer.id });
  await t.stripe.customers.update(customer.id, {
    invoice_settings: { default_payment_method: pm.id },
  });
  const intent = await t.stripe.paymentIntents.create({
    amount: 1200,
    currency: "usd",
    customer: customer.id,
    confirm: true,
    off_session: true,
  });
  return { customer, pm, intent };
};

const refused = async (fn: () => Promise<unknown>, path: string) => {
  const error = await stripeError(fn);
  expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
  expect(error).toMatchObject({
    statusCode: 400,
    type: "StripeInvalidRequestError",
    param: "expand",
    message: `This property cannot be expanded (${path}).`,
  });
};

describe("expand[]", () => {
  it("expands the fields Stripe documents as expandable, nested and in lists", async () => {
    const { customer, pm, intent } = await paidIntent();
    const expanded = await t.stripe.paymentIntents.retrieve(intent.id, {
      expand: ["latest_charge.customer", "customer.invoice_settings.default_payment_method"],
    });
    const charge = expanded.latest_charge as Stripe.Charge;
    expect(charge).toMatchObject({ object: "charge", payment_intent: intent.id });
    expect((charge.customer as Stripe.Customer).id).toBe(customer.id);
    const owner = expanded.customer as Stripe.Customer;
    expect((owner.invoice_settings.default_payment_method as Stripe.PaymentMethod).id).toBe(pm.id);

    const methods = await t.stripe.paymentMethods.list({
      customer: customer.id,
      expand: ["data.customer"],
    });
    expect(methods.data.map((m) => (m.customer as Stripe.Customer).email)).toEqual([
      "expand@example.com",
    ]);
    // A null expandable field stays null.
    const plain = await t.stripe.customers.create({ email: "plain@example.com" });
    const same = await t.stripe.customers.retrieve(plain.id, {
      expand: ["invoice_settings.default_payment_method", "test_clock"],
    });
    expect((same as Stripe.Customer).invoice_settings.default_payment_method).toBeNull();
  });

  it("answers 400 naming expand for a field that is not expandable, even one holding an id", async () => {
    const { customer, pm, intent } = await paidIntent();
    await refused(() => t.stripe.customers.retrieve(customer.id, { expand: ["id"] }), "id");
    await refused(() => t.stripe.paymentIntents.retrieve(intent.id, { expand: ["id"] }), "id");
    // `latest_charge` is an id, but `payment_method` of a charge is not expandable in Stripe.
    await refused(
      () =>
        t.stripe.charges.retrieve(intent.latest_charge as string, { expand: ["payment_method"] }),
      "payment_method",
    );
    await refused(
      () =>
        t.stripe.paymentIntents.retrieve(intent.id, { expand: ["latest_charge.payment_method"] }),
      "latest_charge.payment_method",
    );
    await refused(() => t.stripe.paymentMethods.retrieve(pm.id, { expand: ["card"] }), "card");
    await refused(
      () => t.stripe.customers.retrieve(customer.id, { expand: ["nothing"] }),
      "nothing",
    );
    // Lists expand through `data.` only.
    await refused(() => t.stripe.customers.list({ limit: 1, expand: ["customer"] }), "customer");
    await refused(() => t.stripe.customers.list({ limit: 1, expand: ["data.id"] }), "data.id");
    const [event] = (await t.stripe.events.list({ limit: 1 })).data;
    await refused(
      () => t.stripe.events.retrieve(event?.id as string, { expand: ["data.object"] }),
      "data.object",
    );
  });
});
